package decoder

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vidcache/vidcache/decoder/bmff"
	"github.com/vidcache/vidcache/decoder/internal/avref"
)

// TestArithmeticMatchesLibavutil: bmff's av_reduce (the average frame rate
// of a track) and av_rescale (edit durations) equal libavutil's on random
// operands of every magnitude the native probe passes them.
func TestArithmeticMatchesLibavutil(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	mag := func() int64 { return rng.Int64N(1 << (1 + rng.IntN(62))) }
	for i := 0; i < 200000; i++ {
		num, den := mag(), mag()+1
		if gn, gd := bmff.Reduce(num, den, math.MaxInt32); true {
			if wn, wd := avref.Reduce(num, den, math.MaxInt32); gn != wn || gd != wd {
				t.Fatalf("reduce(%d, %d) = %d/%d, av_reduce %d/%d", num, den, gn, gd, wn, wd)
			}
		}
		a, b, c := mag(), rng.Int64N(1<<31), rng.Int64N(1<<31)+1
		if got, ok := bmff.Rescale(a, b, c); ok {
			if want := avref.Rescale(a, b, c); got != want {
				t.Fatalf("rescale(%d, %d, %d) = %d, av_rescale %d", a, b, c, got, want)
			}
		}
	}
}
