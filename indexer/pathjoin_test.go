package indexer

import (
	"sort"
	"testing"
)

// TestPathJoin: rows in bytewise path order find their videos whatever the
// dataset's (walk) order, including the "nested-dir" before "nested/deeper"
// case where the two orders disagree, and rows of files the dataset lacks
// find nothing.
func TestPathJoin(t *testing.T) {
	paths := []string{"/r/train/a/nested/deeper/x.mp4", "/r/train/a/nested-dir/y.mp4", "/r/train/a/z.mp4", "/r/train/b/\xff.mp4", "/r/train/b/a.mp4"}
	ds := &Dataset{}
	for _, p := range paths {
		ds.Videos = append(ds.Videos, Entry{Path: p})
	}
	rows := append([]string{"/r/train/a/gone.mp4", "/r/train/a/nested-dir/y.mp", "/r/train/c/late.mp4"}, paths...)
	sort.Strings(rows)
	j := newPathJoin(ds)
	found := map[string]int{}
	for _, r := range rows {
		if i := j.find([]byte(r)); i >= 0 {
			found[r] = i
		}
	}
	if len(found) != len(paths) {
		t.Fatalf("found %d of %d videos: %v", len(found), len(paths), found)
	}
	for i, p := range paths {
		if found[p] != i {
			t.Errorf("%q: index %d, want %d", p, found[p], i)
		}
	}
}
