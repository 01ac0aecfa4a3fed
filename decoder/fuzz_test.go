package decoder

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// FuzzProbe feeds mutated video files through Probe in both modes: no crash,
// no hang past the time limit, a valid status, sorted timestamps, and fps
// only where a video stream was found.
func FuzzProbe(f *testing.F) {
	for _, p := range []string{
		"../testdata/sample/train/.hidden/hidden-class.mp4",
		"../testdata/sample/train/juggling/nested/z.mp4",
		"../testdata/sample/train/playing guitar/UPPER.MP4",
		"../testdata/stall-prefix.ts",
	} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, exact bool) {
		p := filepath.Join(t.TempDir(), "in.mp4")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		mode := vocab.ModeFast
		if exact {
			mode = vocab.ModeExact
		}
		// Every input is also scanned as torchcodec would (vocab.ModeScan).
		for _, m := range []vocab.Mode{mode, vocab.ModeScan} {
			checkFuzzProbe(t, p, m)
		}
	})
}

// checkFuzzProbe probes p in mode and checks what any result must satisfy.
func checkFuzzProbe(t *testing.T, p string, mode vocab.Mode) {
	start := time.Now()
	r, err := Probe(context.Background(), p, Options{Mode: mode, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("probe took %v despite the 5s limit", time.Since(start))
	}
	// Neither header-only reading, nor the native path, nor the shortcuts
	// may change anything (differential check): the default (native where
	// it answers), FFmpeg with header-only reading and FFmpeg reading every
	// byte agree, and for the scan also the reference path (torchcodec's
	// way: stream info, every byte, no shortcut). Fast mode's shortcut
	// turns FFmpeg's parsers off, which on a well-formed payload change no
	// timestamp (TestShortcutsMatchReference, on every fixture) but on a
	// corrupted H.264 payload can (testdata/fuzz/FuzzProbe/7854433f164fffa4:
	// the parser takes one packet's pts away): fast mode is compared with
	// its reference only on real files.
	if mode != vocab.ModeExact {
		others := []Options{{FFmpegOnly: true}, {FullRead: true}}
		if mode == vocab.ModeScan {
			others = append(others, Options{Reference: true})
		}
		for _, o := range others {
			o.Mode, o.Timeout = mode, 5*time.Second
			full, err := Probe(context.Background(), p, o)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != vocab.StatusTimeout && full.Status != vocab.StatusTimeout {
				if a, b := comparable(*r), comparable(*full); !reflect.DeepEqual(a, b) {
					t.Fatalf("%s: the result changes (native %v):\n%+v: %+v\n default: %+v", mode, r.Native, o, b, a)
				}
			}
		}
	}
	switch r.Status {
	case vocab.StatusOK, vocab.StatusOpenFailed, vocab.StatusNoVideo, vocab.StatusReadError, vocab.StatusDecodeError, vocab.StatusTimeout:
	default:
		t.Fatalf("status %q", r.Status)
	}
	if r.Status != vocab.StatusOK && len(r.Pts) != 0 {
		t.Fatalf("%s with %d timestamps", r.Status, len(r.Pts))
	}
	if (r.Status == vocab.StatusOpenFailed || r.Status == vocab.StatusNoVideo) && r.FPS != nil {
		t.Fatalf("%s with fps %v", r.Status, *r.FPS)
	}
	for i := 1; i < len(r.Pts); i++ {
		if r.Pts[i] < r.Pts[i-1] {
			t.Fatal("timestamps not sorted")
		}
	}
	if mode == vocab.ModeScan && (len(r.Pts) != 0 || r.Frames < 0 || (r.Status != vocab.StatusOK && r.Frames != 0)) {
		t.Fatalf("scan: %s with %d pts and %d frames", r.Status, len(r.Pts), r.Frames)
	}
	if mode != vocab.ModeScan && r.Frames != len(r.Pts) {
		t.Fatalf("%d frames but %d timestamps", r.Frames, len(r.Pts))
	}
}
