package decoder

import (
	"context"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// comparable clears what differs between two reads of one answer: time,
// bytes, and which path gave it.
func comparable(r Result) Result {
	r.Duration, r.BytesRead, r.HeaderOnly, r.StreamInfo = 0, 0, false, false
	r.Native, r.NativeDecline = false, ""
	return r
}

func fpsOf(r *Result) any {
	if r.FPS == nil {
		return nil
	}
	return *r.FPS
}

func probeOpts(t testing.TB, f string, o Options) *Result {
	t.Helper()
	r, err := Probe(context.Background(), f, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestNativeMatchesFFmpeg is the native path's differential test: on every
// fixture (the sample, hostile, damaged, codecs, fragmented and native
// trees, cut and bit-flipped copies, and the bench corpus when
// VIDCACHE_BENCH_CORPUS is set), in both modes it serves, every field of a
// native answer equals FFmpeg's with its shortcuts and FFmpeg's reference
// path (PyAV's and torchcodec's way, reading every byte).
func TestNativeMatchesFFmpeg(t *testing.T) {
	native := map[vocab.Mode]int{}
	for _, f := range fixtures(t) {
		if filepath.Base(f) == "declares-80M-samples.mp4" {
			continue // FFmpeg is refused this one: TestDeclaredSamplesBudget
		}
		for _, mode := range []vocab.Mode{vocab.ModeScan, vocab.ModeFast} {
			n := probeOpts(t, f, Options{Mode: mode})
			if !n.Native {
				t.Logf("%s (%s): FFmpeg: %s", f, mode, n.NativeDecline)
				continue
			}
			native[mode]++
			for _, o := range []Options{{FFmpegOnly: true}, {Reference: true}} {
				o.Mode = mode
				g := probeOpts(t, f, o)
				if g.Native || g.NativeDecline != "" {
					t.Fatalf("%+v took the native path", o)
				}
				if !reflect.DeepEqual(comparable(*n), comparable(*g)) {
					t.Errorf("%s (%s): native and FFmpeg (%+v) differ:\nnative %+v fps %v\nFFmpeg %+v fps %v",
						f, mode, o, comparable(*n), fpsOf(n), comparable(*g), fpsOf(g))
				}
			}
		}
	}
	for _, mode := range []vocab.Mode{vocab.ModeScan, vocab.ModeFast} {
		if native[mode] < 25 {
			t.Errorf("%s: only %d fixtures answered natively", mode, native[mode])
		}
	}
}

// TestNativeShapes: each accepted shape has a fixture, and it is in fact
// answered natively (in the modes that serve it); the shapes that are not
// accepted go to FFmpeg and say why.
func TestNativeShapes(t *testing.T) {
	both := []string{
		"edit-bframes.mp4",           // one edit, media_time > 0 (B-frames), index at the end
		"edit-bframes-faststart.mp4", // the same, index in front
		"empty-edit.mp4",             // an empty edit, then one edit
		"negative-cts.mp4",           // ctts version 1, negative offsets (a dts shift)
		"irregular-stts.mp4",         // 30000/1001 in a 1 ms timescale: 33/34 deltas
		"ntsc-90k.mp4",               // 30000/1001 in 90 kHz
		"ntsc-no-bframes.mp4",        // no ctts
		"audio-first-faststart.mp4",  // stream 0 is AAC with its own edit
		"one-sample.mp4",             // a one-sample video
		"large-timescale.mp4",        // timescale 2e9
		"no-editlist.mp4",            // no edit list
		"declares-80k-samples.mp4",   // samples past the end of the file
		"../sample/train/juggling/audio-first.mp4",
	}
	for _, name := range both {
		for _, mode := range []vocab.Mode{vocab.ModeScan, vocab.ModeFast} {
			if r := probeOpts(t, nativeFixtures+name, Options{Mode: mode}); !r.Native || r.Status != vocab.StatusOK {
				t.Errorf("%s (%s): not native: %s %s", name, mode, r.Status, r.NativeDecline)
			}
		}
	}
	// A last sample of duration 0: FFmpeg fills the duration in from the
	// parser for the scan, so FFmpeg answers; fast mode uses only pts.
	if r := probeOpts(t, nativeFixtures+"zero-last-duration.mp4", Options{Mode: vocab.ModeScan}); r.Native || !strings.Contains(r.NativeDecline, "zero stts delta") {
		t.Errorf("zero-last-duration (scan): %+v", r)
	}
	if r := probeOpts(t, nativeFixtures+"zero-last-duration.mp4", Options{Mode: vocab.ModeFast}); !r.Native {
		t.Errorf("zero-last-duration (fast): %s", r.NativeDecline)
	}
	for _, c := range []struct{ file, why string }{
		{"nested-moov.mp4", `"moov" inside "moov"`},
		{"quicktime.mov", `"wave" inside "mp4a"`},
		{"../fragmented.mp4", `top-level "moof"`},
		{"../sample/train/playing guitar/mpeg4-lavc.mp4", `"esds" inside "mp4v"`},
		{"../codecs/train/codecs/hevc.mp4", "video codec hevc for the scan"},
	} {
		r := probeOpts(t, nativeFixtures+c.file, Options{Mode: vocab.ModeScan})
		if r.Native || !strings.Contains(r.NativeDecline, c.why) {
			t.Errorf("%s: native %v, declined %q, want %q", c.file, r.Native, r.NativeDecline, c.why)
		}
	}
}

// TestNestedMoovReadInFull: FFmpeg builds streams from a moov inside the
// moov too, so such a file is neither answered natively nor read
// header-only (issue 23, item 7: a nested AV1 track whose last stts delta
// was 0 got the wrong frame rate from zeroed payloads).
func TestNestedMoovReadInFull(t *testing.T) {
	f := nativeFixtures + "nested-moov.mp4"
	r := probeOpts(t, f, Options{Mode: vocab.ModeScan, FFmpegOnly: true})
	full := probeOpts(t, f, Options{Mode: vocab.ModeScan, FullRead: true})
	if r.HeaderOnly || r.Streams != 4 {
		t.Errorf("nested moov: header-only %v, %d streams", r.HeaderOnly, r.Streams)
	}
	if !reflect.DeepEqual(comparable(*r), comparable(*full)) {
		t.Errorf("nested moov: %+v, full read %+v", r, full)
	}
}

// TestDeclaredSamplesBudget: a 17 KB file whose one chunk declares 80
// million samples of one size (issue 23, item 7). The native probe works in
// table entries and answers from the 53 samples the file holds, in a few
// hundred KB; FFmpeg would build an 80-million-entry index (2.7 GB), so its
// paths refuse the file with the reason. The same shape declaring 80,000
// samples is in TestNativeMatchesFFmpeg, equal to FFmpeg.
func TestDeclaredSamplesBudget(t *testing.T) {
	f := nativeFixtures + "declares-80M-samples.mp4"
	for _, mode := range []vocab.Mode{vocab.ModeScan, vocab.ModeFast} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r := probeOpts(t, f, Options{Mode: mode})
		runtime.ReadMemStats(&after)
		if !r.Native || r.Status != vocab.StatusOK || r.Frames != 53 || r.FPS == nil || *r.FPS != 25 {
			t.Errorf("%s: %+v fps %v", mode, r, fpsOf(r))
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
			t.Errorf("%s: the native probe allocated %d bytes", mode, alloc)
		}
		for _, o := range []Options{{FFmpegOnly: true}, {Reference: true}} {
			o.Mode = mode
			g := probeOpts(t, f, o)
			if g.Status != vocab.StatusOpenFailed || !strings.Contains(g.Err, "declares 80000000 samples") {
				t.Errorf("%s %+v: %s %q", mode, o, g.Status, g.Err)
			}
		}
	}
	// Within a budget that fits, FFmpeg reads the 80,000-sample variant.
	r := probeOpts(t, nativeFixtures+"declares-80k-samples.mp4", Options{Mode: vocab.ModeScan, FFmpegOnly: true})
	if r.Status != vocab.StatusOK || r.Frames != 53 {
		t.Errorf("80k: %+v", r)
	}
}

// TestHeaderSizeWins: a sample entry that says 176x144 over a bitstream
// whose SPS says 128x96. avformat_find_stream_info replaces the header's
// size with the decoder's, so a path that skips it (native, the scan's
// shortcut, header-complete fast mode) and one that runs it (full read,
// the reference) would disagree; every path reports the header's (found by
// FuzzProbe in CI: the scan's shortcut against its full read).
func TestHeaderSizeWins(t *testing.T) {
	f := nativeFixtures + "header-size-differs.mp4"
	for _, mode := range []vocab.Mode{vocab.ModeScan, vocab.ModeFast, vocab.ModeExact} {
		for _, o := range []Options{{}, {FFmpegOnly: true}, {FullRead: true}, {Reference: true}} {
			o.Mode = mode
			r := probeOpts(t, f, o)
			if r.Status != vocab.StatusOK || r.Width != 176 || r.Height != 144 {
				t.Errorf("%+v: %s %dx%d, want ok 176x144", o, r.Status, r.Width, r.Height)
			}
		}
	}
}

// TestSamplesPastTheEnd: a 7 KB file whose first two samples declare 606
// MB (FuzzProbe's find; the native probe declines it). Stream info reads
// past the end, the demuxer retries that sample from another I/O state, and
// the retry fails with ENOMEM, as it does for torchcodec 0.14 ("Failed to
// read frame from input file: Cannot allocate memory") and PyAV 14 (no
// timestamps). Skipping stream info would have answered ok; every path
// must take it and agree.
func TestSamplesPastTheEnd(t *testing.T) {
	f := nativeFixtures + "sample-past-end.mp4"
	for _, mode := range []vocab.Mode{vocab.ModeScan, vocab.ModeFast} {
		for _, o := range []Options{{}, {FFmpegOnly: true}, {FullRead: true}, {Reference: true}} {
			o.Mode = mode
			r := probeOpts(t, f, o)
			if r.Status != vocab.StatusReadError || !strings.Contains(r.Err, "Cannot allocate memory") || !r.StreamInfo {
				t.Errorf("%+v: %s %q (stream info %v), want a read error after stream info", o, r.Status, r.Err, r.StreamInfo)
			}
		}
	}
}

// TestMoovCutShort: a file whose moov box runs past the end of the file
// (FuzzProbe's find). FFmpeg reads the part of the sample tables that is
// there; skipping stream info, GENPTS and the parsers then gave one packet
// more than PyAV 14 demuxes (8: pts 0 to 58720256 and the flush packet),
// so every fast path takes PyAV's way and agrees with the reference.
func TestMoovCutShort(t *testing.T) {
	f := nativeFixtures + "moov-cut-short.mp4"
	ref := probeOpts(t, f, Options{Mode: vocab.ModeFast, Reference: true})
	if ref.Status != vocab.StatusOK || len(ref.Pts) != 8 {
		t.Fatalf("reference: %s with %d pts, want ok with 8 as PyAV", ref.Status, len(ref.Pts))
	}
	for _, o := range []Options{{}, {FFmpegOnly: true}, {FullRead: true}} {
		o.Mode = vocab.ModeFast
		if r := probeOpts(t, f, o); !reflect.DeepEqual(comparable(*r), comparable(*ref)) || !r.StreamInfo {
			t.Errorf("%+v: %+v (stream info %v), reference %+v", o, comparable(*r), r.StreamInfo, comparable(*ref))
		}
	}
}
