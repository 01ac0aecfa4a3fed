package indexer

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vidcache/vidcache/cachefmt/clips"
	"github.com/vidcache/vidcache/cachefmt/vocab"

	"github.com/vidcache/vidcache/cachefmt"
)

func TestVerifyInconsistent(t *testing.T) {
	fps := 25.0
	pts := [][]int64{{0, 1, 2, 3}, {5, 3, 4}}
	c := &cachefmt.Cache{
		Config:  cachefmt.Config{Root: "/r", Split: "train", Extensions: []string{"mp4"}, Spec: clips.Spec{FramesPerClip: 2, StepBetweenClips: 1}, Mode: vocab.ModeFast},
		Classes: []string{"a"},
		Videos: []cachefmt.Video{
			{Path: "/r/train/a/x.mp4", NumFrames: 4, FPS: &fps, ClipCount: 3}, // right
			{Path: "/r/train/a/y.mp4", NumFrames: 3, FPS: &fps, ClipCount: 9}, // wrong count, unsorted
		},
		Pts: func(i int) ([]int64, error) { return pts[i], nil },
	}
	p := filepath.Join(t.TempDir(), "c.pt")
	if err := cachefmt.WriteFile(p, c, cachefmt.Options{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	r, err := Verify(context.Background(), p, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK || r.Worst() != VerifyInconsistent || len(r.Problems) != 2 {
		t.Fatalf("report %+v", r)
	}
	all := r.Problems[0].Detail + r.Problems[1].Detail
	if !strings.Contains(all, "y.mp4: timestamps not sorted") || !strings.Contains(all, "y.mp4: 9 clips stored, 2 for 3 frames") {
		t.Errorf("problems %+v", r.Problems)
	}
}

// TestVerifyEveryByteFlip: a consistent cache verifies OK, and flipping any
// single bit of any byte of it — zip headers, flags, attributes, offsets,
// the end records, the pickle, the data, padding — makes verify fail. No
// byte is harmless to flip: the file must be exactly the bytes vidcache
// writes for its contents. Both targets, with and without zip64 records.
func TestVerifyEveryByteFlip(t *testing.T) {
	fps, fps30 := 25.0, 30.0
	for _, tc := range []struct {
		target vocab.Target
		zip64  bool
	}{{vocab.TargetPyAV, false}, {vocab.TargetTorchvision, false}, {vocab.TargetPyAV, true}} {
		pts := [][]int64{{0, 512, 1024, 1536}, {0, 1000, 2000}}
		if tc.target == vocab.TargetTorchvision {
			pts = [][]int64{{0, 1, 2, 3}, {0, 1, 2}}
		}
		c := &cachefmt.Cache{
			Config:  cachefmt.Config{Root: "/r", Split: "train", Extensions: []string{"mp4"}, Spec: clips.Spec{FramesPerClip: 2, StepBetweenClips: 1}, Target: tc.target},
			Classes: []string{"a", "b"},
			Videos: []cachefmt.Video{
				{Path: "/r/train/a/x.mp4", NumFrames: 4, FPS: &fps, ClipCount: 3},
				{Path: "/r/train/b/y.mp4", NumFrames: 3, FPS: &fps30, FPSInt: tc.target == vocab.TargetTorchvision, Label: 1, ClipCount: 2},
			},
			Pts: func(i int) ([]int64, error) { return pts[i], nil },
		}
		if err := c.Config.Normalize(); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		p := filepath.Join(dir, "c.pt")
		if err := cachefmt.WriteFile(p, c, cachefmt.Options{NoSync: true, ForceZip64: tc.zip64}); err != nil {
			t.Fatal(err)
		}
		if r, err := Verify(context.Background(), p, VerifyOptions{}); err != nil || !r.OK || !slices.Contains(r.Checked, "bytes") {
			t.Fatalf("%s: the intact cache: %v %+v", tc.target, err, r)
		}
		orig, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		q := filepath.Join(dir, "flipped.pt")
		passed := 0
		for i := range orig {
			for _, bit := range []byte{0x01, 0x80} {
				b := bytes.Clone(orig)
				b[i] ^= bit
				if err := os.WriteFile(q, b, 0o644); err != nil {
					t.Fatal(err)
				}
				r, err := Verify(context.Background(), q, VerifyOptions{})
				if err == nil && r.OK {
					passed++
					if passed <= 5 {
						t.Errorf("%s zip64=%v: byte %d ^ 0x%02x of %d verifies OK", tc.target, tc.zip64, i, bit, len(orig))
					}
				}
			}
		}
		if passed > 0 {
			t.Errorf("%s zip64=%v: %d of %d flips verify OK", tc.target, tc.zip64, passed, 2*len(orig))
		}
	}
}
