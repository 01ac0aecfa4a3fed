package indexer_test

// Helpers shared by the indexer's external tests (package indexer_test).

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"

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
