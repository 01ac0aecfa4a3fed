package bmff

import (
	"bytes"
	"slices"
	"strconv"
)

// Probe answers target for a file of fileSize bytes whose moov is m, or
// declines.
func (m *Movie) Probe(target Target, fileSize int64) (*Answer, error) {
	var video *Track
	for _, t := range m.Tracks {
		if t.Handler == "vide" {
			if video != nil {
				return nil, decline("several video tracks")
			}
			video = t
		}
	}
	if video == nil {
		return nil, decline("no video track")
	}
	if target == Scan && video.Codec != "h264" {
		// torchcodec opens the decoder, which for these codecs parses
		// the extradata: only FFmpeg can say whether it fails.
		return nil, decline("video codec %s for the scan", video.Codec)
	}
	if video.Width <= 0 || video.Height <= 0 {
		return nil, decline("picture size %dx%d", video.Width, video.Height)
	}
	if video.Elst != nil {
		if err := editShape(video.Elst); err != nil {
			return nil, err
		}
		if m.Timescale == 0 || m.Timescale >= 1<<31 {
			return nil, decline("movie timescale %d", m.Timescale)
		}
	}
	for _, t := range m.Tracks {
		if err := t.checkSizes(); err != nil {
			return nil, err
		}
	}
	a := &Answer{
		Stream: video.Index, Streams: len(m.Tracks), Codec: video.Codec,
		Width: video.Width, Height: video.Height, TBNum: 1, TBDen: int(video.Timescale),
	}
	switch target {
	case Scan:
		return m.scan(video, fileSize, a)
	case Fast:
		return m.fast(video, fileSize, a)
	}
	return nil, decline("unknown target")
}

// editShape accepts the edit lists whose mov_fix_index result is
// reproduced: one edit from a media time >= 0, optionally after one empty
// edit.
func editShape(e []elstEntry) error {
	switch {
	case len(e) == 1 && e[0].mediaTime >= 0:
	case len(e) == 2 && e[0].mediaTime == -1 && e[1].mediaTime >= 0:
	default:
		return decline("edit list of %d entries (media times %s)", len(e), mediaTimes(e))
	}
	return nil
}

func mediaTimes(e []elstEntry) string {
	var b bytes.Buffer
	for i, x := range e {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(x.mediaTime, 10))
	}
	return b.String()
}

// maxSampleSize is the largest sample accepted: av_get_packet reads a
// larger one in chunks limited by what the I/O layer knows of the file's
// size, and may fail to allocate it.
const maxSampleSize = 5_000_000

// checkSizes: no sample of size 0 (FFmpeg's parsers drop such packets,
// and reading one past the end of the file differs between I/O paths),
// none above maxSampleSize.
func (t *Track) checkSizes() error {
	sizes := t.Sizes
	if sizes == nil {
		sizes = []uint32{t.Uniform}
	}
	for _, s := range sizes {
		if s == 0 || s > maxSampleSize {
			return decline("track %d: a sample of %d bytes", t.Index, s)
		}
	}
	return nil
}

// beyond reports whether any sample of t starts at or past size (where
// FFmpeg's reading ends), computed per chunk.
func (t *Track) beyond(size int64) bool {
	sample, stsc := 0, 0
	for c, off := range t.Chunks {
		for stsc+1 < len(t.Stsc) && uint32(c+1) == t.Stsc[stsc+1].first {
			stsc++
		}
		n := int(t.Stsc[stsc].perChunk)
		last := off
		if t.Sizes == nil {
			last += int64(n-1) * int64(t.Uniform)
		} else {
			for j := 0; j < n-1; j++ {
				last += int64(t.Sizes[sample+j])
			}
		}
		if last >= size || off >= size {
			return true
		}
		sample += n
	}
	return false
}

// videoStream builds the video track's final index. truncated: some
// sample lies past the end of the file, where reading stops.
func (m *Movie) videoStream(video *Track, fileSize int64, truncated bool) (*stream, error) {
	if truncated && video.Elst == nil {
		for _, e := range video.Stts {
			if e.count > 0 && e.delta == 0 {
				return nil, decline("truncated file with a zero stts delta")
			}
		}
	}
	s, err := buildIndex(video, false, truncated, fileSize)
	if err != nil {
		return nil, err
	}
	if err := s.fixIndex(m.Timescale); err != nil {
		return nil, err
	}
	return s, nil
}

// scan is torchcodec's exact scan, as vidcache's probeScan reads it: the
// non-discarded packets of the video stream, begin = min(pts), end =
// max(pts + duration), fps = n / (end_s - begin_s); then the seek to pts 0
// on stream 0 must succeed.
//
// Longer than a screen on purpose: each check mirrors one branch of
// FFmpeg's packet reading (mov_read_packet, the discard flags, the seek),
// in FFmpeg's order, and splitting it would hide that order.
func (m *Movie) scan(video *Track, size int64, a *Answer) (*Answer, error) {
	for _, e := range video.Stts {
		if e.count > 0 && e.delta == 0 {
			// FFmpeg fills in a zero duration from the parser's view of
			// the payload.
			return nil, decline("zero stts delta in the video track")
		}
	}
	truncated := false
	for _, t := range m.Tracks {
		if t.beyond(size) {
			if len(m.Tracks) > 1 {
				// Which packet reaches the end first depends on the
				// interleaving of all streams.
				return nil, decline("samples past the end of the file in a %d-track file", len(m.Tracks))
			}
			truncated = true
		}
	}
	s, err := m.videoStream(video, size, truncated)
	if err != nil {
		return nil, err
	}
	defer s.release()
	if s.partial && !s.entries[0].key {
		return nil, decline("first sample is not a key frame")
	}
	var s0 *stream
	if video.Index == 0 {
		s0 = s
	} else {
		t0 := m.Tracks[0]
		if t0.Elst != nil {
			if err := editShape(t0.Elst); err != nil {
				return nil, decline("stream 0: %v", err)
			}
			if m.Timescale == 0 || m.Timescale >= 1<<31 {
				return nil, decline("movie timescale %d", m.Timescale)
			}
		}
		if s0, err = buildIndex(t0, t0.Handler == "soun", false, size); err != nil {
			return nil, err
		}
		defer s0.release()
		if err := s0.fixIndex(m.Timescale); err != nil {
			return nil, err
		}
	}
	if !s0.seekToZero() {
		return nil, decline("the seek to pts 0 on stream 0 fails")
	}
	n := 0
	var begin, end int64
	var bad error
	s.readable(size, func(p packet) bool {
		if p.discard {
			return true
		}
		if p.pts > 1<<62 || p.pts < -(1<<62) {
			bad = decline("timestamp %d", p.pts)
			return false
		}
		if p.duration <= 0 {
			bad = decline("a packet without a duration")
			return false
		}
		e := p.pts + p.duration
		if n == 0 || p.pts < begin {
			begin = p.pts
		}
		if n == 0 || e > end {
			end = e
		}
		n++
		return true
	})
	if bad != nil {
		return nil, bad
	}
	if n == 0 {
		return nil, decline("no packets to count")
	}
	bs := float64(begin) * float64(a.TBNum) / float64(a.TBDen)
	es := float64(end) * float64(a.TBNum) / float64(a.TBDen)
	d := es - bs
	if d == 0 {
		return nil, decline("begin equals end")
	}
	fps := float64(n) / d
	a.Frames, a.FPS = n, &fps
	return a, nil
}

// fast is vidcache's fast mode (PyAV's timestamps): the video stream's
// packets' pts (the discarded ones too where stream 0's extradata says
// "Lavc"), sorted; fps is avg_frame_rate. Only the video stream is read,
// so only its samples end the reading.
func (m *Movie) fast(video *Track, size int64, a *Answer) (*Answer, error) {
	t0 := m.Tracks[0]
	if len(t0.Extradata) == 0 {
		// FFmpeg's path then runs avformat_find_stream_info.
		return nil, decline("stream 0 has no extradata")
	}
	a.Demuxed = bytes.Contains(t0.Extradata, []byte("Lavc"))
	num := int64(video.Timescale) * int64(video.Count)
	den := video.sttsTotal()
	if den <= 0 {
		return nil, decline("no average frame rate")
	}
	fn, fd := reduce(num, den, 1<<31-1)
	if fn <= 0 || fd <= 0 {
		return nil, decline("average frame rate %d/%d", fn, fd)
	}
	fps := float64(fn) / float64(fd)
	a.FPS = &fps
	for _, t := range m.Tracks {
		if t.beyond(size) && len(m.Tracks) > 1 {
			// As in the scan: where reading ends depends on the
			// interleaving, and PyAV's stream info reads past the first
			// failed sample (FuzzNative: 0 timestamps natively, PyAV
			// demuxes 49).
			return nil, decline("samples past the end of the file in a %d-track file", len(m.Tracks))
		}
	}
	s, err := m.videoStream(video, size, video.beyond(size))
	if err != nil {
		return nil, err
	}
	defer s.release()
	pts := make([]int64, 0, len(s.entries))
	s.readable(size, func(p packet) bool {
		if a.Demuxed || !p.discard {
			pts = append(pts, p.pts)
		}
		return true
	})
	slices.Sort(pts)
	a.Pts, a.Frames = pts, len(pts)
	return a, nil
}
