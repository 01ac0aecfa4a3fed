package indexer

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
)

// ptsStream hands out the index's timestamp blobs of a dataset's videos in
// dataset order while reading them from SQLite in path order, one row at a
// time. The two orders agree except where a folder name holds a byte below
// '/' (the "nested-dir" vs "nested/deeper" case): blobs that arrive early
// wait in a small buffer until their turn. So a build never holds every
// video's timestamps at once.
type ptsStream struct {
	rows    *sql.Rows
	join    *pathJoin
	pending map[int][]byte
	next    int
	ds      *Dataset
}

func openPtsStream(ctx context.Context, ix *Index, ds *Dataset) (*ptsStream, error) {
	lo, hi := prefixRange(pyJoin(ds.Dir, ""))
	rows, err := ix.db.QueryContext(ctx, `SELECT path, pts FROM video_pts WHERE path >= ? AND path < ? ORDER BY path`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	return &ptsStream{rows: rows, join: newPathJoin(ds), pending: map[int][]byte{}, ds: ds}, nil
}

// get returns the blob of dataset video i, valid until the next call; calls
// must come in order 0, 1, ...
func (s *ptsStream) get(i int) ([]byte, error) {
	if i != s.next {
		return nil, fmt.Errorf("internal: timestamps asked for video %d, expected %d", i, s.next)
	}
	if b, ok := s.pending[i]; ok {
		delete(s.pending, i)
		s.next++
		return b, nil
	}
	for s.rows.Next() {
		var path, blob sql.RawBytes
		if err := s.rows.Scan(&path, &blob); err != nil {
			return nil, fmt.Errorf("read index: %w", err)
		}
		j := s.join.find(path)
		if j < i {
			continue // a row of another dataset sharing the prefix, or already served
		}
		if j == i {
			s.next++
			return blob, nil
		}
		s.pending[j] = bytes.Clone(blob)
	}
	if err := s.rows.Err(); err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	return nil, fmt.Errorf("no timestamps in the index for %s", s.ds.Videos[i].Path)
}

func (s *ptsStream) close() { s.rows.Close() }

// streamPts calls fn with every video's blob, in dataset order; the blob is
// valid only during the call.
func streamPts(ctx context.Context, ix *Index, ds *Dataset, fn func(i int, blob []byte) error) error {
	s, err := openPtsStream(ctx, ix, ds)
	if err != nil {
		return err
	}
	defer s.close()
	for i := range ds.Videos {
		b, err := s.get(i)
		if err != nil {
			return err
		}
		if err := fn(i, b); err != nil {
			return err
		}
	}
	return nil
}
