package indexer

import (
	"bufio"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestClipMathGolden checks the Go clip math against 12,000 cases computed
// by torchvision 0.21's own VideoClips.compute_clips_for_video (see
// cachefmt/torchpeer/scripts/clips_golden.py; `make golden` regenerates).
func TestClipMathGolden(t *testing.T) {
	f, err := os.Open("testdata/clips-golden.tsv")
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
		spec := ClipSpec{FramesPerClip: num(3), StepBetweenClips: num(4), FrameRate: fr}
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
		clips, err := VideoClipCount(n, fps, spec)
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

func TestClipLocation(t *testing.T) {
	cum := CumulativeSizes([]int64{3, 0, 2, 0, 1})
	want := [][2]int64{{0, 0}, {0, 1}, {0, 2}, {2, 0}, {2, 1}, {4, 0}}
	for idx, w := range want {
		v, c, err := ClipLocation(cum, int64(idx))
		if err != nil || int64(v) != w[0] || c != w[1] {
			t.Errorf("clip %d: (%d, %d, %v), want %v", idx, v, c, err, w)
		}
	}
	if _, _, err := ClipLocation(cum, 6); err == nil {
		t.Error("index past the end accepted")
	}
}

func TestPtsBlobRoundTrip(t *testing.T) {
	for _, pts := range [][]int64{{}, {0}, {-5, 0, 3, 3, 1 << 62}, {-1 << 63, 1<<63 - 1}} {
		got, err := decodePts(nil, encodePts(pts), len(pts))
		if err != nil || len(got) != len(pts) {
			t.Fatalf("%v: %v %v", pts, got, err)
		}
		for i := range pts {
			if got[i] != pts[i] {
				t.Fatalf("%v: got %v", pts, got)
			}
		}
	}
	if _, err := decodePts(nil, encodePts([]int64{1, 2}), 3); err == nil {
		t.Error("short blob accepted")
	}
	// The inline paths agree with encoding/binary on every delta size.
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 2000; trial++ {
		pts := make([]int64, rng.IntN(50))
		var v int64
		for i := range pts {
			v += rng.Int64N(1<<uint(rng.IntN(62)+1)) - 1<<uint(rng.IntN(20))
			pts[i] = v
		}
		blob := encodePts(pts)
		got, err := decodePts(nil, blob, len(pts))
		var want []int64
		var prev int64
		for b := blob; len(b) > 0; {
			d, k := binary.Varint(b)
			prev += d
			want, b = append(want, prev), b[k:]
		}
		if err != nil || !slices.Equal(got, want) || !slices.Equal(got, pts) {
			t.Fatalf("%v: decoded %v (%v), encoding/binary %v", pts, got, err, want)
		}
		if len(blob) > 0 {
			if _, err := decodePts(nil, blob[:len(blob)-1], len(pts)); err == nil {
				t.Fatalf("%v: truncated blob accepted", pts)
			}
		}
	}
}
