package indexer_test

// Helpers shared by the indexer's external tests (package indexer_test).

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/indexer"
)

// sampleRoot is the bundled dataset, made by testdata/make-sample.sh.
func sampleRoot(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs("../testdata/sample")
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// copyTree copies a dataset tree (symlinks kept as links) into a new folder.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s: %v\n%s", src, err, out)
	}
	return dst
}

// newIndex opens a new index in dir, closed when the test ends.
func newIndex(t *testing.T, dir string) *indexer.Index {
	t.Helper()
	ix, err := indexer.OpenIndex(context.Background(), filepath.Join(dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

// columns is a cache read back as torchvision's keys list it, one list per
// key, to compare with what a peer prints.
type columns struct {
	Paths              []string
	Pts                [][]int64
	FPS                []*float64
	FPSInt             []bool
	Labels, ClipCounts []int64
}

func columnsOf(f *cachefmt.File) columns {
	var c columns
	for _, v := range f.Videos {
		c.Paths, c.Pts, c.FPS, c.FPSInt = append(c.Paths, v.Path), append(c.Pts, v.Pts), append(c.FPS, v.FPS), append(c.FPSInt, v.FPSInt)
		c.Labels, c.ClipCounts = append(c.Labels, v.Label), append(c.ClipCounts, v.ClipCount)
	}
	return c
}
