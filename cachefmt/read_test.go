package cachefmt

import (
	"errors"
	"math"
	"testing"

	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"
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

// TestReadLengthError: a file whose labels are not one per video does not
// read back as a Cache; the error says how many of each it holds and the
// file's format version, for verify to classify.
func TestReadLengthError(t *testing.T) {
	c, _ := sampleCache()
	l, err := Load(writeTemp(t, c, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range *l.Value.(*types.Dict) {
		if e.Key == "labels" {
			e.Value.(*pytorch.Tensor).Size[0]-- // a view of all but the last label
		}
	}
	_, err = fromObject(l.Value)
	var lerr *LengthError
	if !errors.As(err, &lerr) || *lerr != (LengthError{Videos: 4, Labels: 3, ClipCounts: 4, Format: FormatVersion}) {
		t.Fatalf("got %v", err)
	}
	if err.Error() != "4 videos but 3 labels and 4 clip counts" {
		t.Errorf("message %q", err)
	}
}
