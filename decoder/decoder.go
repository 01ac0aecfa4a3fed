// Package decoder reads the frame timestamps and stream facts of one video
// file through FFmpeg (go-astiav), the way torchvision sees them. vocab.ModeScan
// is torchvision 0.26 and later (torchcodec; see probeScan). vocab.ModeFast and
// vocab.ModeExact are torchvision 0.25 and earlier, whose read_video_timestamps
// (pyav backend, pts_unit="pts") works like this:
//
//   - The input is opened with AVFMT_FLAG_GENPTS and avformat_find_stream_info
//     runs, as PyAV does. A file that cannot be opened, or has no video stream,
//     gives no timestamps and fps None.
//   - The first video stream is used; fps is its avg_frame_rate as a float64.
//   - If stream 0's extradata (whatever its type) contains "Lavc", torchvision
//     takes its timestamps from demuxed packets; otherwise from decoded frames,
//     which drop packets flagged AV_PKT_FLAG_DISCARD (edit-list preroll).
//   - Any FFmpeg error while reading discards every timestamp; fps is kept.
//
// vocab.ModeFast never decodes: on the decode path it takes the pts of the packets a
// decoder would turn into frames. On every clean file tested this equals the
// decoded frames' pts. vocab.ModeExact decodes where torchvision decodes, and is the
// choice when bit-for-bit agreement on damaged files matters: a bitstream
// error that demuxes cleanly gives timestamps in fast mode and none in exact.
package decoder

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// Options for Probe.
type Options struct {
	Mode    vocab.Mode
	Timeout time.Duration // per video; 0 means none
	// Reference takes PyAV's path exactly: avformat_find_stream_info, GENPTS,
	// parsers, and a decoder with default settings. By default vidcache takes
	// shortcuts that cannot change the result — no stream info, GENPTS or
	// parsing for MP4/MOV files whose header holds everything used (see
	// headerComplete), and in exact mode no loop filter or IDCT (pixels are
	// never looked at; neither step reports errors). TestShortcutsMatchReference
	// compares both on every fixture.
	Reference bool
	// FullRead reads every byte FFmpeg asks for: no header-only reading
	// (see fileIO). The results are the same; this is for comparisons.
	// Like Reference, it never takes the native path.
	FullRead bool
	// FFmpegOnly skips the native path (see native.go): FFmpeg reads every
	// file, with the shortcuts above. For comparisons.
	FFmpegOnly bool
	// MemoryBudget bounds the sample index FFmpeg may build for one file
	// (DefaultMemoryBudget when 0): a file declaring more samples than fit
	// fails with vocab.StatusOpenFailed instead (see checkDeclared).
	MemoryBudget int64
	// CPU, when set, is the pool of CPU slots probes share: a probe holds
	// one while it computes (the native answer, or all of FFmpeg's work),
	// never while it waits for the native path's reads. So more probes than
	// slots can have reads in flight on slow storage.
	CPU Slots
}

// Slots is a pool of CPU slots: a buffered channel whose capacity is the
// number of probes that may compute at once.
type Slots chan struct{}

// acquire takes a slot, or fails when ctx ends first. A nil pool always
// gives one.
func (s Slots) acquire(ctx context.Context) error {
	if s == nil {
		return nil
	}
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s Slots) release() {
	if s != nil {
		<-s
	}
}

// Result is what one probe learned.
type Result struct {
	Status vocab.Status
	Err    string  // one-line cause when Status != vocab.StatusOK
	Pts    []int64 // sorted ascending; none in vocab.ModeScan
	// Frames is the frame count: len(Pts), or in vocab.ModeScan the packets counted.
	Frames int
	// Stream is the index of the video stream read.
	Stream int
	FPS    *float64 // nil: torchvision's None
	TBNum  int
	TBDen  int
	Codec  string
	// Width and Height are the picture size the container's header gives
	// (an MP4 sample entry, a Matroska track), or where it gives none the
	// size avformat_find_stream_info read from the bitstream. The header's
	// size wins even when the bitstream disagrees, so every path (native,
	// header-only, stream info skipped or run) reports the same size.
	Width    int
	Height   int
	Demuxed  bool // torchvision's packet path (the "Lavc" rule) applies
	Streams  int
	Duration time.Duration // wall time of the probe
	// BytesRead is how many bytes of the file the probe read.
	BytesRead int64
	// HeaderOnly says sample payloads were served as placeholders (see
	// fileIO): only the container's structure was read.
	HeaderOnly bool
	// StreamInfo says whether avformat_find_stream_info ran.
	StreamInfo bool
	// Native says the answer came from the sample tables (package bmff),
	// without FFmpeg; NativeDecline, when FFmpeg answered in a mode the
	// native path serves, says why the native path declined the file.
	Native        bool
	NativeDecline string
}

var quietOnce sync.Once

// Version is the FFmpeg version vidcache links against (av_version_info).
func Version() string { return ffmpegVersion() }

// Probe reads path's timestamps. The returned error is non-nil only when ctx
// was cancelled; every problem with the file itself is in Result.Status.
func Probe(ctx context.Context, path string, opts Options) (*Result, error) {
	quietOnce.Do(func() {
		astiav.SetLogLevel(astiav.LogLevelQuiet)
	})
	start := time.Now()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &Result{}
	var moov []byte
	native := opts.Mode != vocab.ModeExact && !opts.Reference && !opts.FullRead && !opts.FFmpegOnly
	if native {
		done, why, m, err := probeNative(ctx, path, opts.Mode, opts.CPU, r)
		if err != nil {
			return nil, err
		}
		if done {
			if r.Pts == nil {
				r.Pts = []int64{}
			}
			r.Duration = time.Since(start)
			return r, nil
		}
		r.NativeDecline, moov = why, m
	}
	// FFmpeg's work, within one CPU slot.
	if err := opts.CPU.acquire(ctx); err != nil {
		return nil, err
	}
	defer opts.CPU.release()

	ii, release := interrupter(ctx, opts.Timeout)
	defer release()

	// What the native path read counts, and why it declined is kept.
	read, decline := r.BytesRead, r.NativeDecline
	*r = Result{}
	if err := checkDeclared(path, moov, opts.MemoryBudget); err != nil {
		r.Status, r.Err = vocab.StatusOpenFailed, err.Error()
	} else if opts.Mode == vocab.ModeScan {
		probeScan(path, opts, ii, r)
	} else {
		probe(path, opts, ii, r)
		r.Frames = len(r.Pts)
	}
	r.BytesRead += read
	r.NativeDecline = decline
	r.Duration = time.Since(start)
	if ii.Interrupted() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r.Status, r.Err, r.Pts, r.Frames = vocab.StatusTimeout, fmt.Sprintf("probe exceeded the %s time limit", opts.Timeout), nil, 0
	}
	if r.Pts == nil {
		r.Pts = []int64{}
	}
	return r, nil
}

// interrupter makes FFmpeg's blocking I/O return AVERROR_EXIT when ctx ends
// or timeout (if positive) passes; release frees it.
func interrupter(ctx context.Context, timeout time.Duration) (ii *astiav.IOInterrupter, release func()) {
	ii = astiav.NewIOInterrupter()
	cancel := func() {}
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
	}
	// The AfterFunc may already be running when the probe returns (stop does
	// not wait for it), and Interrupt on a freed interrupter writes through
	// a nil pointer: the mutex makes Free wait for it, and it skips a freed one.
	var mu sync.Mutex
	freed := false
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !freed {
			ii.Interrupt()
		}
	})
	return ii, func() {
		stop()
		mu.Lock()
		freed = true
		ii.Free()
		mu.Unlock()
		cancel()
	}
}

// probe is the PyAV-era probe (fast and exact modes): open, stream info
// unless the header is complete, the first video stream, then its
// timestamps by demuxing (fast, or the "Lavc" packet path) or decoding.
func probe(path string, opts Options, ii *astiav.IOInterrupter, r *Result) {
	fc := astiav.AllocFormatContext()
	if fc == nil {
		r.Status, r.Err = vocab.StatusOpenFailed, "cannot allocate a format context"
		return
	}
	defer fc.Free()
	fc.SetFlags(fc.Flags().Add(astiav.FormatContextFlagGenPts))
	fc.SetIOInterrupter(ii)
	// Header-only reading (fast mode only: exact decodes every payload).
	f, ok := open(fc, path, opts, opts.Mode == vocab.ModeFast && !opts.FullRead, false, r)
	if !ok {
		return
	}
	defer f.close()
	defer fc.CloseInput()
	defer func() { r.BytesRead = f.bytesRead() }()
	sizes := headerSizes(fc)
	if opts.Reference || !f.moovWhole() || !headerComplete(fc, f.size) {
		r.StreamInfo = true
		// Stream info decodes frames, and without NOPARSE the parsers read
		// every payload: real bytes from here on.
		f.setMasking(false)
		if err := fc.FindStreamInfo(nil); err != nil {
			r.Status, r.Err = vocab.StatusOpenFailed, "find stream info: "+err.Error()
			return
		}
	} else {
		// The MOV/MP4 demuxer sets pts, dts and the discard flag of every
		// packet from the sample table: GENPTS's look-ahead buffering, the
		// parsers and the timestamp fill-in would only cost time (together
		// more than half of a probe).
		fc.SetFlags(fc.Flags().Del(astiav.FormatContextFlagGenPts).
			Add(astiav.FormatContextFlagNoparse).Add(astiav.FormatContextFlagNofillin))
	}
	streams := fc.Streams()
	r.Streams = len(streams)
	vs := firstVideo(streams)
	if vs == nil {
		r.Status, r.Err = vocab.StatusNoVideo, fmt.Sprintf("no video stream among %d streams", len(streams))
		return
	}
	r.Stream = vs.Index()
	cp := vs.CodecParameters()
	if fr := vs.AvgFrameRate(); fr.Num() != 0 && fr.Den() != 0 {
		fps := float64(fr.Num()) / float64(fr.Den())
		r.FPS = &fps
	}
	tb := vs.TimeBase()
	r.TBNum, r.TBDen = tb.Num(), tb.Den()
	r.Codec = cp.CodecID().Name()
	r.Width, r.Height = sizes.of(vs)
	r.Demuxed = bytes.Contains(streams[0].CodecParameters().ExtraData(), []byte("Lavc"))
	if hasDV(streams) {
		f.setMasking(false)
	}
	r.HeaderOnly = f.masking()
	// Other streams are discarded before the first packet is read (when
	// stream info was skipped), so the demuxer skips their data entirely.
	for _, s := range streams {
		if s != vs {
			s.SetDiscard(astiav.DiscardAll)
		}
	}

	var pts []int64
	var err error
	if opts.Mode == vocab.ModeExact && !r.Demuxed {
		pts, err = decodePts(fc, vs, cp, ii, !opts.Reference)
		if err != nil {
			r.Status, r.Err = vocab.StatusDecodeError, err.Error()
			return
		}
	} else {
		pts, err = demuxPts(fc, vs, r.Demuxed)
		if err != nil {
			r.Status, r.Err = vocab.StatusReadError, err.Error()
			return
		}
	}
	slices.Sort(pts)
	r.Status, r.Pts = vocab.StatusOK, pts
}

// open opens path into fc: through FFmpeg's file protocol for Reference,
// otherwise through vidcache's fileIO, planning header-only reading when
// headerOnly (with scan's duration guard when checkDurations). It fills r
// and reports false on failure; the returned fileIO (nil for Reference) is
// the caller's to close after fc.CloseInput.
func open(fc *astiav.FormatContext, path string, opts Options, headerOnly, checkDurations bool, r *Result) (*fileIO, bool) {
	if opts.Reference {
		if err := fc.OpenInput(path, nil, nil); err != nil {
			r.Status, r.Err = vocab.StatusOpenFailed, "open: "+err.Error()
			return nil, false
		}
		return nil, true
	}
	f, err := openFile(path)
	if err != nil {
		r.Status, r.Err = vocab.StatusOpenFailed, "open: "+err.Error()
		return nil, false
	}
	mask := false
	if headerOnly && f.planMask(checkDurations) {
		mask = true
		f.setBufSize(ioBufSize)
	}
	if err := openInput(fc, path, f, mask); err != nil {
		r.BytesRead = f.bytesRead()
		f.close()
		r.Status, r.Err = vocab.StatusOpenFailed, "open: "+err.Error()
		return nil, false
	}
	return f, true
}

// hasDV: the MOV demuxer splits DV payloads into packets itself, so their
// bytes decide the packets.
func hasDV(streams []*astiav.Stream) bool {
	for _, s := range streams {
		switch s.CodecParameters().CodecID() {
		case astiav.CodecIDDvvideo, astiav.CodecIDDvaudio:
			return true
		}
	}
	return false
}

func firstVideo(streams []*astiav.Stream) *astiav.Stream {
	for _, s := range streams {
		if s.CodecParameters().MediaType() == astiav.MediaTypeVideo {
			return s
		}
	}
	return nil
}

// headerComplete reports whether avformat_find_stream_info can be skipped:
// only for the MOV/MP4 demuxer, which reads codec parameters, time bases,
// extradata, every packet's timestamps and (from the sample table) the
// average frame rate from the header, and only when the header did provide
// all of these for the first video stream and stream 0's extradata (the
// "Lavc" rule). find_stream_info never overrides an average frame rate the
// demuxer set, and this demuxer sets a pts on every packet, so GENPTS is
// cleared and parsing and fill-in are turned off too. Anything else takes
// PyAV's full path, and so does a sample not inside the file (samplesInside)
// or a moov cut short by the end of the file (fileIO.moovWhole).
// TestShortcutsMatchReference checks equal results both ways on every
// fixture.
func headerComplete(fc *astiav.FormatContext, size int64) bool {
	f := fc.InputFormat()
	if f == nil || !strings.HasPrefix(f.Name(), "mov,") || !samplesInside(fc, size) {
		return false
	}
	streams := fc.Streams()
	vs := firstVideo(streams)
	if vs == nil || len(streams[0].CodecParameters().ExtraData()) == 0 {
		return false
	}
	cp := vs.CodecParameters()
	fr, tb := vs.AvgFrameRate(), vs.TimeBase()
	return cp.CodecID() != astiav.CodecIDNone && cp.Width() > 0 && cp.Height() > 0 &&
		fr.Num() > 0 && fr.Den() > 0 && tb.Num() > 0 && tb.Den() > 0
}
