package vocab

import "testing"

func TestFailed(t *testing.T) {
	for _, c := range []struct {
		s      Status
		frames int64
		want   bool
	}{
		{StatusOK, 10, false},
		{StatusOK, 0, false}, // an empty video: read, nothing in it
		{StatusOpenFailed, 0, true},
		{StatusImportedEmpty, 0, true},
		{StatusReadError, 3, true}, // a row newer than the cache
		{StatusUnknown, 0, true},
		{StatusUnknown, 1, false},
	} {
		if got := c.s.Failed(c.frames); got != c.want {
			t.Errorf("%q.Failed(%d) = %v", c.s, c.frames, got)
		}
	}
}
