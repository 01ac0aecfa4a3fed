package indexer_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// makeDamaged writes a one-class dataset of damaged copies of the sample's
// videos: bit flips inside the media data (the container still parses),
// truncations with the index at the end (no moov) and at the front (data
// cut), and a file cut inside its header.
func makeDamaged(t *testing.T) string {
	t.Helper()
	src := sampleRoot(t) + "/train"
	root := t.TempDir()
	dir := filepath.Join(root, "train", "damaged")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// flip scrambles bytes [from, from+span) of the media data, every step-th.
	flip := func(b []byte, from, span float64, step int) []byte {
		b = bytes.Clone(b)
		lo := 0
		if i := bytes.Index(b, []byte("mdat")); i >= 0 {
			lo = i + 8
		}
		n := len(b) - lo
		s, e := lo+int(float64(n)*from), lo+int(float64(n)*(from+span))
		for k := s; k < e && k < len(b); k += step {
			b[k] = b[k]*31 + 0x5a
		}
		return b
	}
	write("bitflip-h264.mp4", flip(read(src+"/abseiling/h264-25fps.mp4"), 0.3, 0.2, 1))
	write("bitflip-h264-sparse.mp4", flip(read(src+"/abseiling/h264-30fps.mp4"), 0.1, 0.8, 97))
	write("bitflip-mpeg4.avi", flip(read(src+"/playing guitar/mpeg4-bframes.avi"), 0.3, 0.3, 1))
	b := read(src + "/abseiling/h264-29.97fps.mp4")
	write("truncated-no-moov.mp4", b[:len(b)/2])
	b = read(src + "/playing guitar/mpeg4-bframes.avi")
	write("truncated-half.avi", b[:len(b)/2])
	b = read(src + "/playing guitar/video-only.mp4")
	write("truncated-header.mp4", b[:200])
	b = read(filepath.Join(filepath.Dir(sampleRoot(t)), "faststart.mp4"))
	write("faststart-data-cut.mp4", b[:len(b)*6/10])
	return root
}

// TestDamagedFilesParity: exact mode equals torchvision on damaged files, on
// both stacks; fast mode equals it too, except that it keeps demuxed
// timestamps where decoding fails (documented in the README).
func TestDamagedFilesParity(t *testing.T) {
	root := makeDamaged(t)
	configs := []config{{4, 2, "native"}}
	t.Run("exact", func(t *testing.T) {
		checkAgainstTorchvision(t, root, vocab.ModeExact, configs, nil)
	})
	t.Run("fast", func(t *testing.T) {
		checkAgainstTorchvision(t, root, vocab.ModeFast, configs,
			map[string]bool{"bitflip-h264.mp4": true, "bitflip-h264-sparse.mp4": true})
	})
}

// makeHostile writes a dataset of hostile containers and names: 200 audio
// streams, huge, all-equal and decreasing timestamps, a newline, bytes that are not
// UTF-8, and a path over 1,000 bytes long.
func makeHostile(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "train", "hostile")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	link := func(src, name string) {
		t.Helper()
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := filepath.Join(filepath.Dir(sampleRoot(t)), "hostile")
	link(filepath.Join(h, "many-streams.mkv"), "many-streams.mp4")
	link(filepath.Join(h, "huge-ts.mkv"), "huge-ts.mp4")
	link(filepath.Join(h, "equal-ts.mkv"), "equal-ts.mp4")
	link(filepath.Join(h, "decreasing-ts.flv"), "decreasing-ts.mp4")
	clip := filepath.Join(sampleRoot(t), "train", "juggling", "nested", "z.mp4")
	link(clip, "new\nline.mp4")
	link(clip, "caf\xe9 \xff.mp4")
	long := strings.Repeat("d", 200)
	link(clip, filepath.Join(long, long, long, long, long, "deep.mp4"))
	return root
}

// TestHostileParity: both modes equal torchvision on hostile containers and
// names, on both stacks.
func TestHostileParity(t *testing.T) {
	root := makeHostile(t)
	for _, mode := range []vocab.Mode{vocab.ModeFast, vocab.ModeExact} {
		t.Run(string(mode), func(t *testing.T) {
			checkAgainstTorchvision(t, root, mode, []config{{4, 1, "native"}}, nil)
		})
	}
}
