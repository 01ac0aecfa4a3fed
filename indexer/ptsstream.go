package indexer

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"

	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// ptsStream hands out the index's timestamp blobs of a dataset's videos in
// dataset order while reading them from SQLite in path order. The two orders
// agree except where a folder name holds a byte below '/' (the "nested-dir"
// vs "nested/deeper" case): blobs that arrive early wait in a small buffer
// until their turn. A reader goroutine steps through the rows and hands them
// over in batches (a few in flight, recycled), so reading the index overlaps
// with encoding and writing the cache, and a build never holds every video's
// timestamps at once.
type ptsStream struct {
	batches chan *ptsBatch
	free    chan *ptsBatch
	cancel  context.CancelFunc
	err     error // the reader's, set before batches is closed
	cur     *ptsBatch
	pos     int
	pending map[int][]byte
	next    int
	ds      *Dataset
}

// ptsBatch is up to ptsBatchRows rows: dataset indexes and blobs packed in data.
type ptsBatch struct {
	idx  []int
	end  []int // end offset of each blob in data
	data []byte
}

const ptsBatchRows = 64

func (b *ptsBatch) blob(k int) []byte {
	start := 0
	if k > 0 {
		start = b.end[k-1]
	}
	return b.data[start:b.end[k]]
}

func openPtsStream(ctx context.Context, ix *Index, ds *Dataset, mode vocab.Mode) (*ptsStream, error) {
	ctx, cancel := context.WithCancel(ctx)
	lo, hi := prefixRange(pyJoin(ds.Dir, ""))
	rows, err := ix.db.QueryContext(ctx, `SELECT path, pts FROM video_pts WHERE path >= ? AND path < ? AND mode = ? ORDER BY path`, lo, hi, string(mode))
	if err != nil {
		cancel()
		return nil, fmt.Errorf("read index: %w", err)
	}
	s := &ptsStream{batches: make(chan *ptsBatch, 2), free: make(chan *ptsBatch, 4), cancel: cancel, pending: map[int][]byte{}, ds: ds}
	go s.read(ctx, rows, newPathJoin(ds))
	return s, nil
}

// read runs in its own goroutine: it owns rows and closes s.batches when done.
func (s *ptsStream) read(ctx context.Context, rows *sql.Rows, join *pathJoin) {
	defer close(s.batches)
	defer rows.Close()
	b := &ptsBatch{}
	send := func() bool {
		select {
		case s.batches <- b:
		case <-ctx.Done():
			return false
		}
		select {
		case b = <-s.free:
			b.idx, b.end, b.data = b.idx[:0], b.end[:0], b.data[:0]
		default:
			b = &ptsBatch{}
		}
		return true
	}
	for rows.Next() {
		var path, blob sql.RawBytes
		if err := rows.Scan(&path, &blob); err != nil {
			s.err = fmt.Errorf("read index: %w", err)
			return
		}
		j := join.find(path)
		if j < 0 {
			continue // a row of another dataset sharing the prefix
		}
		b.idx = append(b.idx, j)
		b.data = append(b.data, blob...)
		b.end = append(b.end, len(b.data))
		if len(b.idx) == ptsBatchRows && !send() {
			return
		}
	}
	if err := rows.Err(); err != nil {
		s.err = fmt.Errorf("read index: %w", err)
		return
	}
	if len(b.idx) > 0 {
		send()
	}
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
	for {
		for s.cur != nil && s.pos < len(s.cur.idx) {
			j, blob := s.cur.idx[s.pos], s.cur.blob(s.pos)
			s.pos++
			switch {
			case j == i:
				s.next++
				return blob, nil
			case j > i:
				s.pending[j] = bytes.Clone(blob)
			}
		}
		if s.cur != nil {
			select {
			case s.free <- s.cur:
			default:
			}
			s.cur = nil
		}
		b, ok := <-s.batches
		if !ok {
			if s.err != nil {
				return nil, s.err
			}
			return nil, fmt.Errorf("no timestamps in the index for %s", s.ds.Videos[i].Path)
		}
		s.cur, s.pos = b, 0
	}
}

// close stops the reader and waits for it to let go of the index.
func (s *ptsStream) close() {
	s.cancel()
	for range s.batches {
	}
}

// streamPts calls fn with every video's blob, in dataset order; the blob is
// valid only during the call.
func streamPts(ctx context.Context, ix *Index, ds *Dataset, mode vocab.Mode, fn func(i int, blob []byte) error) error {
	s, err := openPtsStream(ctx, ix, ds, mode)
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
