package indexer_test

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vidcache/vidcache/cachefmt/clips"
	"github.com/vidcache/vidcache/cachefmt/vocab"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/cachefmt/torchpeer"
	"github.com/vidcache/vidcache/indexer"
)

type original struct {
	VideoPaths []string   `json:"video_paths"`
	VideoPts   [][]int64  `json:"video_pts"`
	VideoFPS   []*float64 `json:"video_fps"`
	FPSTypes   []string   `json:"fps_types"`
	Labels     []int64    `json:"labels"`
	Classes    []string   `json:"classes"`
}

// TestImportMatchesPeers: every fixture, made by torchvision 0.14, 0.21 or
// 0.27, imports to a cache whose paths, pts, fps (and their int/float type)
// and labels equal what that torchvision reads from the original, for the
// target that torchvision needs (detected), and which torch 2.6 loads with
// weights_only=True. The 0.27 fixtures come from the sample without its two
// unreadable files, on which torchvision 0.27 raises.
func TestImportMatchesPeers(t *testing.T) {
	dir, _ := filepath.Abs("testdata/import")
	out := t.TempDir()
	for _, gen := range []struct {
		tag    string
		peer   func(testing.TB) *torchpeer.Stack
		videos int
		target vocab.Target
	}{{"tv0.14", torchpeer.Bookworm, 16, vocab.TargetPyAV}, {"tv0.21", torchpeer.Trixie, 16, vocab.TargetPyAV},
		{"tv0.27", torchpeer.Sid, 14, vocab.TargetTorchvision}} {
		t.Run(gen.tag, func(t *testing.T) {
			files, _ := filepath.Glob(filepath.Join(dir, gen.tag+"-*.pt"))
			if len(files) != 5 {
				t.Fatalf("%d fixtures for %s, want 5", len(files), gen.tag)
			}
			var want map[string]original
			gen.peer(t).RunJSON(t, []string{dir}, &want, "load_original.py", append([]string{dir}, files...)...)
			for _, f := range files {
				dst := filepath.Join(out, filepath.Base(f))
				res, err := indexer.Import(context.Background(), f, indexer.ImportOptions{Out: dst, NoSync: true})
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				file, err := cachefmt.ReadFile(dst)
				if err != nil {
					t.Fatal(err)
				}
				got := columnsOf(file)
				w := want[f]
				if len(w.VideoPaths) != gen.videos || !reflect.DeepEqual(got.Paths, w.VideoPaths) || !reflect.DeepEqual(got.FPS, w.VideoFPS) {
					t.Errorf("%s: paths/fps differ:\n got %q %v\nwant %q %v", f, got.Paths, got.FPS, w.VideoPaths, w.VideoFPS)
				}
				if res.Target != gen.target || file.Config.Target != gen.target {
					t.Errorf("%s: imported as target %s (cache %s), want %s", f, res.Target, file.Config.Target, gen.target)
				}
				for i, typ := range w.FPSTypes {
					if i < len(got.FPSInt) && got.FPSInt[i] != (typ == "int") {
						t.Errorf("%s: fps of %s is a %s, the import stores int=%v", f, w.VideoPaths[i], typ, got.FPSInt[i])
					}
				}
				for i := range w.VideoPts {
					if len(got.Pts[i]) != len(w.VideoPts[i]) || (len(w.VideoPts[i]) > 0 && !reflect.DeepEqual(got.Pts[i], w.VideoPts[i])) {
						t.Errorf("%s: pts of %s differ", f, w.VideoPaths[i])
					}
				}
				if w.Labels != nil && (!reflect.DeepEqual(got.Labels, w.Labels) || !reflect.DeepEqual(file.Classes, w.Classes) || res.LabelsFrom != "samples") {
					t.Errorf("%s: labels %v classes %q (from %s), want %v %q", f, got.Labels, file.Classes, res.LabelsFrom, w.Labels, w.Classes)
				}
				if r, err := indexer.Verify(context.Background(), dst, indexer.VerifyOptions{}); err != nil || !r.OK {
					t.Errorf("%s: imported cache does not verify: %+v %v", f, r, err)
				}
			}
		})
	}
	t.Run("loads-weights-only", func(t *testing.T) {
		var v struct {
			VideoPaths []string `json:"video_paths"`
		}
		p := filepath.Join(out, "tv0.21-reference-script.pt")
		torchpeer.Trixie(t).RunJSON(t, []string{out}, &v, "load_cache.py", p, "weights_only")
		if len(v.VideoPaths) != 16 {
			t.Errorf("torch 2.6 loaded %d paths", len(v.VideoPaths))
		}
	})
}

func TestImportRefusesAndWarns(t *testing.T) {
	out := t.TempDir()
	for name, want := range map[string]string{
		"refuse-unknown-layout.pt": "no video_paths",
		"refuse-tampered-types.pt": "video_pts[0]: a str is not a tensor",
		"refuse-truncated.pt":      "torch would refuse it",
	} {
		dst := filepath.Join(out, name)
		_, err := indexer.Import(context.Background(), filepath.Join("testdata/import", name), indexer.ImportOptions{Out: dst})
		if !errors.Is(err, indexer.ErrRefused) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want a refusal naming %q", name, err, want)
		}
		if _, err := os.Stat(dst); err == nil {
			t.Errorf("%s: refused, but wrote %s", name, dst)
		}
	}
	// A global outside the allowlist: refused, naming it, unless forced.
	m := filepath.Join(out, "m.pt")
	_, err := indexer.Import(context.Background(), "testdata/import/malicious-extra.pt", indexer.ImportOptions{Out: m})
	var oe *cachefmt.OptionError
	if !errors.Is(err, indexer.ErrRefused) || !strings.Contains(err.Error(), "posix.system") || !errors.As(err, &oe) || oe.Option != "force" {
		t.Errorf("malicious file: %v, want a refusal naming posix.system and the option force", err)
	}
	if _, err := os.Stat(m); err == nil {
		t.Error("refused, but wrote the cache")
	}
	res, err := indexer.Import(context.Background(), "testdata/import/malicious-extra.pt", indexer.ImportOptions{Out: m, Force: true})
	if err != nil || !reflect.DeepEqual(res.UnsafeGlobals, []string{"posix.system"}) || res.Videos != 16 {
		t.Errorf("malicious file, forced: %+v %v", res, err)
	}
}

// TestImportRecordsExistingVideos: when the videos exist (at their recorded
// paths, or under --dataset-root), import stores them in the index, marked
// as imported: a later exact-mode build probes them again (the file's
// timestamps are not taken for probe results), unless TrustImported, when it
// probes nothing; verify --root says the cache rests on imported data.
func TestImportRecordsExistingVideos(t *testing.T) {
	// The fixtures recorded their videos under /tmp/k400-sample; the copy
	// here stands for the same dataset moved to another machine.
	root := copyTree(t, sampleRoot(t))
	ix := newIndex(t, t.TempDir())
	res, err := indexer.Import(context.Background(), "testdata/import/tv0.21-reference-script-legacy.pt",
		indexer.ImportOptions{Out: filepath.Join(t.TempDir(), "c.pt"), Index: ix, DatasetRoot: root, RootAs: "/mnt/k400"})
	if err != nil || res.Indexed != 16 || res.Root != root {
		t.Fatalf("import: %+v %v", res, err)
	}
	v, err := indexer.Verify(context.Background(), res.Cache, indexer.VerifyOptions{Root: root, Index: ix})
	if err != nil || !v.OK || len(v.Notes) != 1 || !strings.Contains(v.Notes[0], "16 of 16 videos rest on imported timestamps") {
		t.Errorf("verify --root of the imported cache: %+v %v", v, err)
	}
	cfg := cachefmt.Config{Root: root, Target: vocab.TargetPyAV, Mode: vocab.ModeExact, Spec: clips.Spec{FramesPerClip: 4, StepBetweenClips: 2}}
	b, err := indexer.Build(context.Background(), ix, indexer.BuildOptions{Config: cfg, Out: filepath.Join(t.TempDir(), "b.pt"), NoSync: true, TrustImported: true})
	if err != nil || b.Probed != 0 || b.Reused != 16 {
		t.Errorf("build --trust-imported after import: %+v %v", b, err)
	}
	b, err = indexer.Build(context.Background(), ix, indexer.BuildOptions{Config: cfg, Out: filepath.Join(t.TempDir(), "b2.pt"), NoSync: true})
	if err != nil || b.Probed != 16 {
		t.Errorf("build after import: %+v %v", b, err)
	}
	f, _ := cachefmt.ReadFile(filepath.Join(filepath.Dir(res.Cache), "c.pt"))
	if f == nil || !strings.HasPrefix(f.Videos[0].Path, "/mnt/k400/train/") {
		t.Errorf("--root-as not applied: %v", f)
	}
}

// TestImportRefusesHostileViews: a metadata dict whose timestamp tensor
// declares a size, offset or stride beyond its one-element storage (2^60
// elements, negative, or large enough to overflow offset+size*stride) is
// refused by name; it must not allocate from the declared size or index out
// of the storage.
func TestImportRefusesHostileViews(t *testing.T) {
	str := func(s string) string {
		return "X" + string([]byte{byte(len(s)), 0, 0, 0}) + s
	}
	long := func(v int64) string {
		b := make([]byte, 8)
		for i := range b {
			b[i] = byte(uint64(v) >> (8 * i))
		}
		return "\x8a\x08" + string(b)
	}
	dir := t.TempDir()
	for i, view := range [][3]int64{
		{1 << 60, 0, 1},         // size
		{-5, 0, 1},              // negative size
		{2, 0, 1 << 62},         // stride: (n-1)*stride overflows nothing but is far out
		{3, 1 << 62, 1 << 62},   // offset+(n-1)*stride wraps around to a small number
		{1, 1, 1},               // offset one past the end
		{4, 0, 0},               // stride 0
		{1 << 62, 0, -(1 << 2)}, // negative stride
	} {
		tensor := "ctorch._utils\n_rebuild_tensor_v2\n(" +
			"(" + str("storage") + "ctorch\nLongStorage\n" + str("0") + str("cpu") + "K\x01tQ" +
			long(view[1]) + long(view[0]) + "\x85" + long(view[2]) + "\x85" + "\x89" +
			"ccollections\nOrderedDict\n)R" + "tR"
		pkl := "\x80\x02}(" + str("video_paths") + "]" + str("a.mp4") + "a" +
			str("video_pts") + "]" + tensor + "a" +
			str("video_fps") + "]Na" + "u."
		p := filepath.Join(dir, fmt.Sprintf("view%d.pt", i))
		writeTorchZip(t, p, map[string]string{"archive/data.pkl": pkl, "archive/data/0": "\x01\x00\x00\x00\x00\x00\x00\x00"})
		dst := p + ".out"
		_, err := indexer.Import(context.Background(), p, indexer.ImportOptions{Out: dst})
		if !errors.Is(err, indexer.ErrRefused) || !strings.Contains(err.Error(), "outside storage") {
			t.Errorf("view %v: %v, want a refusal naming the view", view, err)
		}
		if _, err := os.Stat(dst); err == nil {
			t.Errorf("view %v: refused, but wrote %s", view, dst)
		}
	}
}

func writeTorchZip(t *testing.T, path string, records map[string]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, name := range []string{"archive/data.pkl", "archive/data/0"} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(records[name]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestImportDigest: an imported cache is registered with the digest of its
// content, as a built one is: importing the same file again at another time
// gives the same digest, a different content (another root_as, another
// file) a different one.
func TestImportDigest(t *testing.T) {
	ix := newIndex(t, t.TempDir())
	dir := t.TempDir()
	digest := func(in, out string, opts indexer.ImportOptions) string {
		t.Helper()
		opts.Out, opts.Index, opts.NoSync = filepath.Join(dir, out), ix, true
		res, err := indexer.Import(context.Background(), filepath.Join("testdata/import", in), opts)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := ix.Cache(context.Background(), res.Cache)
		if err != nil || rec == nil {
			t.Fatalf("%s: not registered: %v", out, err)
		}
		if failed := map[string]int{"tv0.21-kinetics.pt": 2}[in]; len(rec.Digest) != 64 || rec.Failed != failed || rec.Videos != res.Videos || rec.Clips != res.Clips {
			t.Errorf("%s: registered %+v for %+v", out, rec, res)
		}
		return rec.Digest
	}
	a := digest("tv0.21-kinetics.pt", "a.pt", indexer.ImportOptions{CreatedAt: 1})
	if b := digest("tv0.21-kinetics.pt", "b.pt", indexer.ImportOptions{CreatedAt: 2}); b != a {
		t.Errorf("the same content, digests %s and %s", a, b)
	}
	if c := digest("tv0.21-kinetics.pt", "c.pt", indexer.ImportOptions{RootAs: "/mnt"}); c == a {
		t.Error("another root_as, the same digest")
	}
	if d := digest("tv0.27-kinetics.pt", "d.pt", indexer.ImportOptions{}); d == a {
		t.Error("another file, the same digest")
	}
}
