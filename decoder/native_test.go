package decoder

import (
	"context"
	"reflect"
	"testing"
)

// comparable clears what differs between two reads of one answer: time,
// bytes, and which path gave it.
func comparable(r Result) Result {
	r.Duration, r.BytesRead, r.HeaderOnly, r.StreamInfo = 0, 0, false, false
	r.Native, r.NativeDecline = false, ""
	return r
}

// nativeVsFFmpeg probes f both ways in mode and reports a difference.
func nativeVsFFmpeg(t testing.TB, f string, mode Mode) (native *Result, ff *Result) {
	t.Helper()
	n, err := Probe(context.Background(), f, Options{Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	g, err := Probe(context.Background(), f, Options{Mode: mode, FFmpegOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if n.Native && !reflect.DeepEqual(comparable(*n), comparable(*g)) {
		t.Errorf("%s (%s): native and FFmpeg differ:\nnative %+v fps %v\nFFmpeg %+v fps %v", f, mode, comparable(*n), fpsOf(n), comparable(*g), fpsOf(g))
	}
	return n, g
}

func fpsOf(r *Result) any {
	if r.FPS == nil {
		return nil
	}
	return *r.FPS
}

func TestNativeMatchesFFmpeg(t *testing.T) {
	for _, f := range fixtures(t) {
		for _, mode := range []Mode{ModeScan, ModeFast} {
			n, _ := nativeVsFFmpeg(t, f, mode)
			if n.Native {
				t.Logf("%s (%s): native, %d frames", f, mode, n.Frames)
			} else {
				t.Logf("%s (%s): FFmpeg: %s", f, mode, n.NativeDecline)
			}
		}
	}
}
