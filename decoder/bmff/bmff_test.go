package bmff

import (
	"math"
	"os"
	"strings"
	"testing"
)

// These tests need no FFmpeg. The answers they pin were compared with
// FFmpeg's field by field by package decoder's TestNativeMatchesFFmpeg.

const fixtures = "../../testdata/native/"

type fileReader struct {
	b     []byte
	reads int
}

func (f *fileReader) ReadAt(p []byte, off int64) (int, error) {
	f.reads++
	return copy(p, f.b[off:]), nil
}

func movie(t *testing.T, name string) (*Movie, int64, IO) {
	t.Helper()
	b, err := os.ReadFile(fixtures + name)
	if err != nil {
		t.Fatal(err)
	}
	l, io, err := ReadLayout(&fileReader{b: b}, int64(len(b)), 0)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	m, err := ParseMoov(l.MoovBytes)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m, int64(len(b)), io
}

func TestAnswers(t *testing.T) {
	ntsc := 30000.0 / 1001
	for _, c := range []struct {
		file            string
		reads           int
		frames          int
		scanFPS         float64 // 0: declined
		fastFPS         float64
		firstPts        int64
		stream, streams int
	}{
		{"audio-first-faststart.mp4", 1, 60, 30, 30, 0, 1, 2},
		{"edit-bframes-faststart.mp4", 1, 50, 25, 25, 0, 0, 2},
		{"edit-bframes.mp4", 2, 50, 25, 25, 0, 0, 2},
		{"empty-edit.mp4", 2, 50, 25, 25, 5120, 0, 2},
		{"negative-cts.mp4", 2, 50, 25, 25, 0, 0, 2},
		{"irregular-stts.mp4", 2, 60, 29.970029970029973, 29.97002997002997, 0, 0, 1},
		{"ntsc-90k.mp4", 2, 60, 29.970029970029973, ntsc, 0, 0, 1},
		{"ntsc-no-bframes.mp4", 2, 60, 29.970029970029973, ntsc, 0, 0, 1},
		{"no-editlist.mp4", 2, 50, 25, 25, 1024, 0, 1},
		{"large-timescale.mp4", 2, 50, 25, 25, 0, 0, 1},
		{"one-sample.mp4", 1, 1, 25, 25, 0, 0, 1},
		{"declares-80M-samples.mp4", 2, 53, 25, 25, 0, 0, 1},
		{"zero-last-duration.mp4", 2, 48, 0, 24.51063829787234, 0, 0, 1},
	} {
		m, size, io := movie(t, c.file)
		if io.Reads != c.reads {
			t.Errorf("%s: %d reads, want %d", c.file, io.Reads, c.reads)
		}
		s, err := m.Probe(Scan, size)
		if c.scanFPS == 0 {
			if err == nil {
				t.Errorf("%s: scan answered %+v", c.file, s)
			}
		} else if err != nil || s.Frames != c.frames || *s.FPS != c.scanFPS || s.Stream != c.stream || s.Streams != c.streams || s.Codec != "h264" {
			t.Errorf("%s: scan %+v %v", c.file, s, err)
		}
		f, err := m.Probe(Fast, size)
		if err != nil || f.Frames != c.frames || len(f.Pts) != c.frames || *f.FPS != c.fastFPS || f.Pts[0] != c.firstPts || f.Demuxed {
			t.Errorf("%s: fast %+v %v", c.file, f, err)
			continue
		}
		for i := 1; i < len(f.Pts); i++ {
			if f.Pts[i] <= f.Pts[i-1] {
				t.Errorf("%s: pts not increasing at %d", c.file, i)
			}
		}
	}
}

func TestDeclines(t *testing.T) {
	for _, c := range []struct{ file, why string }{
		{"nested-moov.mp4", `"moov" inside "moov"`},
		{"quicktime.mov", `"wave" inside "mp4a"`},
	} {
		b, _ := os.ReadFile(fixtures + c.file)
		l, _, err := ReadLayout(&fileReader{b: b}, int64(len(b)), 0)
		if err == nil {
			_, err = ParseMoov(l.MoovBytes)
		}
		if err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s: %v, want %q", c.file, err, c.why)
		}
	}
	// The header-only guard of FFmpeg's scan path refuses the nested moov.
	b, _ := os.ReadFile(fixtures + "nested-moov.mp4")
	l, _, _ := ReadLayout(&fileReader{b: b}, int64(len(b)), 1<<20)
	if l == nil || CheckHeaderOnly(l.MoovBytes) == nil {
		t.Error("CheckHeaderOnly accepts a moov inside the moov")
	}
	b, _ = os.ReadFile(fixtures + "edit-bframes.mp4")
	l, _, _ = ReadLayout(&fileReader{b: b}, int64(len(b)), 0)
	if err := CheckHeaderOnly(l.MoovBytes); err != nil {
		t.Errorf("CheckHeaderOnly: %v", err)
	}
}

// TestReadLayout: the index in front takes one read when the first read
// holds it; at the end, the first page then the rest of the file from the
// end of the mdat. Payloads are not read beyond the first read.
func TestReadLayout(t *testing.T) {
	b, _ := os.ReadFile(fixtures + "edit-bframes.mp4")
	r := &fileReader{b: b}
	l, io, err := ReadLayout(r, int64(len(b)), 0)
	if err != nil || io.Reads != 2 || r.reads != 2 || l.Mdats != 1 || l.Moov[1] != int64(len(b)) {
		t.Fatalf("%+v %+v %v", l, io, err)
	}
	if moov := l.Moov[1] - l.Moov[0]; io.Bytes != FirstRead+moov {
		t.Errorf("read %d bytes, want %d", io.Bytes, FirstRead+moov)
	}
	b, _ = os.ReadFile(fixtures + "edit-bframes-faststart.mp4")
	l, io, err = ReadLayout(&fileReader{b: b}, int64(len(b)), 0)
	if err != nil || io.Reads != 1 || l.Moov[1] > FirstRead {
		t.Errorf("faststart (moov within the first page): %+v %v", io, err)
	}
	// A first read that ends inside the moov: one more read, for the rest
	// of it and the next 32 bytes (box headers).
	l, io, err = ReadLayout(&fileReader{b: b}, int64(len(b)), 1024)
	if err != nil || io.Reads != 2 || io.Bytes != l.Moov[1]+32 {
		t.Errorf("faststart (moov past the first read): %+v %v", io, err)
	}
	// A hint as large as the moov's end: one read.
	l2, io, err := ReadLayout(&fileReader{b: b}, int64(len(b)), int((l.Moov[1]+4095)&^4095))
	if err != nil || io.Reads != 1 || len(l2.MoovBytes) != len(l.MoovBytes) {
		t.Errorf("faststart with a hint: %+v %v", io, err)
	}
	for _, bad := range [][]byte{
		[]byte("\x00\x00\x00\x10moof\x00\x00\x00\x00\x00\x00\x00\x00"),
		append([]byte("\x00\x00\x00\x10ftypisom\x00\x00\x00\x00"), "\x00\x00\x00\x04moov"...),
	} {
		if _, _, err := ReadLayout(&fileReader{b: bad}, int64(len(bad)), 0); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestDeclaredSamples(t *testing.T) {
	b, _ := os.ReadFile(fixtures + "declares-80M-samples.mp4")
	if n := DeclaredSamplesInFile(&fileReader{b: b}, int64(len(b))); n != 80_000_000 {
		t.Errorf("declared %d", n)
	}
	b, _ = os.ReadFile(fixtures + "edit-bframes.mp4")
	if n := DeclaredSamplesInFile(&fileReader{b: b}, int64(len(b))); n != 50+45 {
		t.Errorf("declared %d", n)
	}
}

func TestReduce(t *testing.T) {
	for _, c := range []struct{ num, den, n, d int64 }{
		{30000 * 60, 60060, 30000, 1001},
		{12800 * 50, 25600, 25, 1},
		{2000000000 * 50, 4000000000, 25, 1},
		{0, 5, 0, 1},
		{7, 0, 1, 0},
		// Beyond INT_MAX: the best approximation within it (av_reduce's
		// answer; decoder's TestArithmeticMatchesLibavutil compares more).
		{314159265358979, 100000000000000, 1434877259, 456735617},
	} {
		n, d := reduce(c.num, c.den, math.MaxInt32)
		if n != c.n || d != c.d {
			t.Errorf("reduce(%d, %d) = %d/%d, want %d/%d", c.num, c.den, n, d, c.n, c.d)
		}
	}
}

func TestRescale(t *testing.T) {
	for _, c := range []struct{ a, b, c, want int64 }{
		{2000, 12800, 1000, 25600},
		{400, 12800, 1000, 5120},
		{1, 3, 2, 2}, // halves round up
		{1, 1, 3, 0},
		{2002, 90000, 1000, 180180},
		{1 << 40, 1 << 30, 1 << 20, 1 << 50},
	} {
		if got, ok := rescale(c.a, c.b, c.c); !ok || got != c.want {
			t.Errorf("rescale(%d, %d, %d) = %d %v, want %d", c.a, c.b, c.c, got, ok, c.want)
		}
	}
	if _, ok := rescale(1<<62, 1<<20, 3); ok {
		t.Error("an overflow rescaled")
	}
}

func TestIndexSearch(t *testing.T) {
	e := []entry{{ts: -2, key: true, discard: true}, {ts: -1, discard: true}, {ts: 0, key: true}, {ts: 1}, {ts: 2}, {ts: 3, key: true}}
	for _, c := range []struct {
		ts            int64
		backward, any bool
		want          int
	}{
		{0, true, false, 2},
		{2, true, false, 2},
		{2, true, true, 4},
		{2, false, false, 5},
		{-5, true, false, -1},
		{9, true, false, 5},
		{4, false, false, -1},
	} {
		if got := indexSearch(e, c.ts, c.backward, c.any); got != c.want {
			t.Errorf("indexSearch(%d, %v, %v) = %d, want %d", c.ts, c.backward, c.any, got, c.want)
		}
	}
}

func TestCheckASC(t *testing.T) {
	if err := checkASC([]byte{0x14, 0x08}); err != nil { // AAC LC, 16 kHz, mono
		t.Error(err)
	}
	if err := checkASC([]byte{0x13, 0x88, 0x56, 0xe5, 0x00}); err != nil { // with a sync extension
		t.Error(err)
	}
	if err := checkASC([]byte{0x13, 0xf8}); err == nil { // channel configuration 15
		t.Error("accepted channel configuration 15")
	}
}
