package decoder

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vidcache/vidcache/cachefmt/vocab"
)

const sample = "../testdata/sample/train/"

func probeT(t *testing.T, path string, mode vocab.Mode) *Result {
	t.Helper()
	r, err := Probe(context.Background(), path, Options{Mode: mode, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestProbeSample(t *testing.T) {
	for _, c := range []struct {
		path           string
		fps            float64
		frames         int
		codec          string
		demuxed        bool
		tbNum, tbDenom int
	}{
		{"abseiling/h264-25fps.mp4", 25, 50, "h264", false, 1, 12800},
		{"abseiling/h264-29.97fps.mp4", 30000.0 / 1001, 60, "h264", false, 1, 30000},
		{"playing guitar/mpeg4-bframes.avi", 25, 50, "mpeg4", false, 1, 25},
		{"playing guitar/mpeg4-lavc.mp4", 25, 50, "mpeg4", true, 1, 12800},
		{"juggling/audio-first.mp4", 25, 50, "h264", false, 1, 12800},
	} {
		for _, mode := range []vocab.Mode{vocab.ModeFast, vocab.ModeExact} {
			r := probeT(t, sample+c.path, mode)
			if r.Status != vocab.StatusOK || r.FPS == nil || *r.FPS != c.fps || len(r.Pts) != c.frames ||
				r.Codec != c.codec || r.Demuxed != c.demuxed || r.TBNum != c.tbNum || r.TBDen != c.tbDenom {
				t.Errorf("%s (%s): %+v fps %v", c.path, mode, r, r.FPS)
			}
			for i := 1; i < len(r.Pts); i++ {
				if r.Pts[i] < r.Pts[i-1] {
					t.Fatalf("%s: pts not sorted", c.path)
				}
			}
		}
	}
}

// damagedSample returns an H.264 sample file and a copy whose coded data is
// scrambled from 30% to 50% into its mdat: it demuxes cleanly, and decoding
// fails.
func damagedSample(t *testing.T) (good, flipped []byte) {
	t.Helper()
	good, err := os.ReadFile(sample + "abseiling/h264-25fps.mp4")
	if err != nil {
		t.Fatal(err)
	}
	flipped = bytes.Clone(good)
	i := bytes.Index(flipped, []byte("mdat")) + 8
	for k := i + (len(flipped)-i)*3/10; k < i+(len(flipped)-i)/2; k++ {
		flipped[k] = flipped[k]*31 + 0x5a
	}
	return good, flipped
}

func TestProbeFailures(t *testing.T) {
	dir := t.TempDir()
	good, flipped := damagedSample(t)
	files := map[string][]byte{
		"empty.mp4":   nil,
		"text.mp4":    []byte("not a video\n"),
		"no-moov.mp4": good[:len(good)/2],
		"flipped.mp4": flipped,
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name   string
		mode   vocab.Mode
		status vocab.Status
		fps    bool
		frames int
		cause  string
	}{
		{"empty.mp4", vocab.ModeFast, vocab.StatusOpenFailed, false, 0, "Invalid data"},
		{"text.mp4", vocab.ModeExact, vocab.StatusOpenFailed, false, 0, "Invalid data"},
		{"no-moov.mp4", vocab.ModeFast, vocab.StatusOpenFailed, false, 0, "open"},
		{"missing.mp4", vocab.ModeFast, vocab.StatusOpenFailed, false, 0, "No such file"},
		{"flipped.mp4", vocab.ModeFast, vocab.StatusOK, true, 50, ""},
		{"flipped.mp4", vocab.ModeExact, vocab.StatusDecodeError, true, 0, "decode"},
		{"sample:playing guitar/audio-only.m4a", vocab.ModeFast, vocab.StatusOpenFailed, false, 0, "No such file"},
	} {
		p := filepath.Join(dir, c.name)
		if strings.HasPrefix(c.name, "sample:") {
			p = sample + strings.TrimPrefix(c.name, "sample:")
		}
		r := probeT(t, p, c.mode)
		if r.Status != c.status || (r.FPS != nil) != c.fps || len(r.Pts) != c.frames || !strings.Contains(r.Err, c.cause) {
			t.Errorf("%s (%s): status %s err %q fps %v frames %d", c.name, c.mode, r.Status, r.Err, r.FPS, len(r.Pts))
		}
	}
}

func TestProbeCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Probe(ctx, sample+"abseiling/h264-25fps.mp4", Options{Mode: vocab.ModeExact}); err == nil {
		t.Fatal("a cancelled probe returned no error")
	}
}

func TestVersion(t *testing.T) {
	if v := Version(); !strings.HasPrefix(v, "9.") {
		t.Errorf("FFmpeg version %q, want 9.x", v)
	}
}

// stallingInput is a valid MPEG-TS start followed by a 50 GB hole that the
// demuxer would read through for minutes.
func stallingInput(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../testdata/stall-prefix.ts")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "stall.mp4")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, 50<<30); err != nil {
		t.Skipf("no sparse files here: %v", err)
	}
	return p
}

func TestTimeoutStopsAStall(t *testing.T) {
	p := stallingInput(t)
	for _, mode := range []vocab.Mode{vocab.ModeFast, vocab.ModeExact} {
		start := time.Now()
		r, err := Probe(context.Background(), p, Options{Mode: mode, Timeout: time.Second})
		took := time.Since(start)
		if err != nil || r.Status != vocab.StatusTimeout || len(r.Pts) != 0 || !strings.Contains(r.Err, "1s time limit") || took > 3*time.Second {
			t.Errorf("%s: %v %+v after %v", mode, err, r, took)
		}
	}
}

func TestCancelStopsAStall(t *testing.T) {
	p := stallingInput(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	if _, err := Probe(ctx, p, Options{Mode: vocab.ModeFast}); err == nil || time.Since(start) > 2*time.Second {
		t.Errorf("cancelled probe: %v after %v", err, time.Since(start))
	}
}

// TestHugeFrameCountHeader probes files whose headers declare billions of
// frames (an MP4 stts count of 2^32-16; an AVI stream length of 2^32-1). The
// frame count is only a capacity hint: the probe must neither allocate from
// it nor trust it (this was FuzzProbe's first crasher: a 32 GB allocation
// killed the process).
func TestHugeFrameCountHeader(t *testing.T) {
	dir := t.TempDir()
	patch := func(src, atom string, off int, v []byte) string {
		b, err := os.ReadFile(sample + src)
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(b, []byte(atom))
		if i < 0 {
			t.Fatalf("%s: no %s", src, atom)
		}
		copy(b[i+off:], v)
		p := filepath.Join(dir, strings.ReplaceAll(src, "/", "_"))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	files := []string{
		// stts: size type | version+flags | entry count | first entry's sample count
		patch("abseiling/h264-25fps.mp4", "stts", 12, []byte{0xff, 0xff, 0xff, 0xf0}),
		// strh: type | size | fccType fccHandler flags priority language initialFrames scale rate start | length
		patch("playing guitar/mpeg4-bframes.avi", "strh", 8+32, []byte{0xff, 0xff, 0xff, 0xff}),
	}
	for _, p := range files {
		for _, mode := range []vocab.Mode{vocab.ModeFast, vocab.ModeExact} {
			r := probeT(t, p, mode)
			if r.Status == vocab.StatusOK && len(r.Pts) > 1000 {
				t.Errorf("%s (%s): %d timestamps from a 2-second file", p, mode, len(r.Pts))
			}
			t.Logf("%s (%s): %s %q, %d timestamps", filepath.Base(p), mode, r.Status, r.Err, len(r.Pts))
		}
	}
}

// TestCancelDuringReturn: a context cancelled just as a probe returns must
// not interrupt the freed interrupter (go-astiav's Interrupt writes through
// its C pointer, which Free sets to nil: a SIGSEGV in CI once, on SIGINT).
func TestCancelDuringReturn(t *testing.T) {
	path := "../testdata/sample/train/juggling/nested/z.mp4"
	t0 := time.Now()
	Probe(context.Background(), path, Options{Mode: vocab.ModeScan})
	probeTime := time.Since(t0)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1500; i++ {
				ctx, cancel := context.WithCancel(context.Background())
				// Cancel around the moment the probe returns.
				d := probeTime * time.Duration(80+i%40) / 100
				timer := time.AfterFunc(d, cancel)
				Probe(ctx, path, Options{Mode: []vocab.Mode{vocab.ModeFast, vocab.ModeScan}[i%2]})
				timer.Stop()
				cancel()
			}
		}()
	}
	wg.Wait()
}

// TestProbeRefusesNonRegularAtOpen: a FIFO (or a directory) put in a video's
// place after the walk fails at open with the cause instead of blocking in
// open(2) — the descriptor, not the path, is checked — in every mode.
func TestProbeRefusesNonRegularAtOpen(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "swapped.mp4")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	sub := filepath.Join(dir, "dir.mp4")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, sub} {
		for _, mode := range []vocab.Mode{vocab.ModeFast, vocab.ModeExact, vocab.ModeScan} {
			done := make(chan *Result, 1)
			go func() {
				r, _ := Probe(context.Background(), p, Options{Mode: mode, Timeout: time.Second})
				done <- r
			}()
			select {
			case r := <-done:
				if r.Status != vocab.StatusOpenFailed || !strings.Contains(r.Err, "not a regular file") {
					t.Errorf("%s (%s): %s %q", p, mode, r.Status, r.Err)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s (%s): the probe blocked", p, mode)
			}
		}
	}
}
