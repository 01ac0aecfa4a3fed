package indexer

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
)

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
