package pickle_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/cachefmt/pickle"
	"github.com/vidcache/vidcache/cachefmt/torchpeer"
)

// differentialFile is one entry of the differential.json that
// torchpeer/scripts/differential.py writes.
type differentialFile struct {
	Name, Path, Marker, Kind, Trick string
	// Torch: the torches (1.13, 2.6, 2.14) expected to run the payload with
	// weights_only=False; Python: what Python's zipfile/tarfile read there.
	Torch  []string
	Python string
}

// differentialTry is one torch.load of a file in a forked child.
type differentialTry struct {
	Ran    bool   `json:"ran"`
	Loaded bool   `json:"loaded"`
	Error  string `json:"error"`
}

type differentialProof struct {
	Torch string `json:"torch"`
	// Files: file name → mode ("full": weights_only=False, "default":
	// torch.load(path); bombs only "weights_only": weights_only=True).
	Files map[string]map[string]differentialTry `json:"files"`
}

// TestAuditDifferential: the parser-differential battery (torchpeer/
// scripts/differential.py). Every hostile file is laid out so that torch
// reads a code-running pickle where another parser (Python's zipfile or
// tarfile, Go's archive/zip or archive/tar, a naive reader) reads a benign
// decoy: two central directories, zip64 records the EOCD does not ask for,
// end records in comments, trailing and windowed end records, directory
// attributes, duplicate, case-variant and NUL names, local names, short
// entry counts, bad CRCs; tars only Go or only Python accepts, member types,
// links, Solaris/global extended headers, prefix fields, NUL-prefixed sizes,
// extraction failures under Python 3.14's filter (torch 2.14 then unpickles
// byte 0);
// polyglots of legacy pickles, tars and zips in each order; torchvision
// metadata zips with extra values built by io.open, codecs.open, os.system
// and getattr chains. Each is loaded by torch 1.13, 2.6 and 2.14 with
// weights_only=False (and with the default) in a forked child: the payload
// must run in at least one. Then audit must call every hostile file unsafe
// (not merely unreadable) for both generations, Load must fail or show a
// global outside torch 2.x's allowlist (the pickle torch runs, never the
// decoy), ReadFile must fail, no marker may appear, and audit and Load
// stay within 10 s. The bombs (flat containers of millions of items, a
// 1.2 GB storage deflated to 1.1 MB) are benign: audit, Load and inspect's
// Describe each stay within 10 s and 256 MB of allocation, and the
// big-storage file is safe for torch 2.x (which loads it with
// weights_only=True).
//
// Failures carry a tag in brackets ([audit-safe], [audit-unreadable-only],
// [load-decoy], [readfile-ok], ...): a checklist for the reader.
func TestAuditDifferential(t *testing.T) {
	stacks := []*torchpeer.Stack{torchpeer.Bookworm(t), torchpeer.Trixie(t), torchpeer.Sid(t)}
	dir := t.TempDir()
	var n struct{ Hostile, Bomb int }
	stacks[0].RunJSON(t, []string{dir}, &n, "differential.py", "hostile", dir)
	if n.Hostile < 60 || n.Bomb < 5 {
		t.Fatalf("differential.py wrote %d hostile files and %d bombs", n.Hostile, n.Bomb)
	}
	files := readDifferential(t, dir)
	// Each torch runs every hostile file; the bombs (slow in 2.x's pure-Python
	// weights_only unpickler) only torch 2.14, whose loading them is the
	// premise of the budgets below.
	var proofs []*differentialProof
	for i, s := range stacks {
		kinds := []string{"zip,tar,polyglot,import"}
		if i == len(stacks)-1 {
			kinds = nil
		}
		p := &differentialProof{}
		s.RunJSON(t, []string{dir}, p, "differential.py", append([]string{"prove", dir}, kinds...)...)
		proofs = append(proofs, p)
	}
	for _, f := range files {
		if f.Kind == "bomb" {
			var loads []string
			for _, p := range proofs {
				if r, ok := p.Files[f.Name]; ok {
					loads = append(loads, fmt.Sprintf("%s weights_only=True: %s", torchShort(p.Torch), tryResult(r["weights_only"])))
				}
			}
			t.Logf("%s (%s): %s", f.Name, f.Trick, strings.Join(loads, "; "))
			if f.Name == "bomb-storage-1.2GB.pt" {
				for _, p := range proofs {
					if torchShort(p.Torch) == "2.14" && !p.Files[f.Name]["weights_only"].Loaded {
						t.Errorf("%s: torch 2.14 no longer loads it with weights_only=True (%s): the safe verdict below has no ground",
							f.Name, p.Files[f.Name]["weights_only"].Error)
					}
				}
			}
			continue
		}
		var full, dflt, why []string
		for _, p := range proofs {
			v, r := torchShort(p.Torch), p.Files[f.Name]
			if r["full"].Ran {
				full = append(full, v)
			}
			if r["default"].Ran {
				dflt = append(dflt, v)
			}
			if !r["full"].Ran {
				why = append(why, fmt.Sprintf("%s: %s", v, tryResult(r["full"])))
			}
		}
		if len(full)+len(dflt) == 0 {
			t.Errorf("%s: the payload ran in no torch (%s)", f.Name, strings.Join(why, "; "))
			continue
		}
		note := ""
		if !slices.Equal(full, f.Torch) {
			note = fmt.Sprintf(" (expected %v; the others: %s)", f.Torch, strings.Join(why, "; "))
		}
		t.Logf("%s: ran in torch %v with weights_only=False%s, %v with the default; %s; Go: %s",
			f.Name, full, note, dflt, f.Python, goView(f.Path))
	}
	checkDifferential(t, files)
}

func readDifferential(t *testing.T, dir string) []differentialFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "differential.json"))
	if err != nil {
		t.Fatal(err)
	}
	var files []differentialFile
	if err := json.Unmarshal(b, &files); err != nil {
		t.Fatal(err)
	}
	return files
}

// torchShort is "1.13" for "1.13.0a0", "2.6" for "2.6.0+debian".
func torchShort(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' })
}

func tryResult(r differentialTry) string {
	switch {
	case r.Loaded:
		return "loaded"
	case r.Error == "":
		return "not tried"
	}
	return r.Error
}

// goView is what Go's archive/zip (the first directory's data.pkl, the
// first and the last of that name) and archive/tar (the last 'pickle' and
// 'storages' members) read in a file: "hostile", "decoy" or an error.
func goView(path string) string {
	tag := func(r io.Reader) string {
		b, err := io.ReadAll(io.LimitReader(r, 1<<20))
		switch {
		case bytes.Contains(b, []byte(".ran")):
			return "hostile"
		case bytes.Contains(b, []byte("decoy")):
			return "decoy"
		case err != nil:
			return "error " + err.Error()
		}
		return "other"
	}
	var out []string
	if zr, err := zip.OpenReader(path); err != nil {
		out = append(out, "archive/zip: "+err.Error())
	} else {
		defer zr.Close()
		var picks []string
		if len(zr.File) > 0 {
			top, _, _ := strings.Cut(zr.File[0].Name, "/")
			for _, f := range zr.File {
				if f.Name != top+"/data.pkl" {
					continue
				}
				rc, err := f.Open()
				if err != nil {
					picks = append(picks, "error "+err.Error())
					continue
				}
				picks = append(picks, tag(rc))
				rc.Close()
			}
		}
		switch len(picks) {
		case 0:
			out = append(out, "archive/zip: no data.pkl")
		case 1:
			out = append(out, "archive/zip: data.pkl "+picks[0])
		default:
			out = append(out, fmt.Sprintf("archive/zip: %d data.pkl, first %s, last %s", len(picks), picks[0], picks[len(picks)-1]))
		}
	}
	if f, err := os.Open(path); err == nil {
		defer f.Close()
		tr := tar.NewReader(f)
		got := map[string]string{}
		var err error
		for {
			var h *tar.Header
			if h, err = tr.Next(); err != nil {
				break
			}
			if h.Name == "pickle" || h.Name == "storages" {
				got[h.Name] = tag(tr)
			}
		}
		if err == io.EOF || len(got) > 0 {
			out = append(out, fmt.Sprintf("archive/tar: storages %s, pickle %s (%v)", got["storages"], got["pickle"], err))
		}
	}
	return strings.Join(out, "; ")
}

// checkDifferential holds every file differential.py wrote to the readers'
// promises (see TestAuditDifferential): the part that needs no torch.
func checkDifferential(t *testing.T, files []differentialFile) {
	var torch2 *pickle.Generation
	for i := range pickle.Generations {
		if pickle.Generations[i].Name == pickle.Torch2 {
			torch2 = &pickle.Generations[i]
		}
	}
	for _, f := range files {
		if f.Kind == "bomb" {
			checkBomb(t, f)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		start := time.Now()
		r, err := pickle.AuditContext(ctx, f.Path)
		cancel()
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("%s [audit-slow]: audit took %v", f.Name, took)
		}
		if r == nil {
			t.Errorf("%s [audit-no-report]: %v", f.Name, err)
		} else {
			for _, g := range []string{pickle.Torch113, pickle.Torch2} {
				if r.SafeFor(g) {
					t.Errorf("%s [audit-safe]: audit calls it safe for %s (%s; kind %q; globals %s)", f.Name, g, f.Trick, r.Kind, globalsOf(r))
				}
			}
			if !r.Unsafe() {
				t.Errorf("%s [audit-unreadable-only]: a file torch runs code from is reported only as unreadable (%v)", f.Name, err)
			}
		}
		start = time.Now()
		l, lerr := cachefmt.Load(f.Path)
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("%s [load-slow]: Load took %v", f.Name, took)
		}
		if lerr == nil {
			shown := false
			for _, g := range l.Globals {
				if !torch2.Policy.Lists(g) {
					shown = true
				}
			}
			if !shown {
				var b strings.Builder
				cachefmt.Describe(l.Value, 1).Text(&b, "")
				t.Errorf("%s [load-decoy]: Load reads a pickle naming only allowlisted globals %v (%s), not the one torch runs",
					f.Name, l.Globals, strings.Join(strings.Fields(b.String()), " "))
			}
		}
		if _, err := cachefmt.ReadFile(f.Path); err == nil {
			t.Errorf("%s [readfile-ok]: ReadFile reads it as a cache", f.Name)
		}
		if _, err := os.Stat(f.Marker); err == nil {
			t.Errorf("%s [marker]: reading it created its marker", f.Name)
			os.Remove(f.Marker)
		}
	}
}

// checkBomb: audit, Load and inspect's structure (LoadWith StructureOnly,
// Describe at inspect's default depth, its text) each within 10 s and 256 MB
// of allocation; the big-storage file safe for torch 2.x.
func checkBomb(t *testing.T, f differentialFile) {
	measure := func(what string, fn func()) {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		fn()
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		if took > 10*time.Second {
			t.Errorf("%s [%s-slow]: %s took %v", f.Name, what, what, took)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<20 {
			t.Errorf("%s [%s-alloc]: %s allocated %d MB", f.Name, what, what, grew>>20)
		}
	}
	var r *pickle.AuditReport
	var err error
	measure("audit", func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		r, err = pickle.AuditContext(ctx, f.Path)
	})
	measure("load", func() { _, _ = cachefmt.Load(f.Path) })
	var lerr error
	measure("inspect", func() {
		var l *cachefmt.Loaded
		if l, lerr = cachefmt.LoadWith(f.Path, cachefmt.LoadOptions{StructureOnly: true}); lerr == nil {
			var b strings.Builder
			cachefmt.Describe(l.Value, 3).Text(&b, "  ")
		}
	})
	if f.Name == "bomb-storage-1.2GB.pt" {
		if r == nil || !r.SafeFor(pickle.Torch2) {
			var why string
			if r != nil {
				why = fmt.Sprintf("incomplete %q, verdicts %+v", r.Incomplete, r.Verdicts)
			}
			t.Errorf("%s [bomb-not-safe]: a tensor torch 2.x loads with weights_only=True is not safe for %s (%v; %s)", f.Name, pickle.Torch2, err, why)
		}
		if lerr != nil {
			t.Errorf("%s [inspect-refused]: inspect cannot describe it: %v", f.Name, lerr)
		}
	}
}
