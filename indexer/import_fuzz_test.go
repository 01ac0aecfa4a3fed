package indexer_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/indexer"
)

// FuzzImport feeds mutated torchvision caches (the import fixtures, zip and
// legacy) through Import: no panic, no allocation beyond what the input
// holds, and whatever Import accepts must be a cache that reads back with
// as many videos as it reported. Zip inputs get fresh CRCs after mutation,
// so that the mutations reach the pickle instead of stopping at the zip
// reader's checksum.
func FuzzImport(f *testing.F) {
	seeds, err := filepath.Glob("testdata/import/*.pt")
	if err != nil || len(seeds) == 0 {
		f.Fatal("no import fixtures", err)
	}
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		in := filepath.Join(dir, "in.pt")
		if err := os.WriteFile(in, rezip(data), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "out.pt")
		res, err := indexer.Import(context.Background(), in, indexer.ImportOptions{Out: out, NoSync: true, CreatedAt: 1})
		if err != nil {
			if _, serr := os.Stat(out); serr == nil {
				t.Fatalf("import failed (%v) but wrote %s", err, out)
			}
			return
		}
		c, err := cachefmt.ReadFile(out)
		if err != nil {
			t.Fatalf("import wrote a cache that does not read back: %v", err)
		}
		if len(c.Videos) != res.Videos {
			t.Fatalf("import reported %d videos, the cache holds %d", res.Videos, len(c.Videos))
		}
	})
}

// rezip rewrites a zip with its entries' current bytes and correct CRCs; any
// other input is returned as it is.
func rezip(data []byte) []byte {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return data
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		if f.Method != zip.Store {
			return data
		}
		r, err := f.OpenRaw()
		if err != nil {
			return data
		}
		b, err := io.ReadAll(r)
		if err != nil {
			return data
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Store})
		if err != nil {
			return data
		}
		w.Write(b)
	}
	if zw.Close() != nil {
		return data
	}
	return buf.Bytes()
}
