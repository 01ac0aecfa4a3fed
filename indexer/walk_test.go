package indexer

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func relPaths(ds *Dataset) []string {
	var out []string
	for _, v := range ds.Videos {
		out = append(out, strings.TrimPrefix(v.Path, ds.Dir+"/"))
	}
	return out
}

func TestScanOrderAndClasses(t *testing.T) {
	root := t.TempDir()
	tr := filepath.Join(root, "train")
	for _, p := range []string{
		"b/nested/z.mp4", "b/nested/deeper/y.mp4", "b/nested-dir/x.mp4", "b/a.MP4", "b/c.avi", "b/skip.txt",
		"b/bmp4", "a/only.mp4", "Z/upper.mp4", ".hid/h.mp4",
	} {
		touch(t, filepath.Join(tr, p))
	}
	os.MkdirAll(filepath.Join(tr, "empty"), 0o755)
	os.MkdirAll(filepath.Join(tr, "b", "dir.mp4"), 0o755) // a folder with a video name is not a video
	os.WriteFile(filepath.Join(tr, "not-a-class.mp4"), nil, 0o644)
	if err := os.Symlink(filepath.Join(tr, "a"), filepath.Join(tr, "linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("nowhere.mp4", filepath.Join(tr, "a", "dangling.mp4")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(".", filepath.Join(tr, "a", "loop")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(tr, "a", "fifo.mp4"), 0o644); err != nil {
		t.Fatal(err)
	}

	ds, err := Scan(context.Background(), root, "train", []string{"avi", "mp4"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{".hid", "Z", "a", "b", "empty", "linked"}; !reflect.DeepEqual(ds.Classes, want) {
		t.Errorf("classes %q, want %q", ds.Classes, want)
	}
	// "b/nested-dir" < "b/nested" + "/..." since '-' < '/': the folders sort as
	// b, b/nested, b/nested-dir, b/nested/deeper.
	want := []string{
		".hid/h.mp4",
		"Z/upper.mp4",
		"a/dangling.mp4", "a/fifo.mp4", "a/only.mp4",
		"b/a.MP4", "b/bmp4", "b/c.avi", "b/nested/z.mp4", "b/nested-dir/x.mp4", "b/nested/deeper/y.mp4",
		"linked/dangling.mp4", "linked/fifo.mp4", "linked/only.mp4",
	}
	if got := relPaths(ds); !reflect.DeepEqual(got, want) {
		t.Errorf("videos\n got %q\nwant %q", got, want)
	}
	labels := map[string]int{}
	for _, v := range ds.Videos {
		labels[strings.SplitN(strings.TrimPrefix(v.Path, ds.Dir+"/"), "/", 2)[0]] = v.Label
	}
	if labels["b"] != 3 || labels["linked"] != 5 {
		t.Errorf("labels %v: empty class must keep its index", labels)
	}
	var warnedEmpty, warnedLoop bool
	for _, w := range ds.Warnings {
		warnedEmpty = warnedEmpty || strings.Contains(w, `"empty"`)
		warnedLoop = warnedLoop || strings.Contains(w, "symlink loop")
	}
	if !warnedEmpty || !warnedLoop {
		t.Errorf("warnings %q: want the empty class and the loop named", ds.Warnings)
	}
	for _, v := range ds.Videos {
		switch filepath.Base(v.Path) {
		case "dangling.mp4":
			if v.StatErr == nil || v.Regular() {
				t.Errorf("%s: want a stat error", v.Path)
			}
		case "fifo.mp4":
			if v.Regular() || v.Mode&os.ModeNamedPipe == 0 {
				t.Errorf("%s: a FIFO must not count as regular", v.Path)
			}
		default:
			if !v.Regular() || v.Size != 1 || v.Inode == 0 || v.MtimeNs == 0 {
				t.Errorf("%s: stat %+v", v.Path, v)
			}
		}
	}
}

func TestPyJoinAndLower(t *testing.T) {
	for _, c := range [][3]string{{"a", "b", "a/b"}, {"a/", "b", "a/b"}, {"", "b", "b"}, {"a", "/b", "/b"}, {"./x", "y", "./x/y"}} {
		if got := pyJoin(c[0], c[1]); got != c[2] {
			t.Errorf("pyJoin(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
	if got := lower("A\xffÉ.MP4"); got != "a\xffé.mp4" {
		t.Errorf("lower kept %q", got)
	}
	if !matchExt("x/Y.Mp4", []string{"mp4"}) || matchExt("x/y.mp4v", []string{"mp4"}) || !matchExt("bmp4", []string{"mp4"}) {
		t.Error("matchExt disagrees with str.lower().endswith")
	}
}

func TestScanErrors(t *testing.T) {
	root := t.TempDir()
	if _, err := Scan(context.Background(), root, "train", []string{"mp4"}); err == nil || !strings.Contains(err.Error(), "train") {
		t.Errorf("missing split: %v", err)
	}
	os.MkdirAll(filepath.Join(root, "train"), 0o755)
	if _, err := Scan(context.Background(), root, "train", []string{"mp4"}); err == nil || !strings.Contains(err.Error(), "no class folders") {
		t.Errorf("no classes: %v", err)
	}
}
