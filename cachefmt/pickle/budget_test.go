package pickle_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/cachefmt/pickle"
)

// budgetFiles are small hostile files that once made audit or inspect spend
// gigabytes or minutes (issue #15, item 5).
func budgetFiles(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{}
	put := func(name string, b []byte) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files[name] = p
	}
	zipOf := func(recs ...func(z *zip.Writer)) []byte {
		var buf bytes.Buffer
		z := zip.NewWriter(&buf)
		for _, r := range recs {
			r(z)
		}
		if err := z.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	// A deflated data.pkl declaring a 512 MiB BINBYTES8 of zeros (a few
	// hundred KB compressed): read and discarded, never held.
	put("binbytes8-512MiB.pt", zipOf(func(z *zip.Writer) {
		w, err := z.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		n := uint64(512 << 20)
		w.Write(append([]byte{0x80, 2, 0x8e}, binary.LittleEndian.AppendUint64(nil, n)...))
		zero := make([]byte, 1<<20)
		for i := uint64(0); i < n>>20; i++ {
			w.Write(zero)
		}
		w.Write([]byte{'.'})
	}))
	// A record that declares 4 GiB uncompressed: over the inflate budget,
	// refused from its header.
	put("declares-4GiB.pt", zipOf(func(z *zip.Writer) {
		var raw bytes.Buffer
		fw, _ := flate.NewWriter(&raw, flate.BestSpeed)
		fw.Write([]byte{0x80, 2, '}', '.'})
		fw.Close()
		w, err := z.CreateRaw(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Deflate,
			CompressedSize64: uint64(raw.Len()), UncompressedSize64: 4 << 30})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(raw.Bytes())
	}))
	// Zips nested 12 deep.
	inner := zipOf(func(z *zip.Writer) {
		w, _ := z.Create("archive/data.pkl")
		w.Write([]byte{0x80, 2, '}', '.'})
	})
	for i := 0; i < 12; i++ {
		in := inner
		inner = zipOf(func(z *zip.Writer) {
			w, _ := z.Create("archive/data.pkl")
			w.Write([]byte{0x80, 2, '}', '.'})
			w, _ = z.CreateHeader(&zip.FileHeader{Name: "archive/data/0", Method: zip.Store})
			w.Write(in)
		})
	}
	put("nested-12.pt", inner)
	// A million nested lists (2 MB): inspect's readers recursed through it.
	var nl bytes.Buffer
	nl.Write([]byte{0x80, 2})
	nl.Write(bytes.Repeat([]byte{']'}, 1<<20))
	nl.Write(bytes.Repeat([]byte{'a'}, 1<<20-1))
	nl.WriteByte('.')
	put("nested-lists.pkl", nl.Bytes())
	// 20 million MARKs (20 MB).
	put("marks.pkl", append(bytes.Repeat([]byte{'('}, 20<<20), '.'))
	// An integer of 10 million digits (quadratic to parse).
	put("long-digits.pkl", append(append([]byte("L"), bytes.Repeat([]byte("9"), 10<<20)...), []byte("L\n.")...))
	return files
}

// TestAuditBudgets: each budget file is audited and loaded within seconds
// and without holding its declared sizes in memory: audit calls it unsafe
// (not fully scanned), never safe; the loader refuses it with an error.
func TestAuditBudgets(t *testing.T) {
	for name, p := range budgetFiles(t) {
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		r, err := pickle.AuditContext(context.Background(), p)
		took := time.Since(start)
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if took > 10*time.Second {
			t.Errorf("%s: audit took %v", name, took)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<20 {
			t.Errorf("%s: audit allocated %d MB", name, grew>>20)
		}
		if r == nil {
			t.Errorf("%s: no report: %v", name, err)
			continue
		}
		switch name {
		case "binbytes8-512MiB.pt":
			// Only big: scanned in full (BINBYTES8 is no weights_only opcode).
			if err != nil || len(r.Incomplete) != 0 || r.Opcodes["BINBYTES8"] != 1 {
				t.Errorf("%s: %v %+v", name, err, r)
			}
		default:
			if r.SafeFor(pickle.Torch2) || r.SafeFor(pickle.Torch113) || len(r.Incomplete) == 0 {
				t.Errorf("%s: %v, incomplete %q, verdicts %+v", name, err, r.Incomplete, r.Verdicts)
			}
		}
		start = time.Now()
		_, lerr := cachefmt.Load(p)
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("%s: load took %v", name, took)
		}
		if name != "binbytes8-512MiB.pt" && name != "declares-4GiB.pt" && name != "nested-12.pt" &&
			(lerr == nil || !errors.Is(lerr, pickle.ErrTooComplex) && !strings.Contains(lerr.Error(), "too complex")) {
			t.Errorf("%s: load: %v", name, lerr)
		}
	}
}

// TestAuditHonoursCancel: a cancelled context stops an audit of a big file.
func TestAuditHonoursCancel(t *testing.T) {
	p := budgetFiles(t)["binbytes8-512MiB.pt"]
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := pickle.AuditContext(ctx, p); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled audit: %v", err)
	}
}
