package decoder

import (
	"testing"

	"github.com/asticode/go-astiav"
)

// TestRawFormatContext: the AVFormatContext pointer demuxPts takes out of
// go-astiav's FormatContext is the one go-astiav uses (same stream count
// for a file with one stream and for one with 200).
func TestRawFormatContext(t *testing.T) {
	for _, path := range []string{sample + "abseiling/h264-25fps.mp4", "../testdata/hostile/many-streams.mkv"} {
		fc := astiav.AllocFormatContext()
		if err := fc.OpenInput(path, nil, nil); err != nil {
			t.Fatal(err)
		}
		if got, want := rawStreamCount(fc), len(fc.Streams()); got != want || want == 0 {
			t.Errorf("%s: %d streams through the raw pointer, go-astiav says %d", path, got, want)
		}
		fc.CloseInput()
		fc.Free()
	}
}
