package cachefmt

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vidcache/vidcache/cachefmt/clips"
	"github.com/vidcache/vidcache/cachefmt/torchfile"
	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// FuzzPickleRoundTrip derives a cache from arbitrary bytes (paths, classes,
// timestamps, fps, a config), writes it and reads it back with gopickle: what
// comes back must equal what went in.
func FuzzPickleRoundTrip(f *testing.F) {
	f.Add([]byte("a/b.mp4\x00c d/é.avi"), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, 25.0, int64(0))
	f.Add([]byte(""), []byte{}, 0.0, int64(-1))
	f.Add([]byte("x\x00y\x00z"), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, 29.97002997002997, int64(1<<40))
	f.Fuzz(func(t *testing.T, names, ptsBytes []byte, fps float64, created int64) {
		var paths []string
		if len(names) > 0 {
			paths = strings.Split(string(names), "\x00")
		}
		if len(paths) > 200 {
			paths = paths[:200]
		}
		var all []int64
		for i := 0; i+8 <= len(ptsBytes) && i < 8*4096; i += 8 {
			all = append(all, int64(binary.LittleEndian.Uint64(ptsBytes[i:])))
		}
		c := &Cache{Config: Config{Root: string(names), Split: "s", Extensions: paths, Spec: clips.Spec{FramesPerClip: 1, StepBetweenClips: 1}, Target: vocab.TargetPyAV, Mode: "fast", CreatedUnix: created}}
		if fps == fps { // NaN cannot be compared for equality
			c.Config.FrameRate = &fps
		}
		c.Classes = []string{"only"}
		pts := make([][]int64, len(paths))
		for i, p := range paths {
			n := 0
			if len(all) > 0 {
				n = (i * 7) % (len(all) + 1)
			}
			pts[i] = all[:n]
			v := Video{Path: p, NumFrames: int64(n), ClipCount: int64(i)}
			if i%2 == 0 && fps == fps {
				v.FPS = &fps
			}
			c.Videos = append(c.Videos, v)
		}
		c.Pts = func(i int) ([]int64, error) { return pts[i], nil }
		path := filepath.Join(t.TempDir(), "f.pt")
		if err := WriteFile(path, c, Options{NoSync: true}); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Videos) != len(paths) {
			t.Fatalf("%d videos back, %d in", len(got.Videos), len(paths))
		}
		for i, v := range got.Videos {
			if v.Path != paths[i] || !reflect.DeepEqual(v.FPS, c.Videos[i].FPS) || v.NumFrames != int64(len(pts[i])) ||
				len(v.Pts) != len(pts[i]) || (len(pts[i]) > 0 && !reflect.DeepEqual(v.Pts, pts[i])) ||
				v.ClipCount != int64(i) {
				t.Fatalf("video %d differs", i)
			}
		}
		if !reflect.DeepEqual(got.Config.FrameRate, c.Config.FrameRate) || got.Config.CreatedUnix != created || got.Config.Root != c.Config.Root {
			t.Fatalf("config differs: %+v", got.Config)
		}
	})
}

// FuzzInspect feeds arbitrary bytes to Audit, Load and Describe: they must return
// an error or a description, never panic, hang or allocate without bound.
func FuzzInspect(f *testing.F) {
	c, _ := sampleCache()
	dir := f.TempDir()
	p := filepath.Join(dir, "seed.pt")
	if err := WriteFile(p, c, Options{NoSync: true}); err != nil {
		f.Fatal(err)
	}
	seed, _ := os.ReadFile(p)
	f.Add(seed)
	f.Add([]byte("\x80\x02}q\x00."))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	if extra, err := filepath.Glob("testdata/audit/*.p*"); err == nil {
		for _, e := range extra {
			b, _ := os.ReadFile(e)
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "in.pt")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if r, err := Audit(path); err == nil && len(r.Verdicts) != len(Generations) {
			t.Fatalf("audit graded %d generations", len(r.Verdicts))
		}
		l, err := Load(path)
		if err != nil {
			return
		}
		var b strings.Builder
		Describe(l.Value, 4).Text(&b, "")
	})
}

// FuzzAudit feeds mutated torch files and pickles to audit: no crash, an
// answer within the time budget, and a verdict consistent with what it
// reports — a file called safe for a generation names only globals that
// generation allows, uses only its opcodes, and was scanned in full; and a
// global named anywhere in the bytes as "cos\nsystem\n" is never safe.
func FuzzAudit(f *testing.F) {
	ents, err := os.ReadDir("testdata/audit")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".pt") || strings.HasSuffix(e.Name(), ".pkl") {
			b, err := os.ReadFile(filepath.Join("testdata/audit", e.Name()))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte("cos\nsystem\n(S'true'\ntR."))
	f.Add([]byte("\x80\x04\x8c\x08builtins\x94\x8c\x04exec\x94\x93\x94."))
	f.Fuzz(func(t *testing.T, data []byte) {
		// A watchdog: an input that runs away crashes the worker with every
		// goroutine's stack, so the fuzzer keeps it as a crasher instead of
		// waiting on it.
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				buf := make([]byte, 1<<20)
				panic(fmt.Sprintf("FuzzAudit: one input ran for 30 s:\n%s", buf[:runtime.Stack(buf, true)]))
			}
		}()
		p := filepath.Join(t.TempDir(), "in.pt")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		r, err := AuditContext(ctx, p)
		if time.Since(start) > 15*time.Second {
			t.Fatalf("audit took %v", time.Since(start))
		}
		if r == nil {
			if err == nil {
				t.Fatal("no report and no error")
			}
			return
		}
		// The differential oracle: where Go's archive/zip and the
		// miniz-faithful reading see different pickles, the file is unsafe.
		if why := zipReadersDisagree(data); why != "" {
			for _, g := range Generations {
				if r.SafeFor(g.Name) {
					t.Fatalf("safe for %s although %s", g.Name, why)
				}
			}
		}
		for _, g := range Generations {
			if !r.SafeFor(g.Name) {
				continue
			}
			if err != nil || len(r.Incomplete) > 0 {
				t.Fatalf("safe for %s despite %v / incomplete %q", g.Name, err, r.Incomplete)
			}
			for o := range r.Opcodes {
				if !g.opcodes[o] {
					t.Fatalf("safe for %s with opcode %s", g.Name, o)
				}
			}
			for _, fd := range r.Globals {
				if fd.Op != "GLOBAL" || !g.globals[g.resolve(fd.module, fd.name)] {
					t.Fatalf("safe for %s with %s %s", g.Name, fd.Op, fd.Global)
				}
			}
			if bytes.Contains(data, []byte("cos\nsystem\n")) && r.Kind != "torch zip" {
				// Text GLOBALs are parsed wherever a pickle stream reaches them.
				for _, fd := range r.Globals {
					if fd.Global == "os.system" {
						t.Fatalf("safe for %s naming os.system", g.Name)
					}
				}
			}
		}
	})
}

// zipReadersDisagree compares Go's archive/zip reading of data with the
// torch-faithful one (torchfile): which entries there are, and the bytes of
// every .pkl entry. It returns why they differ, or "".
func zipReadersDisagree(data []byte) string {
	ra := bytes.NewReader(data)
	tf, err := torchfile.Open(ra, int64(len(data)))
	if err != nil {
		return ""
	}
	zr, zerr := zip.NewReader(ra, int64(len(data)))
	torchZip := tf.Kind == torchfile.KindZip && tf.Zip != nil
	switch {
	case zerr != nil && !torchZip:
		return ""
	case zerr != nil:
		return "torch reads a zip Go's archive/zip refuses: " + zerr.Error()
	case !torchZip:
		return "Go's archive/zip reads a zip torch reads as " + tf.Kind.String()
	case len(zr.File) != len(tf.Zip.Records):
		return fmt.Sprintf("Go reads %d entries, torch %d", len(zr.File), len(tf.Zip.Records))
	}
	for i, zf := range zr.File {
		rec := &tf.Zip.Records[i]
		if zf.Name != rec.Name {
			return fmt.Sprintf("entry %d: Go %q, torch %q", i, zf.Name, rec.Name)
		}
		if !strings.HasSuffix(strings.ToLower(zf.Name), ".pkl") {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return "Go cannot open " + zf.Name
		}
		gb, gerr := io.ReadAll(io.LimitReader(rc, 1<<20))
		rc.Close()
		tb, terr := io.ReadAll(io.LimitReader(tf.Zip.Reader(ra, rec), 1<<20))
		if (gerr == nil) != (terr == nil) || !bytes.Equal(gb, tb) {
			return "the readers see different bytes in " + zf.Name
		}
		if torchRec := tf.Zip.Lookup(strings.TrimPrefix(rec.Name, tf.Zip.Prefix+"/")); torchRec != rec {
			return "torch's lookup of " + rec.Name + " finds another entry"
		}
	}
	return ""
}
