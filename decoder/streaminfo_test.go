package decoder

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// fixtures lists every video-like file the tests use: the sample, the
// hostile containers, damaged copies, and (when VIDCACHE_BENCH_CORPUS points
// at it) the benchmark corpus.
func fixtures(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, dir := range []string{"../testdata", os.Getenv("VIDCACHE_BENCH_CORPUS")} {
		if dir == "" {
			continue
		}
		filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.Mode().IsRegular() {
				switch filepath.Ext(p) {
				case ".mp4", ".MP4", ".mov", ".avi", ".mkv", ".ts", ".flv":
					files = append(files, p)
				}
			}
			return nil
		})
	}
	// Damaged MP4s: bit flips and cuts, where the header's completeness is
	// least certain.
	src, err := os.ReadFile("../testdata/sample/train/abseiling/h264-25fps.mp4")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i, cut := range []float64{0.3, 0.5, 0.9} {
		p := filepath.Join(dir, "cut"+string(rune('a'+i))+".mp4")
		os.WriteFile(p, src[:int(float64(len(src))*cut)], 0o644)
		files = append(files, p)
	}
	fast, _ := os.ReadFile("../testdata/faststart.mp4")
	for i, cut := range []float64{0.2, 0.6, 0.95} {
		p := filepath.Join(dir, "fs-cut"+string(rune('a'+i))+".mp4")
		os.WriteFile(p, fast[:int(float64(len(fast))*cut)], 0o644)
		files = append(files, p)
	}
	flipped := bytes.Clone(src)
	for k := len(flipped) / 3; k < len(flipped)/2; k++ {
		flipped[k] ^= 0x55
	}
	p := filepath.Join(dir, "flipped.mp4")
	os.WriteFile(p, flipped, 0o644)
	return append(files, p)
}

// TestShortcutsMatchReference: vidcache's shortcuts (no stream info, GENPTS
// or parsing for header-complete MP4/MOV; no loop filter or IDCT when
// decoding) give exactly the result of PyAV's full path, in both modes, on
// every fixture; and stream info is in fact skipped for the common MP4s.
func TestShortcutsMatchReference(t *testing.T) {
	skipped := 0
	for _, f := range fixtures(t) {
		for _, mode := range []vocab.Mode{vocab.ModeFast, vocab.ModeExact, vocab.ModeScan} {
			full, err := Probe(context.Background(), f, Options{Mode: mode, Reference: true})
			if err != nil {
				t.Fatal(err)
			}
			quick, err := Probe(context.Background(), f, Options{Mode: mode, FFmpegOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			if !quick.StreamInfo {
				skipped++
			}
			full.Duration, quick.Duration = 0, 0
			full.StreamInfo, quick.StreamInfo = false, false
			quick.BytesRead, quick.HeaderOnly = 0, false
			if !reflect.DeepEqual(full, quick) {
				t.Errorf("%s (%s): the shortcuts change the result:\n full %+v\nquick %+v", f, mode, full, quick)
			}
		}
	}
	if skipped < 20 {
		t.Errorf("stream info skipped only %d times", skipped)
	}
}

// TestHeaderOnlyMatchesFullRead: header-only reading (sample payloads served
// as placeholders) gives exactly the result of reading every byte, for both
// modes that use it, on every fixture; it is in fact used for the plain
// MP4s, and then reads a small part of the file.
func TestHeaderOnlyMatchesFullRead(t *testing.T) {
	used := map[vocab.Mode]int{}
	for _, f := range fixtures(t) {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range []vocab.Mode{vocab.ModeFast, vocab.ModeScan} {
			full, err := Probe(context.Background(), f, Options{Mode: mode, FullRead: true})
			if err != nil {
				t.Fatal(err)
			}
			quick, err := Probe(context.Background(), f, Options{Mode: mode, FFmpegOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			if full.HeaderOnly {
				t.Errorf("%s (%s): FullRead read header-only", f, mode)
			}
			if quick.HeaderOnly {
				used[mode]++
				if quick.BytesRead > fi.Size()/10 && fi.Size() > 256<<10 {
					t.Errorf("%s (%s): header-only read %d of %d bytes", f, mode, quick.BytesRead, fi.Size())
				}
			}
			if quick.BytesRead > full.BytesRead && fi.Size() > 256<<10 {
				t.Errorf("%s (%s): header-only read %d bytes, the full read %d", f, mode, quick.BytesRead, full.BytesRead)
			}
			full.Duration, quick.Duration = 0, 0
			full.BytesRead, quick.BytesRead = 0, 0
			quick.HeaderOnly = false
			full.StreamInfo, quick.StreamInfo = false, false
			if !reflect.DeepEqual(full, quick) {
				t.Errorf("%s (%s): header-only reading changes the result:\n full %+v\nquick %+v", f, mode, full, quick)
			}
		}
	}
	for _, mode := range []vocab.Mode{vocab.ModeFast, vocab.ModeScan} {
		if used[mode] < 10 {
			t.Errorf("%s: header-only reading used for only %d fixtures", mode, used[mode])
		}
	}
}

// TestFragmentedReadInFull: fragmented MP4s (moof boxes; one with an empty
// moov, one with the first samples in it) are never read header-only — their
// later sample tables live between the payloads — and give the same result
// as the reference path in every mode.
func TestFragmentedReadInFull(t *testing.T) {
	for _, f := range []string{"../testdata/fragmented.mp4", "../testdata/fragmented-moov.mp4"} {
		for _, mode := range []vocab.Mode{vocab.ModeFast, vocab.ModeScan} {
			r, err := Probe(context.Background(), f, Options{Mode: mode})
			if err != nil {
				t.Fatal(err)
			}
			fi, _ := os.Stat(f)
			if r.HeaderOnly || r.Status != vocab.StatusOK || r.Frames == 0 || r.BytesRead < fi.Size() {
				t.Errorf("%s (%s): %+v (size %d)", f, mode, r, fi.Size())
			}
		}
	}
}
