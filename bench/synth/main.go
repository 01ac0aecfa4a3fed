// Command synth writes a synthetic vidcache cache for the load benchmark:
// N videos of F frames under ROOT/train/class_XXX/, and (with -tree) the
// matching tree of empty files that torchvision's Kinetics scans.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/vidcache/vidcache/cachefmt/clips"
	"github.com/vidcache/vidcache/cachefmt/vocab"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/indexer"
)

func main() {
	root := flag.String("root", "", "dataset root the paths use")
	out := flag.String("out", "", "cache file")
	n := flag.Int("videos", 240000, "videos")
	frames := flag.Int("frames", 300, "frames per video")
	classes := flag.Int("classes", 400, "classes")
	tree := flag.Bool("tree", false, "also create the tree of empty files")
	flag.Parse()
	fps := 30.0
	c := &cachefmt.Cache{Config: cachefmt.Config{Root: *root, Split: "train", Extensions: []string{"avi", "mp4"},
		Spec: clips.Spec{FramesPerClip: 16, StepBetweenClips: 1}, Mode: vocab.ModeFast, FFmpeg: "synthetic", ToolVersion: indexer.Version}}
	for i := 0; i < *classes; i++ {
		c.Classes = append(c.Classes, fmt.Sprintf("class_%03d", i))
	}
	count, _ := clips.ForVideo(*frames, &fps, clips.Spec{FramesPerClip: 16, StepBetweenClips: 1})
	per := *n / *classes
	for i := 0; i < *n; i++ {
		label := i / per
		if label >= *classes {
			label = *classes - 1
		}
		p := fmt.Sprintf("%s/train/%s/vid_%07d.mp4", *root, c.Classes[label], i)
		c.Videos = append(c.Videos, cachefmt.Video{Path: p, NumFrames: int64(*frames), FPS: &fps, Label: int64(label), ClipCount: int64(count)})
		if *tree {
			if i%per == 0 || i == 0 {
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					log.Fatal(err)
				}
			}
			f, err := os.Create(p)
			if err != nil {
				log.Fatal(err)
			}
			f.Close()
		}
	}
	pts := make([]int64, *frames)
	for k := range pts {
		pts[k] = int64(k) * 512
	}
	c.Pts = func(int) ([]int64, error) { return pts, nil }
	if err := cachefmt.WriteFile(*out, c, cachefmt.Options{NoSync: true}); err != nil {
		log.Fatal(err)
	}
}
