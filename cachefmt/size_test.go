package cachefmt

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/vidcache/vidcache/cachefmt/clips"
	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// TestSizeBudget writes a Kinetics-400-sized cache — 240,000 videos of 300
// frames, Kinetics-style paths — and checks it stays within 8.2 bytes per
// frame plus 200 bytes per video on disk.
func TestSizeBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 600 MB")
	}
	const videos, frames = 240000, 300
	fps := 30000.0 / 1001
	c := &Cache{
		Config: Config{Root: "/data/kinetics400", Split: "train", Extensions: []string{"avi", "mp4"},
			Spec: clips.Spec{FramesPerClip: 16, StepBetweenClips: 1}, Mode: vocab.ModeFast, FFmpeg: "7.1.5", ToolVersion: "test"},
		Videos: make([]Video, videos),
	}
	for i := 0; i < 400; i++ {
		c.Classes = append(c.Classes, fmt.Sprintf("class name number %03d of kinetics", i))
	}
	for i := range c.Videos {
		label := i * 400 / videos
		c.Videos[i] = Video{
			Path:      fmt.Sprintf("/data/kinetics400/train/%s/%011x_%06d_%06d.mp4", c.Classes[label], i*7919, i%1000, i%1000+10),
			NumFrames: frames, FPS: &fps, Label: int64(label), ClipCount: frames - 15,
		}
	}
	pts := make([]int64, frames)
	for k := range pts {
		pts[k] = int64(k) * 1001
	}
	c.Pts = func(int) ([]int64, error) { return pts, nil }
	p := filepath.Join(t.TempDir(), "k400.pt")
	if err := WriteFile(p, c, Options{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	budget := int64(8.2*videos*frames) + 200*videos
	perVideo := float64(fi.Size()-8*videos*frames) / videos
	t.Logf("%d bytes: 8 per frame + %.1f per video (budget %d)", fi.Size(), perVideo, budget)
	if fi.Size() > budget {
		t.Fatalf("cache is %d bytes, budget %d", fi.Size(), budget)
	}
}

// TestSizeFrameIndices: the torchvision target's Kinetics-400-sized cache
// (240,000 videos of 300 frames, int frame rates) holds no per-frame data:
// one arange of the longest video, so the file is paths and ~25 bytes of
// pickle per video.
func TestSizeFrameIndices(t *testing.T) {
	const videos, frames = 240000, 300
	fps := 30.0
	c := &Cache{
		Config: Config{Root: "/data/kinetics400", Split: "train", Extensions: []string{"avi", "mp4"},
			Spec: clips.Spec{FramesPerClip: 16, StepBetweenClips: 1}, Target: vocab.TargetTorchvision, Mode: vocab.ModeScan, FFmpeg: "9.0.2", ToolVersion: "test"},
		Videos: make([]Video, videos),
	}
	for i := 0; i < 400; i++ {
		c.Classes = append(c.Classes, fmt.Sprintf("class name number %03d of kinetics", i))
	}
	var paths int64
	for i := range c.Videos {
		label := i * 400 / videos
		n := int64(frames - i%7) // lengths vary; the storage is the longest
		c.Videos[i] = Video{
			Path:      fmt.Sprintf("/data/kinetics400/train/%s/%011x_%06d_%06d.mp4", c.Classes[label], i*7919, i%1000, i%1000+10),
			NumFrames: n, FPS: &fps, FPSInt: true, Label: int64(label), ClipCount: n - 15,
		}
		paths += int64(len(c.Videos[i].Path))
	}
	p := filepath.Join(t.TempDir(), "k400-tv.pt")
	if err := WriteFile(p, c, Options{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	perVideo := float64(fi.Size()-paths) / videos
	t.Logf("%d bytes (%.1f MB): paths %d + %.1f bytes per video", fi.Size(), float64(fi.Size())/1e6, paths, perVideo)
	if perVideo > 60 {
		t.Fatalf("%.1f bytes per video besides its path, want at most 60", perVideo)
	}
	f, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if v := f.Videos; len(v) != videos || len(v[1].Pts) != frames-1 || v[1].Pts[frames-2] != frames-2 || !v[0].FPSInt {
		t.Fatalf("read back: %d videos, video 1 has %d pts", len(v), len(v[1].Pts))
	}
}
