// Package bmff answers vidcache's probe questions for plain (unfragmented)
// ISO BMFF files — MP4, M4V, MOV, 3GP — from the moov box alone, exactly as
// FFmpeg 9's MOV demuxer and the callers in package decoder would answer
// them, or declines.
//
// It reads the boxes with github.com/Eyevinn/mp4ff and reproduces, in the
// entries of the sample tables, what libavformat/mov.c derives from them:
// mov_read_stts/ctts/stsc/stsz/stco/stss/elst, the sample index of
// mov_build_index (including the dts shift that negative composition
// offsets cause), mov_fix_index for the edit-list shapes listed below, the
// packets mov_read_packet hands out (timestamps, durations with FFmpeg 9's
// duration rule, the discard flag, the end of reading at the first sample
// beyond the end of the file), and the seek to pts 0 torchcodec does after
// its scan. Nothing here links FFmpeg: the package is tested on its own, and
// package decoder's differential tests compare every answer with FFmpeg's.
//
// A file is answered natively only when every box FFmpeg would act on is
// one this package understands in the place it is; everything else is a
// Decline, and the caller hands the whole file to FFmpeg. Accepted:
//
//   - top level: ftyp first, then moov, mdat, free, skip, wide only; one moov;
//   - tracks: one video track (hdlr 'vide'; avc1/avc3 for torchcodec's scan,
//     also hvc1/hev1/av01/vp09 for the PyAV fast mode) and any number of
//     AAC audio tracks (hdlr 'soun', mp4a with an MPEG-4 audio esds), each
//     with one sample description, consistent tables (stts, ctts, stsc,
//     stsz/stz2, stco/co64 describe the same number of samples) and a
//     self-contained data reference;
//   - edit lists: none; one edit with media_time >= 0 at rate 1; an empty
//     edit followed by one such edit;
//   - metadata: udta/meta/ilst as FFmpeg's muxer and most encoders write it
//     (no cover art, no QuickTime metadata keys, no chapters).
//
// What is declined (among others): fragments, several video tracks, other
// codecs, several edits, stps/rap sample groups, encryption, QuickTime
// sound descriptions of version 1 or 2, anything mp4ff cannot decode and
// encode back to the same bytes.
package bmff

import "fmt"

// Decline is why a file is not answered natively. Its text says what was
// found ("edit list with 3 entries"), for build --verbose.
type Decline struct{ Reason string }

func (d *Decline) Error() string { return d.Reason }

func decline(format string, args ...any) *Decline {
	return &Decline{Reason: fmt.Sprintf(format, args...)}
}

// Target is the question asked.
type Target int

const (
	// Scan is torchcodec's exact-mode packet scan (torchvision 0.26+).
	Scan Target = iota
	// Fast is the PyAV timestamps vidcache's fast mode reads (torchvision
	// 0.25 and earlier).
	Fast
)

// Answer is what a native probe found, in the terms of decoder.Result.
type Answer struct {
	Stream  int // index of the video stream (FFmpeg's stream order: trak order)
	Streams int
	Codec   string // FFmpeg's codec name
	Width   int
	Height  int
	TBNum   int
	TBDen   int
	// Frames: the packets counted (Scan) or the timestamps kept (Fast).
	Frames int
	// FPS: Scan: frames / (end - begin) in seconds; Fast: avg_frame_rate.
	FPS *float64
	// Pts (Fast only): the timestamps, sorted.
	Pts []int64
	// Demuxed (Fast only): stream 0's extradata holds "Lavc".
	Demuxed bool
}
