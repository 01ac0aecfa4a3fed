package indexer

import (
	"cmp"
	"slices"
)

// pathJoin matches index rows, read in path order, with a dataset's videos
// without a path map: it walks the videos' indexes sorted by path (bytewise,
// as SQLite's BINARY collation sorts the index) alongside the rows, a merge
// join that costs 4 bytes a video.
type pathJoin struct {
	ds    *Dataset
	order []int32
	pos   int
}

func newPathJoin(ds *Dataset) *pathJoin {
	order := make([]int32, len(ds.Videos))
	for i := range order {
		order[i] = int32(i)
	}
	// The walk's order is nearly sorted already; pdqsort makes that cheap.
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(ds.Videos[a].Path, ds.Videos[b].Path) })
	return &pathJoin{ds: ds, order: order}
}

// find returns the dataset index of path, or -1 when no video has it. Paths
// must come in ascending order.
func (j *pathJoin) find(path []byte) int {
	for j.pos < len(j.order) {
		i := j.order[j.pos]
		switch c := compareBytes(j.ds.Videos[i].Path, path); {
		case c < 0:
			j.pos++
		case c == 0:
			j.pos++
			return int(i)
		default:
			return -1
		}
	}
	return -1
}

// compareBytes compares s with b bytewise, without converting either.
func compareBytes(s string, b []byte) int {
	n := min(len(s), len(b))
	for k := 0; k < n; k++ {
		if s[k] != b[k] {
			if s[k] < b[k] {
				return -1
			}
			return 1
		}
	}
	return cmp.Compare(len(s), len(b))
}
