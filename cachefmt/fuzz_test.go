package cachefmt

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vidcache/vidcache/cachefmt/clips"
	"github.com/vidcache/vidcache/cachefmt/pickle"
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
		c := &Cache{Config: Config{Root: string(names), Split: "s", Extensions: paths, Spec: clips.Spec{FramesPerClip: 1, StepBetweenClips: 1}, Target: vocab.TargetPyAV, Mode: vocab.ModeFast, CreatedUnix: created}}
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
	if extra, err := filepath.Glob("pickle/testdata/audit/*.p*"); err == nil {
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
		if r, err := pickle.Audit(path); err == nil && len(r.Verdicts) != len(pickle.Generations) {
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
