package indexer_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/cachefmt/clips"
	"github.com/vidcache/vidcache/cachefmt/vocab"
	"github.com/vidcache/vidcache/indexer"
)

// TestGoldenCaches pins the bytes of the caches vidcache writes: the
// sample's train split built for each target and mode, and two torchvision
// caches imported. A refactoring must leave every byte as it was; a change
// of the format is made on purpose, by writing the files again
// (VIDCACHE_WRITE_GOLDEN=1) in the commit that changes it, and the tool
// version is pinned so a release does not change them.
func TestGoldenCaches(t *testing.T) {
	defer func(v string) { indexer.Version = v }(indexer.Version)
	indexer.Version = "golden"
	root, err := filepath.Abs("../testdata/sample")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ix, err := indexer.OpenIndex(context.Background(), filepath.Join(dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	spec := clips.Spec{FramesPerClip: 4, StepBetweenClips: 2}
	builds := []struct {
		name   string
		target vocab.Target
		mode   vocab.Mode
	}{
		{"torchvision-scan.pt", vocab.TargetTorchvision, vocab.ModeScan},
		{"pyav-fast.pt", vocab.TargetPyAV, vocab.ModeFast},
		{"pyav-exact.pt", vocab.TargetPyAV, vocab.ModeExact},
	}
	got := map[string]string{}
	for _, b := range builds {
		out := filepath.Join(dir, b.name)
		_, err := indexer.Build(context.Background(), ix, indexer.BuildOptions{
			Config: cachefmt.Config{Root: root, Spec: spec, Target: b.target, Mode: b.mode, RootAs: "/data/kinetics", CreatedUnix: 1},
			Jobs:   2, Out: out, NoSync: true})
		if err != nil {
			t.Fatalf("%s: %v", b.name, err)
		}
		got[b.name] = out
	}
	for _, in := range []string{"tv0.21-kinetics.pt", "tv0.27-kinetics.pt"} {
		out := filepath.Join(dir, "imported-"+in)
		if _, err := indexer.Import(context.Background(), filepath.Join("testdata/import", in), indexer.ImportOptions{Out: out, NoSync: true, CreatedAt: 1}); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		got["imported-"+in] = out
	}
	for name, p := range got {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata/golden", name)
		if os.Getenv("VIDCACHE_WRITE_GOLDEN") != "" {
			if err := os.WriteFile(golden, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, want) {
			t.Errorf("%s: %d bytes differ from %s (%d bytes)", name, len(b), golden, len(want))
		}
	}
}
