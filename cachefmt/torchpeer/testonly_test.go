package torchpeer

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOnlyTestsImportIt: torchpeer imports testing and runs peers as root;
// no file that goes into the binary may import it.
func TestOnlyTestsImportIt(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") || filepath.Dir(p) == "." {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), `"github.com/vidcache/vidcache/cachefmt/torchpeer"`) {
			t.Errorf("%s imports torchpeer; only tests may", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
