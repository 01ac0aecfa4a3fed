// Package vocab is vidcache's vocabulary: the words every package shares,
// as types with a String method and one parser each, so that the rest of
// the code compares constants and never spells a mode, target or status as
// a string literal.
//
//   - Target: the torchvision generation a cache is for.
//   - Mode: how a cache's videos were read (and, for a probe, how to read
//     one); an imported cache's mode is ModeImported.
//   - Status: what became of one video: ok, or why torchvision gets
//     nothing from it.
//   - Origin: where an index row's facts came from: a probe, or a
//     torchvision cache that import converted.
//
// Their string forms are written into cache files, the index and --json
// output, so they never change. The package is a leaf: it imports only the
// standard library, and decoder, cachefmt, indexer and cmd all use it.
package vocab

import "fmt"

// Target is the torchvision generation a cache is for.
type Target string

const (
	// TargetTorchvision is torchvision 0.26 and later: VideoClips reads
	// videos with torchcodec, video_pts are frame indices, fps is
	// torchcodec's average_fps. Probed in ModeScan.
	TargetTorchvision Target = "torchvision"
	// TargetPyAV is torchvision 0.25 and earlier: PyAV timestamps, probed
	// in ModeFast or ModeExact.
	TargetPyAV Target = "torchvision-pyav"
)

func (t Target) String() string { return string(t) }

// ParseTarget reads a target name.
func ParseTarget(s string) (Target, error) {
	switch t := Target(s); t {
	case TargetTorchvision, TargetPyAV:
		return t, nil
	}
	return "", fmt.Errorf("unknown target %q (want torchvision for torchvision 0.26 and later, or torchvision-pyav for 0.25 and earlier)", s)
}

// Set parses s into t (flag.Value).
func (t *Target) Set(s string) error {
	v, err := ParseTarget(s)
	if err == nil {
		*t = v
	}
	return err
}

// DefaultMode is the mode a target reads videos in unless told otherwise.
func (t Target) DefaultMode() Mode {
	if t == TargetPyAV {
		return ModeFast
	}
	return ModeScan
}

// Mode is how videos are read.
type Mode string

const (
	// ModeScan is torchcodec's exact-mode packet scan (torchvision 0.26+):
	// a frame count and average_fps, no timestamps.
	ModeScan Mode = "scan"
	// ModeFast reads PyAV timestamps by demuxing only.
	ModeFast Mode = "fast"
	// ModeExact reads PyAV timestamps, decoding where torchvision decodes.
	ModeExact Mode = "exact"
	// ModeImported is the mode of a cache that import converted from a
	// torchvision cache: nothing was read by vidcache. It is a cache's
	// mode only, never a way to probe.
	ModeImported Mode = "imported"
)

func (m Mode) String() string { return string(m) }

// ParseMode reads the name of a way to read videos: scan, fast or exact.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeScan, ModeFast, ModeExact:
		return m, nil
	}
	return "", fmt.Errorf("unknown mode %q (want scan, or fast or exact for torchvision-pyav)", s)
}

// Set parses s into m (flag.Value).
func (m *Mode) Set(s string) error {
	v, err := ParseMode(s)
	if err == nil {
		*m = v
	}
	return err
}

// Timestamps reports whether the mode reads PyAV timestamps (fast, exact),
// which the torchvision-pyav target stores.
func (m Mode) Timestamps() bool { return m == ModeFast || m == ModeExact }

// Status is what became of one video. Everything but StatusOK is a failure
// that torchvision meets too: it gets no frames from the video (see
// Failed).
type Status string

const (
	// StatusUnknown: no status at hand, as for a cache file read without
	// its index.
	StatusUnknown Status = ""
	StatusOK      Status = "ok"
	// StatusOpenFailed: not openable as media: no pts, fps None.
	StatusOpenFailed Status = "open_failed"
	// StatusNoVideo: no (decodable) video stream: no pts, fps None.
	StatusNoVideo Status = "no_video_stream"
	// StatusReadError: demuxing failed midway: no pts, fps kept.
	StatusReadError Status = "read_error"
	// StatusDecodeError: exact mode's decoding failed: no pts, fps kept.
	StatusDecodeError Status = "decode_error"
	// StatusTimeout: the per-video time limit hit: no pts.
	StatusTimeout Status = "timeout"
	// StatusMissing: stat failed (a dangling symlink, a vanished file).
	StatusMissing Status = "missing"
	// StatusNotRegular: a FIFO, socket or device; never opened.
	StatusNotRegular Status = "not_regular_file"
	// StatusImportedEmpty: an imported cache held no timestamps for it.
	StatusImportedEmpty Status = "imported_empty"
)

func (s Status) String() string { return string(s) }

// OK reports whether the video was read.
func (s Status) OK() bool { return s == StatusOK }

// Failed is the one definition of a failed video, given its status and
// the frames a cache holds of it: a known status says it (anything but ok
// failed; an ok video without frames is empty, not failed, as torchvision
// reads it without an error); with StatusUnknown, a video without frames
// is taken for failed, since every failure leaves it none.
func (s Status) Failed(frames int64) bool {
	if s == StatusUnknown {
		return frames == 0
	}
	return !s.OK()
}

// Origin is where an index row's facts came from.
type Origin string

const (
	// OriginProbed: vidcache read the video (the row's FFmpeg column says
	// with which FFmpeg).
	OriginProbed Origin = "probed"
	// OriginImported: import took the facts from a torchvision cache; a
	// build does not take them for probe results unless told to trust
	// them.
	OriginImported Origin = "imported"
)

func (o Origin) String() string { return string(o) }
