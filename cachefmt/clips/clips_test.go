package clips

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestClipMathGolden checks the Go clip math against 12,000 cases computed
// by torchvision 0.21's and 0.27's own VideoClips.compute_clips_for_video
// (see cachefmt/torchpeer/scripts/clips_golden.py; `make golden` regenerates).
func TestClipMathGolden(t *testing.T) {
	for _, table := range []string{"testdata/clips-golden.tsv", "testdata/clips-golden-0.27.tsv"} {
		t.Run(table, func(t *testing.T) { checkClipGolden(t, table) })
	}
}

func checkClipGolden(t *testing.T, table string) {
	f, err := os.Open(table)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	cases, bad := 0, 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 9 {
			t.Fatalf("bad golden line %q", line)
		}
		num := func(i int) int {
			v, err := strconv.Atoi(c[i])
			if err != nil {
				t.Fatalf("bad golden line %q", line)
			}
			return v
		}
		rate := func(s string) *float64 {
			if s == "None" {
				return nil
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("bad golden line %q", line)
			}
			return &v
		}
		n, fps, fr := num(0), rate(c[1]), rate(c[2])
		spec := Spec{FramesPerClip: num(3), StepBetweenClips: num(4), FrameRate: fr}
		wantM, wantClips, wantSum, wantLast := num(5), num(6), num(7), num(8)
		cases++
		r, err := Resample(n, fps, fr)
		if err != nil {
			t.Errorf("%s: %v", line, err)
			bad++
			continue
		}
		m := r.Len(n)
		sum, last := 0, -1
		for k := 0; k < m; k++ {
			last = r.Frame(k)
			sum += last
		}
		clips, err := ForVideo(n, fps, spec)
		if err != nil || m != wantM || clips != wantClips || sum != wantSum || last != wantLast {
			bad++
			if bad <= 10 {
				t.Errorf("%s: Go resampled %d clips %d sum %d last %d", line, m, clips, sum, last)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cases < 10000 {
		t.Fatalf("only %d golden cases", cases)
	}
	if bad > 0 {
		t.Fatalf("%d of %d cases differ from torchvision", bad, cases)
	}
}

func TestLocate(t *testing.T) {
	cum := CumulativeSizes([]int64{3, 0, 2, 0, 1})
	want := [][2]int64{{0, 0}, {0, 1}, {0, 2}, {2, 0}, {2, 1}, {4, 0}}
	for idx, w := range want {
		v, c, err := Locate(cum, int64(idx))
		if err != nil || int64(v) != w[0] || c != w[1] {
			t.Errorf("clip %d: (%d, %d, %v), want %v", idx, v, c, err, w)
		}
	}
	if _, _, err := Locate(cum, 6); err == nil {
		t.Error("index past the end accepted")
	}
}

// TestResampleHostileRates: frame rates from damaged headers neither
// allocate per resampled frame nor panic. 50 frames at 1/2147483647 fps
// resampled to 15 fps are 1.6e12 frames whose float32 indexes run past the
// last frame (torchvision's IndexError, had it the memory); 3 frames at
// 1/90000 fps are 4,050,000, each index as the explicit float32 formula
// gives it; NaN, negative and overflowing totals are errors, as they are in
// torchvision.
func TestResampleHostileRates(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	if r, err := Resample(50, f(1.0/2147483647), f(15)); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("1/2147483647 fps: %+v %v", r, err)
	}
	fps := 1.0 / 90000
	r, err := Resample(3, f(fps), f(15))
	if err != nil || r.Len(3) != 4050000 {
		t.Fatalf("1/90000 fps: %+v %v", r, err)
	}
	// torchvision 0.14 and 0.21 both give: last index 2, and 4062 as the sum
	// of every 997th index (VideoClips._resample_video_idx).
	sum := 0
	for k := 0; k < r.Len(3); k += 997 {
		sum += r.Frame(k)
	}
	if last := r.Frame(r.Len(3) - 1); last != 2 || sum != 4062 {
		t.Fatalf("1/90000 fps: last index %d, sum of every 997th %d; torchvision: 2, 4062", last, sum)
	}
	if n, err := ForVideo(3, f(fps), Spec{FramesPerClip: 16, StepBetweenClips: 1, FrameRate: f(15)}); err != nil || n != 4050000-15 {
		t.Fatalf("1/90000 fps: %d clips, %v", n, err)
	}
	for _, c := range []struct{ fps, rate float64 }{
		{math.NaN(), 15}, {-2.5, 15}, {5e-324, 15}, {25, math.NaN()},
	} {
		if r, err := Resample(50, f(c.fps), f(c.rate)); err == nil {
			t.Errorf("fps %v -> %v: %+v, want an error", c.fps, c.rate, r)
		}
	}
	if r, err := Resample(50, f(math.Inf(1)), f(15)); err != nil || r.Len(50) != 0 {
		t.Errorf("infinite fps: %+v %v, want no frames", r, err)
	}
}
