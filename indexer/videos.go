package indexer

import (
	"math"

	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// videoSet is what a build keeps in memory of each dataset video's index
// row: what the cache needs of it, 24 bytes a video plus the error text of
// failed ones. The rest of a row stays in the index, and the timestamps are
// streamed from it when the cache is written.
type videoSet struct {
	v        []video
	statuses []vocab.Status // video.status indexes it from 1
	errs     map[int]string // error text of videos whose row has one
}

type video struct {
	fps     float64
	ptsHash uint64
	frames  int32
	status  uint8 // 0: no row yet
	flags   uint8
}

const (
	hasFPS uint8 = 1 << iota
	hasPtsHash
)

func newVideoSet(n int) *videoSet {
	return &videoSet{v: make([]video, n), errs: map[int]string{}}
}

// set records row r as video i's.
func (s *videoSet) set(i int, r *Row) {
	v := video{ptsHash: r.PtsHash, frames: int32(min(r.Frames, math.MaxInt32)), status: s.statusCode(r.Status)}
	if r.FPS != nil {
		v.fps, v.flags = *r.FPS, hasFPS
	}
	if r.HasPtsHash {
		v.flags |= hasPtsHash
	}
	s.v[i] = v
	if r.Error != "" {
		s.errs[i] = r.Error
	} else {
		delete(s.errs, i)
	}
}

func (s *videoSet) statusCode(status vocab.Status) uint8 {
	for j, st := range s.statuses {
		if st == status {
			return uint8(j + 1)
		}
	}
	if len(s.statuses) == math.MaxUint8 {
		panic("indexer: more than 255 distinct video statuses")
	}
	s.statuses = append(s.statuses, status)
	return uint8(len(s.statuses))
}

// known: video i has a row.
func (s *videoSet) known(i int) bool { return s.v[i].status != 0 }

func (s *videoSet) status(i int) vocab.Status { return s.statuses[s.v[i].status-1] }

func (s *videoSet) err(i int) string { return s.errs[i] }

func (s *videoSet) frames(i int) int { return int(s.v[i].frames) }

// fps is video i's frame rate, nil when torchvision has none. It points
// into the set (no allocation per video): callers must not write through it.
func (s *videoSet) fps(i int) *float64 {
	if s.v[i].flags&hasFPS == 0 {
		return nil
	}
	return &s.v[i].fps
}

// ptsHash is the stored hash of video i's timestamp blob, if its row has one.
func (s *videoSet) ptsHash(i int) (uint64, bool) {
	return s.v[i].ptsHash, s.v[i].flags&hasPtsHash != 0
}
