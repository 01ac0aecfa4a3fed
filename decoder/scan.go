package decoder

// #cgo pkg-config: libavformat libavcodec libavutil
// #include <libavformat/avformat.h>
//
// // vidcache_scan does what torchcodec's exact-mode scan does: av_read_frame
// // to the end, skipping packets flagged AV_PKT_FLAG_DISCARD; for stream idx
// // it counts the packets and tracks min(ts) and max(ts + duration), ts being
// // the pts or, without one, the dts. Afterwards it seeks back to the start
// // as torchcodec does (avformat_seek_file(fc, 0, INT64_MIN, 0, 0, 0)).
// // Returns 0, or the av_read_frame error (*where = 1) or the seek error
// // (*where = 2). *n counts the packets seen before an error.
// static int vidcache_scan(AVFormatContext *fc, int idx, int64_t *n, int64_t *begin, int64_t *end, int *where) {
//   AVPacket *pkt = av_packet_alloc();
//   int ret;
//   *n = 0;
//   *begin = INT64_MAX;
//   *end = INT64_MIN;
//   *where = 0;
//   if (!pkt)
//     return AVERROR(ENOMEM);
//   for (;;) {
//     if ((ret = av_read_frame(fc, pkt)) < 0)
//       break;
//     if (pkt->stream_index == idx && !(pkt->flags & AV_PKT_FLAG_DISCARD)) {
//       int64_t ts = pkt->pts == AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
//       // torchcodec adds in int64; wrap as it does instead of trapping.
//       int64_t e = (int64_t)((uint64_t)ts + (uint64_t)pkt->duration);
//       if (ts < *begin) *begin = ts;
//       if (e > *end) *end = e;
//       (*n)++;
//     }
//     av_packet_unref(pkt);
//   }
//   av_packet_free(&pkt);
//   if (ret != AVERROR_EOF) {
//     *where = 1;
//     return ret;
//   }
//   ret = avformat_seek_file(fc, 0, INT64_MIN, 0, 0, 0);
//   if (ret < 0) {
//     *where = 2;
//     return ret;
//   }
//   return 0;
// }
import "C"

import (
	"fmt"
	"unicode/utf8"

	"github.com/asticode/go-astiav"

	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// probeScan reads what torchvision 0.26+ stores for a video: torchcodec's
// VideoDecoder(path) in its default exact seek mode, then
// metadata.num_frames and metadata.average_fps.
//
//   - avformat_open_input and avformat_find_stream_info with FFmpeg's
//     defaults: no GENPTS, no discard, no flags.
//
//   - The stream is av_find_best_stream(VIDEO, -1, -1, &decoder): streams
//     without a decoder are skipped, ties go to the first.
//
//   - The scan counts every non-discarded packet of that stream; nothing is
//     decoded. fps = n / (end_s - begin_s) in float64, the seconds computed
//     separately as double(ts)*tb.num/tb.den; when the difference is exactly
//     zero, the header's r_frame_rate if positive, else None.
//
//   - The decoder for the stream is opened, as VideoDecoder does.
//
//   - A path that is not valid UTF-8 fails: torchcodec's binding takes a C++
//     string, and Python's surrogate-escaped str does not convert.
//
// Every failure is one torchvision 0.27 raises on; the Result says why.
//
// The shortcut: for plain MP4/MOV files read header-only (see fileIO) with
// exactly one video stream, every stream's codec known and the video's
// decoder present, and every sample inside the file, avformat_find_stream_info
// is skipped. What it would do cannot change the answer there: it decodes the first frames to fill in
// codec parameters (pix_fmt, has_b_frames, …) that neither the packet scan
// nor the stream choice reads (one candidate; packet pts and stts durations
// come from the sample table, the duration guard excluded fill-ins), and it
// estimates r_frame_rate, which only the fallback fps uses. So whenever the
// shortcut's result is anything but a clean scan with begin != end — an
// error, no packets, the fallback fps, a decoder that does not open — the
// probe is done again the full way, and that result is the answer.
// TestShortcutsMatchReference compares both on every fixture.
func probeScan(path string, opts Options, ii *astiav.IOInterrupter, r *Result) {
	if !opts.Reference && !opts.FullRead {
		var quick Result
		if scanOnce(path, opts, ii, &quick, true) {
			*r = quick
			return
		}
		if ii.Interrupted() {
			*r = quick
			return
		}
		defer func(read int64) { r.BytesRead += read }(quick.BytesRead)
	}
	scanOnce(path, opts, ii, r, false)
}

// scanOnce probes path once; with skipInfo it takes the shortcut where it
// applies, and reports whether its result stands (false: probe again
// without the shortcut).
func scanOnce(path string, opts Options, ii *astiav.IOInterrupter, r *Result, skipInfo bool) (final bool) {
	if !utf8.ValidString(path) {
		// Python hands such a path over as a str with lone surrogates
		// (surrogateescape), which torchcodec's C++ binding cannot convert.
		r.Status, r.Err = vocab.StatusOpenFailed, "the path is not valid UTF-8, which torchcodec cannot open"
		return true
	}
	fc := astiav.AllocFormatContext()
	if fc == nil {
		r.Status, r.Err = vocab.StatusOpenFailed, "cannot allocate a format context"
		return true
	}
	defer fc.Free()
	fc.SetIOInterrupter(ii)
	f, ok := open(fc, path, opts, !opts.FullRead, true, r)
	if !ok {
		return true
	}
	defer f.close()
	defer fc.CloseInput()
	defer func() { r.BytesRead = f.bytesRead() }()
	sizes := headerSizes(fc)
	skipInfo = skipInfo && f != nil && f.vc.hold != nil && f.masking() && oneKnownVideo(fc) && samplesInside(fc, f.size)
	if !skipInfo {
		r.StreamInfo = true
		// Stream info decodes the first frames: real bytes.
		f.setMasking(false)
		if err := fc.FindStreamInfo(nil); err != nil {
			r.Status, r.Err = vocab.StatusOpenFailed, "find stream info: "+err.Error()
			return true
		}
	}
	streams := fc.Streams()
	vs, codec := bestStream(fc, sizes, r)
	if vs == nil {
		return !skipInfo
	}
	cp, tb := vs.CodecParameters(), vs.TimeBase()
	// The scan runs the parsers torchcodec's FFmpeg runs. With header-only
	// reading they see placeholder payloads, which is safe where they cannot
	// change a packet's count or timestamps: not for codecs the MOV demuxer
	// parses in full (packets may be split or merged), not for DV (demuxed
	// from the payload); durations the parser could fill in were excluded
	// by planMask's guard.
	f.setMasking(!hasDV(streams) && !fullParse(cp.CodecID()))
	r.HeaderOnly = f.masking()

	var n, begin, end C.int64_t
	var where C.int
	ret := C.vidcache_scan(rawFormatContext(fc), C.int(vs.Index()), &n, &begin, &end, &where)
	if ret < 0 {
		r.Status = vocab.StatusReadError
		if where == 2 {
			r.Err = fmt.Sprintf("seek to pts=0 after the scan: %v", astiav.Error(ret))
		} else {
			r.Err = fmt.Sprintf("read packet %d: %v", int64(n), astiav.Error(ret))
		}
		return !skipInfo
	}
	if err := openDecoder(codec, cp); err != nil {
		r.Status, r.Err = vocab.StatusDecodeError, err.Error()
		return !skipInfo
	}
	r.Frames = int(n)
	r.FPS = averageFPS(int64(n), int64(begin), int64(end), tb)
	if r.FPS == nil {
		if skipInfo {
			return false // the fallback rate is stream info's estimate
		}
		// No packet, or begin == end: the header's rate, when positive.
		if fr := vs.RFrameRate(); fr.Den() != 0 {
			if h := float64(fr.Num()) / float64(fr.Den()); h > 0 {
				r.FPS = &h
			}
		}
	}
	r.Status = vocab.StatusOK
	return true
}

// averageFPS is torchcodec's average_fps from the scan: n packets over
// [begin, end) in time base tb, the seconds computed separately as
// double(ts)*tb.num/tb.den; nil without packets or when the span is zero.
func averageFPS(n, begin, end int64, tb astiav.Rational) *float64 {
	if n <= 0 {
		return nil
	}
	bs := float64(begin) * float64(tb.Num()) / float64(tb.Den())
	es := float64(end) * float64(tb.Num()) / float64(tb.Den())
	d := es - bs
	if d == 0 {
		return nil
	}
	fps := float64(n) / d
	return &fps
}

// oneKnownVideo: exactly one video stream (no attached pictures), every
// stream's codec known, a decoder for the video's, its size in the header.
func oneKnownVideo(fc *astiav.FormatContext) bool {
	var video *astiav.Stream
	for _, s := range fc.Streams() {
		cp := s.CodecParameters()
		if cp.CodecID() == astiav.CodecIDNone {
			return false
		}
		if cp.MediaType() == astiav.MediaTypeVideo {
			if video != nil || s.DispositionFlags().Has(astiav.DispositionFlagAttachedPic) {
				return false
			}
			video = s
		}
	}
	// The header must give the picture size too (the index records it;
	// stream info would read it from the bitstream otherwise).
	return video != nil && video.CodecParameters().Width() > 0 && video.CodecParameters().Height() > 0 &&
		astiav.FindDecoder(video.CodecParameters().CodecID()) != nil
}

// fullParse: video codecs FFmpeg 9's MOV demuxer marks AVSTREAM_PARSE_FULL
// (mov_finalize_stsd_codec), whose parser output depends on the payload.
func fullParse(id astiav.CodecID) bool {
	switch id {
	case astiav.CodecIDMpeg1Video, astiav.CodecIDVc1, astiav.CodecIDVp8, astiav.CodecIDVp9:
		return true
	}
	return false
}

// openDecoder opens (and frees) a decoder for the stream, as torchcodec's
// add_video_stream does: a stream whose parameters its decoder rejects
// makes VideoDecoder raise.
func openDecoder(codec *astiav.Codec, cp *astiav.CodecParameters) error {
	cc := astiav.AllocCodecContext(codec)
	if cc == nil {
		return fmt.Errorf("cannot allocate a codec context")
	}
	defer cc.Free()
	if err := cp.ToCodecContext(cc); err != nil {
		return fmt.Errorf("codec parameters: %w", err)
	}
	cc.SetThreadCount(1)
	if err := cc.Open(codec, nil); err != nil {
		return fmt.Errorf("open decoder %s: %w", codec.Name(), err)
	}
	return nil
}

// streamSizes is each stream's picture size as the container's header gave
// it, before avformat_find_stream_info could replace it with the
// bitstream's (see Result.Width).
type streamSizes [][2]int

func headerSizes(fc *astiav.FormatContext) streamSizes {
	var s streamSizes
	for _, st := range fc.Streams() {
		cp := st.CodecParameters()
		s = append(s, [2]int{cp.Width(), cp.Height()})
	}
	return s
}

// of is vs's header size when the header gave a positive one, else its
// size now.
func (s streamSizes) of(vs *astiav.Stream) (w, h int) {
	if i := vs.Index(); i < len(s) && s[i][0] > 0 && s[i][1] > 0 {
		return s[i][0], s[i][1]
	}
	cp := vs.CodecParameters()
	return cp.Width(), cp.Height()
}

// bestStream is the stream torchcodec reads, av_find_best_stream's choice
// among the video streams with a decoder, described in r; nil (and r says
// why) when there is none.
func bestStream(fc *astiav.FormatContext, sizes streamSizes, r *Result) (*astiav.Stream, *astiav.Codec) {
	r.Streams = len(fc.Streams())
	vs, codec, err := fc.FindBestStream(astiav.MediaTypeVideo, -1, -1)
	if err != nil || vs == nil || codec == nil {
		r.Status, r.Err = vocab.StatusNoVideo, fmt.Sprintf("no decodable video stream among %d streams", r.Streams)
		return nil, nil
	}
	tb := vs.TimeBase()
	r.TBNum, r.TBDen = tb.Num(), tb.Den()
	r.Codec = vs.CodecParameters().CodecID().Name()
	r.Width, r.Height = sizes.of(vs)
	r.Stream = vs.Index()
	return vs, codec
}
