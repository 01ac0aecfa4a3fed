package indexer

// Helpers shared by the indexer's internal tests: a private copy of the
// sample, a fresh index, and a build that records what it probed.

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vidcache/vidcache/cachefmt/clips"

	"github.com/vidcache/vidcache/cachefmt"
)

// copySample copies the sample dataset into a fresh folder.
func copySample(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "ds")
	if err := os.CopyFS(root, os.DirFS("../testdata/sample")); err != nil {
		t.Fatal(err)
	}
	return root
}

// recorder remembers which paths were probed.
type recorder struct{ paths []string }

func (r *recorder) Start(int) { r.paths = nil }

func (r *recorder) Done(p string, _ bool) { r.paths = append(r.paths, p) }

func (r *recorder) Finish() {}

func (r *recorder) rel(root string) []string { return relAll(r.paths, root) }

func relAll(ps []string, root string) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, strings.TrimPrefix(p, root+"/train/"))
	}
	sort.Strings(out)
	return out
}

func build(t *testing.T, ix *Index, root string, mut func(*BuildOptions)) (*BuildResult, []string) {
	t.Helper()
	rec := &recorder{}
	o := BuildOptions{Config: cachefmt.Config{Root: root, Spec: clips.Spec{FramesPerClip: 4, StepBetweenClips: 1}, CreatedUnix: 7}, Jobs: 2, Out: filepath.Join(filepath.Dir(root), "cache.pt"), Progress: rec, NoSync: true}
	if mut != nil {
		mut(&o)
	}
	res, err := Build(context.Background(), ix, o)
	if err != nil {
		t.Fatal(err)
	}
	return res, rec.rel(root)
}

func openIx(t *testing.T) *Index {
	t.Helper()
	ix, err := OpenIndex(context.Background(), filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}
