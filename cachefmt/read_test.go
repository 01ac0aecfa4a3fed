package cachefmt

import (
	"math"
	"testing"
)

func TestCheckView(t *testing.T) {
	for _, c := range []struct {
		n, off, stride, storage int
		ok                      bool
	}{
		{0, 0, 1, 0, true},
		{3, 0, 1, 3, true},
		{2, 1, 2, 4, true},
		{1, 3, 7, 4, true},
		{4, 0, 1, 3, false},
		{2, 1, 2, 3, false},
		{1, 4, 1, 4, false},
		{-1, 0, 1, 3, false},
		{1, -1, 1, 3, false},
		{2, 0, 0, 3, false},
		{1 << 60, 0, 1, 3, false},
		{3, 1 << 62, 1 << 62, 3, false},         // off + (n-1)*stride wraps around
		{2, 0, math.MaxInt, 3, false},           // (n-1)*stride at the limit
		{math.MaxInt, 0, math.MaxInt, 3, false}, // both
	} {
		if err := CheckView(c.n, c.off, c.stride, c.storage); (err == nil) != c.ok {
			t.Errorf("CheckView(%d, %d, %d, %d) = %v", c.n, c.off, c.stride, c.storage, err)
		}
	}
}
