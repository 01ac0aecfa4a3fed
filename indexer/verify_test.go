package indexer

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidcache/vidcache/indexer/clips"

	"github.com/vidcache/vidcache/cachefmt"
)

func TestVerifyInconsistent(t *testing.T) {
	fps := 25.0
	pts := [][]int64{{0, 1, 2, 3}, {5, 3, 4}}
	c := &cachefmt.Cache{
		Config:  cachefmt.Config{Root: "/r", Split: "train", Extensions: []string{"mp4"}, Spec: clips.Spec{FramesPerClip: 2, StepBetweenClips: 1}, Mode: "fast"},
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
