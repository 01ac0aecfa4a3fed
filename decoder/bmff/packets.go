package bmff

import (
	"sync"
)

// The packets of an indexed stream, in FFmpeg's order, and the index buffers' pools.

// packet is what mov_read_packet hands out for one entry.
type packet struct {
	pts, duration int64
	pos           int64
	discard       bool
}

// eachPacket calls f with the stream's packets in order, as
// mov_read_packet hands them out (mov_finalize_packet), until f returns
// false: the duration from the stts (FFmpeg 9), or, without a ctts and for
// a zero duration, the distance to the next entry (or the stream's end);
// pts is dts plus the dts shift and the composition offset.
func (s *stream) eachPacket(f func(p packet) bool) {
	hasCtts := len(s.t.Ctts) > 0
	for k, e := range s.entries {
		p := packet{pos: e.pos, discard: e.discard}
		var dur int64
		if k < len(s.tts) {
			dur = int64(s.tts[k].duration)
		}
		if hasCtts && k < len(s.tts) {
			p.pts = satAdd(e.ts, satAdd(s.t.DtsShift, int64(s.tts[k].offset)))
		} else {
			if dur == 0 {
				next := s.duration
				if k+1 < len(s.entries) {
					next = s.entries[k+1].ts
				}
				if next >= e.ts {
					dur = next - e.ts
				}
			}
			p.pts = e.ts
		}
		p.duration = dur
		if !f(p) {
			return
		}
	}
}

// readable calls f with the packets FFmpeg reads before the first one at
// or past the end of the file (av_get_packet gives AVERROR_EOF there, which
// ends the demuxing as a clean end).
func (s *stream) readable(size int64, f func(p packet) bool) {
	s.eachPacket(func(p packet) bool {
		return p.pos < size && f(p)
	})
}

// Pools for the per-sample arrays of a probe (a native probe's garbage is
// most of its cost in a build).
var (
	entryPool = sync.Pool{New: func() any { return new([]entry) }}
	ttsPool   = sync.Pool{New: func() any { return new([]tts) }}
)

func getEntries(n int) []entry {
	b := *entryPool.Get().(*[]entry)
	if cap(b) < n {
		return make([]entry, 0, n)
	}
	return b[:0]
}

func getTts(n int) []tts {
	b := *ttsPool.Get().(*[]tts)
	if cap(b) < n {
		return make([]tts, 0, n)
	}
	return b[:0]
}

func putEntries(b []entry) {
	if cap(b) > 0 && cap(b) <= 1<<16 {
		entryPool.Put(&b)
	}
}

func putTts(b []tts) {
	if cap(b) > 0 && cap(b) <= 1<<16 {
		ttsPool.Put(&b)
	}
}

// release gives the stream's arrays back to the pools.
func (s *stream) release() {
	if s == nil {
		return
	}
	putEntries(s.entries)
	putTts(s.tts)
	s.entries, s.tts = nil, nil
}

// seekToZero reports whether mov_read_seek to pts 0 succeeds on this
// stream (torchcodec seeks stream 0 there after its scan).
func (s *stream) seekToZero() bool {
	target := 0 - (s.minCorrectedPts + s.t.DtsShift)
	m := indexSearch(s.entries, target, true, false)
	if m < 0 && len(s.entries) > 0 && target < s.entries[0].ts {
		m = 0
	}
	return m >= 0
}
