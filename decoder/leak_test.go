package decoder

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// TestProbeNoLeak probes good, damaged and hostile inputs in both modes a
// few thousand times and checks that neither the C heap (FFmpeg's
// allocations, from jemalloc's exact statistics without its per-thread
// caches and its own metadata; see cHeapBytes) nor the Go heap grows with
// them. C: 64 KiB over 4,000 probes allows 16 bytes per probe, less than
// any FFmpeg context, packet or frame a missed free would keep (observed
// growth: under 1 KiB with GOMAXPROCS from 1 to 32; one pts array not
// freed: +2 MB). Go: 512 KiB, since its heap figure moves with the
// runtime's own bookkeeping.
func TestProbeNoLeak(t *testing.T) {
	if cHeapBytes() < 0 {
		t.Fatal("jemalloc statistics unavailable")
	}
	dir := t.TempDir()
	good, flipped := damagedSample(t)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	inputs := []struct {
		path string
		mode vocab.Mode
	}{
		{sample + "abseiling/h264-25fps.mp4", vocab.ModeFast},
		{sample + "abseiling/h264-25fps.mp4", vocab.ModeExact},
		{sample + "playing guitar/mpeg4-bframes.avi", vocab.ModeExact},
		{write("text.mp4", []byte("not a video\n")), vocab.ModeFast},
		{write("no-moov.mp4", good[:len(good)/2]), vocab.ModeExact},
		{write("flipped.mp4", flipped), vocab.ModeExact},
		{"../testdata/stall-prefix.ts", vocab.ModeExact},
		{"missing.mp4", vocab.ModeFast},
		{sample + "abseiling/h264-25fps.mp4", vocab.ModeScan},
		{sample + "playing guitar/mpeg4-bframes.avi", vocab.ModeScan},
		{write("text-scan.mp4", []byte("not a video\n")), vocab.ModeScan},
		{write("flipped-scan.mp4", flipped), vocab.ModeScan},
		{"../testdata/stall-prefix.ts", vocab.ModeScan},
	}
	round := func() {
		for _, in := range inputs {
			if _, err := Probe(context.Background(), in.path, Options{Mode: in.mode, Timeout: time.Minute}); err != nil {
				t.Fatal(err)
			}
		}
	}
	measure := func() (c, g int64) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return cHeapBytes(), int64(ms.HeapAlloc)
	}
	for range 100 {
		round()
	}
	c0, g0 := measure()
	const rounds = 500
	for range rounds {
		round()
	}
	c1, g1 := measure()
	t.Logf("%d probes: C heap %d -> %d bytes, Go heap %d -> %d", rounds*len(inputs), c0, c1, g0, g1)
	if c1-c0 > 64<<10 {
		t.Errorf("C heap grew by %d bytes over %d probes", c1-c0, rounds*len(inputs))
	}
	if g1-g0 > 512<<10 {
		t.Errorf("Go heap grew by %d bytes over %d probes", g1-g0, rounds*len(inputs))
	}
}
