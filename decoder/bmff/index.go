package bmff

import (
	"math"
)

// entry is one AVIndexEntry of a stream's index.
type entry struct {
	pos     int64
	ts      int64 // dts
	size    uint32
	key     bool
	discard bool // AVINDEX_DISCARD_FRAME
}

// tts is one merged time-to-sample value (mov_merge_tts_data gives every
// sample its own, count 1).
type tts struct {
	offset   int32
	duration uint32
}

// stream is a track's index as mov_build_index and mov_fix_index leave it.
type stream struct {
	t       *Track
	audio   bool
	entries []entry
	tts     []tts // the first len(tts) entries' values
	// duration is st->duration: mdhd's, capped by the stts total and by
	// the edit list's extent.
	duration int64
	// minCorrectedPts is sc->min_corrected_pts (0 without an edit list).
	minCorrectedPts int64
	// partial: only the first len(entries) samples were built (the rest
	// lie beyond the end of the file; see buildIndex).
	partial bool
}

// maxSamples bounds the samples a native probe builds for one track.
const maxSamples = 1 << 20

// sttsTotal is the track's stts duration, as mov_read_stts sums it.
func (t *Track) sttsTotal() int64 {
	var d int64
	for _, e := range t.Stts {
		d += int64(e.count) * int64(e.delta)
	}
	return d
}

// samples calls f for each sample in index order (chunk by chunk), as
// mov_build_index walks them, until f returns false.
func (t *Track) samples(audio bool, f func(i int, e entry, v tts) bool) {
	var keyOff uint32
	if len(t.Stss) > 0 && int32(t.Stss[0]) > 0 {
		keyOff = 1
	}
	keyAbsent := t.HasStss && len(t.Stss) == 0
	stss, stsc := 0, 0
	sttsI, sttsLeft := 0, uint32(0)
	if len(t.Stts) > 0 {
		sttsLeft = t.Stts[0].count
	}
	cttsI, cttsLeft := 0, uint32(0)
	if len(t.Ctts) > 0 {
		cttsLeft = t.Ctts[0].count
	}
	dts := -t.DtsShift
	sample := 0
	for c, off := range t.Chunks {
		for stsc+1 < len(t.Stsc) && uint32(c+1) == t.Stsc[stsc+1].first {
			stsc++
		}
		for j := uint32(0); j < t.Stsc[stsc].perChunk; j++ {
			key := false
			if !keyAbsent && (len(t.Stss) == 0 || uint32(sample)+keyOff == t.Stss[stss]) {
				key = true
				if stss+1 < len(t.Stss) {
					stss++
				}
			}
			if keyAbsent && (audio || (c == 0 && j == 0)) {
				key = true
			}
			size := t.Uniform
			if t.Sizes != nil {
				size = t.Sizes[sample]
			}
			for sttsLeft == 0 {
				sttsI++
				sttsLeft = t.Stts[sttsI].count
			}
			var v tts
			v.duration = t.Stts[sttsI].delta
			sttsLeft--
			if len(t.Ctts) > 0 {
				for cttsLeft == 0 {
					cttsI++
					cttsLeft = t.Ctts[cttsI].count
				}
				v.offset = t.Ctts[cttsI].offset
				cttsLeft--
			}
			if !f(sample, entry{pos: off, ts: dts, size: size, key: key}, v) {
				return
			}
			off += int64(size)
			dts += int64(v.duration)
			sample++
		}
	}
}

// buildIndex builds the track's index, all of it, or (with truncate set
// and no edit list) only as far as the file holds samples: up to and
// including the first sample at or past size, whose timestamp the one
// before may need.
func buildIndex(t *Track, audio bool, truncate bool, size int64) (*stream, error) {
	s := &stream{t: t, audio: audio}
	if t.Count > maxSamples && !(truncate && t.Elst == nil) {
		return nil, decline("track %d has %d samples", t.Index, t.Count)
	}
	n := int(min(t.Count, maxSamples))
	if truncate && t.Elst == nil {
		n = min(n, 4096) // grows as far as the file holds samples
	}
	s.entries, s.tts = getEntries(n), getTts(n)
	var err error
	t.samples(audio, func(i int, e entry, v tts) bool {
		if e.ts > 1<<62 || e.ts < -(1<<62) {
			err = decline("timestamps beyond 2^62")
			return false
		}
		s.entries = append(s.entries, e)
		s.tts = append(s.tts, v)
		if truncate && t.Elst == nil && e.pos >= size && i+1 < int(t.Count) {
			s.partial = true
			return false
		}
		if len(s.entries) > maxSamples {
			err = decline("track %d has %d samples", t.Index, t.Count)
			return false
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	s.duration = t.Duration
	if d := t.sttsTotal(); d != 0 {
		s.duration = min(s.duration, d)
	}
	return s, nil
}

// indexSearch is ff_index_search_timestamp on a stream's entries.
func indexSearch(entries []entry, wanted int64, backward, any bool) int {
	nb := len(entries)
	a, b := -1, nb
	if b > 0 && entries[b-1].ts < wanted {
		a = b - 1
	}
	for b-a > 1 {
		m := (a + b) >> 1
		for entries[m].discard && m < b && m < nb-1 {
			m++
			if m == b && entries[m].ts >= wanted {
				m = b - 1
				break
			}
		}
		ts := entries[m].ts
		if ts >= wanted {
			b = m
		}
		if ts <= wanted {
			a = m
		}
	}
	m := b
	if backward {
		m = a
	}
	if !any {
		for m >= 0 && m < nb && !entries[m].key {
			if backward {
				m--
			} else {
				m++
			}
		}
	}
	if m == nb {
		return -1
	}
	return m
}

// satAdd is av_sat_add64.
func satAdd(a, b int64) int64 {
	s := a + b
	if (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0) {
		if a >= 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return s
}

// fixIndex applies the edit list as mov_fix_index does (advanced edit
// lists, FFmpeg's default): it rebuilds the index from the entries each
// edit covers — starting at the key frame at or before the edit's media
// time, ending at the first key frame after it (with composition offsets,
// the second) — flags the entries outside the edit for discard, rewrites
// their timestamps on the edit's timeline, and shifts a video stream so
// that its first presented frame is at 0.
//
// It is one long function on purpose: it follows mov_fix_index in
// libavformat/mov.c step for step, in the same order and with the same
// variables, so that the two can be read side by side when FFmpeg changes.
func (s *stream) fixIndex(movieTimescale uint32) error {
	t := s.t
	if t.Elst == nil || len(s.entries) == 0 {
		return nil
	}
	old, oldTts := s.entries, s.tts
	hasCtts := len(t.Ctts) > 0
	var (
		newE              = getEntries(len(old))
		newTts            = getTts(len(old))
		ttsIndex          int64
		ttsSample         int64
		entryEnd          = -t.DtsShift
		startDts          = entryEnd
		emptySum          int64
		foundNonEmpty     bool
		firstNonZeroAudio       = -1
		minCorrected      int64 = -1
	)
	for ei, el := range t.Elst {
		mediaTime := el.mediaTime
		duration, ok := rescale(int64(el.duration), int64(t.Timescale), int64(movieTimescale))
		if !ok {
			return decline("edit duration %d", el.duration)
		}
		if uint64(duration)+uint64(mediaTime) > math.MaxInt64 {
			duration = 0
		}
		counter := entryEnd
		entryEnd = satAdd(entryEnd, duration)
		if entryEnd == math.MaxInt64 {
			return decline("edit %d overflows", ei)
		}
		var frameDurations []int64 // of the entries discarded before the edit starts
		if !foundNonEmpty && mediaTime == -1 {
			emptySum += duration
			continue
		}
		foundNonEmpty = true
		if s.audio {
			if firstNonZeroAudio < 0 {
				firstNonZeroAudio = 1
			} else {
				firstNonZeroAudio = 0
			}
		}
		search := mediaTime
		if s.audio {
			search = max(search-int64(t.Timescale), old[0].ts)
		}
		index, ti, tsm, ok := s.prevClosest(old, oldTts, search, false, ttsIndex, ttsSample)
		if !ok {
			index, ti, tsm, ok = s.prevClosest(old, oldTts, search, true, ttsIndex, ttsSample)
			if !ok {
				index, ti, tsm = 0, 0, 0
			}
		}
		ttsIndex, ttsSample = ti, tsm
		startTtsSample := ttsSample
		started := false
		keyAfterEdit := false
		for ; index < len(old); index++ {
			cur := old[index]
			frameDuration := duration
			if index+1 < len(old) {
				frameDuration = old[index+1].ts - cur.ts
			}
			discard := false
			cts := cur.ts + t.DtsShift
			var ctts int64
			if ttsIndex < int64(len(oldTts)) {
				ctts = int64(oldTts[ttsIndex].offset)
				cts += ctts
				ttsSample++
				if ttsSample == 1 { // every merged entry counts one sample
					newTts = append(newTts, oldTts[ttsIndex])
					ttsIndex++
					ttsSample = 0
					startTtsSample = 0
				}
			}
			if cts < mediaTime || cts >= duration+mediaTime {
				if s.audio && cts < mediaTime && cts+frameDuration > mediaTime && firstNonZeroAudio > 0 {
					// Skip samples instead of dropping the packet.
					counter -= mediaTime - cts
					if !started {
						started = true
						counter = s.rewriteDiscarded(newE, counter, frameDurations)
						frameDurations = nil
					}
				} else {
					discard = true
					if !started {
						frameDurations = append(frameDurations, frameDuration)
					}
				}
			} else {
				c := counter + ctts + t.DtsShift
				if minCorrected < 0 || c < minCorrected {
					minCorrected = c
				}
				if !started {
					started = true
					s.rewriteDiscarded(newE, counter, frameDurations)
					frameDurations = nil
				}
			}
			newE = append(newE, entry{pos: cur.pos, ts: counter, size: cur.size, key: cur.key, discard: discard})
			if started {
				counter += frameDuration
			}
			if cts+frameDuration >= duration+mediaTime && (cur.key || s.audio) {
				if hasCtts && !s.audio && !keyAfterEdit {
					keyAfterEdit = true
					continue
				}
				_ = startTtsSample // with one sample per merged entry there is never a partial one to add
				break
			}
		}
	}
	minCorrected -= emptySum
	if !s.audio && minCorrected > 0 {
		for i := range newE {
			newE[i].ts -= minCorrected
		}
	}
	putEntries(old)
	putTts(oldTts)
	s.entries, s.tts = newE, newTts
	s.minCorrectedPts = minCorrected
	s.duration = min(s.duration, entryEnd-startDts)
	return nil
}

// rewriteDiscarded is fix_index_entry_timestamps: the entries discarded
// before an edit starts get timestamps counting back from end by their
// durations. It returns end.
func (s *stream) rewriteDiscarded(e []entry, end int64, durations []int64) int64 {
	ts := end
	for i := range durations {
		ts -= durations[len(durations)-1-i]
		e[len(e)-1-i].ts = ts
	}
	return end
}

// prevClosest is find_prev_closest_index: the key frame (any frame with
// any) at or before ts on the dts timeline, refined with composition
// offsets to one presented at or before ts. Without a ctts the tts
// position is left as it was (ti, tsm), as FFmpeg leaves it.
func (s *stream) prevClosest(old []entry, oldTts []tts, ts int64, any bool, ti, tsm int64) (int, int64, int64, bool) {
	t := s.t
	if t.DtsShift > 0 {
		ts -= t.DtsShift
	}
	index := indexSearch(old, ts, true, any)
	if index >= 0 {
		for i := index; i > 0 && old[i].ts == old[i-1].ts; i-- {
			if any || old[i-1].key {
				index = i - 1
			}
		}
	}
	if len(t.Ctts) > 0 && index >= 0 {
		ti, tsm = 0, 0
		for k := 0; k < index; k++ {
			if ti < int64(len(oldTts)) {
				tsm++
				if tsm == 1 {
					ti++
					tsm = 0
				}
			}
		}
		for index >= 0 && ti >= 0 && ti < int64(len(oldTts)) {
			if old[index].ts+int64(oldTts[ti].offset) <= ts && old[index].key {
				break
			}
			index--
			if tsm == 0 {
				ti--
				if ti >= 0 {
					tsm = 0 // count - 1
				}
			} else {
				tsm--
			}
		}
	}
	return index, ti, tsm, index >= 0
}
