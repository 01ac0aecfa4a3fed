package indexer

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"os"
	"strings"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/cachefmt/clips"
	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// draft is a cache being made, in cachefmt's model, from the index rows of
// a build (assemble.go) or from a torchvision cache Import read
// (importer.go): the one place that writes a cache's paths as root_as
// says, counts its clips, stores a frame rate as an int or a float, times
// it, counts its failed videos, digests its content and registers it once
// written.
type draft struct {
	c *cachefmt.Cache
	// What Videos add up to.
	frames, clips int64
	failed        int
	// The digest: the configuration, the versions written into the file
	// (created_unix is not content), the classes, every video, then every
	// video's pts hash (none for the torchvision target: the frame counts
	// are the content).
	h       hash.Hash
	scratch []byte
}

// newDraft starts the cache of cfg, whose Root and Split are the dataset's,
// with its classes: written by this vidcache (having probed with ffmpeg, ""
// for an import) at cfg.CreatedUnix, or now when that is 0.
func newDraft(cfg cachefmt.Config, ffmpeg string, classes []string, videos int) *draft {
	cfg.FFmpeg, cfg.ToolVersion = ffmpeg, Version
	if cfg.CreatedUnix == 0 {
		cfg.CreatedUnix = nowUnix()
	}
	d := &draft{c: &cachefmt.Cache{Config: cfg, Classes: classes, Videos: make([]cachefmt.Video, 0, videos)}, h: sha256.New()}
	d.h.Write(cfg.Key())
	fmt.Fprintf(d.h, "\x00%s\x00%s\x00", cfg.FFmpeg, cfg.ToolVersion)
	classJSON, _ := json.Marshal(classes)
	d.h.Write(classJSON)
	return d
}

// add appends a video as its source has it: its path in the dataset, its
// frames, frame rate, label and (when held) timestamps, and for an import
// FPSInt when the file stored the frame rate as an int; status is what
// became of it. It reports whether the video failed (vocab.Status.Failed).
func (d *draft) add(v cachefmt.Video, status vocab.Status) (failed bool, err error) {
	cfg := &d.c.Config
	n, err := clips.ForVideo(int(v.NumFrames), v.FPS, cfg.Spec)
	if err != nil {
		return false, fmt.Errorf("%s: %w", v.Path, err)
	}
	if cfg.RootAs != "" {
		v.Path = cfg.RootAs + strings.TrimPrefix(v.Path, cfg.Root)
	}
	v.ClipCount, v.FPSInt = int64(n), d.intFPS(&v)
	d.c.Videos = append(d.c.Videos, v)
	d.frames += v.NumFrames
	d.clips += v.ClipCount
	failed = status.Failed(v.NumFrames)
	if failed {
		d.failed++
	}
	d.scratch = append(append(d.scratch[:0], v.Path...), 0)
	d.h.Write(d.scratch)
	d.putInt(v.Label)
	d.putInt(v.NumFrames)
	if v.FPS == nil {
		d.putInt(-1)
	} else {
		d.putInt(int64(math.Float64bits(*v.FPS)))
	}
	d.putInt(v.ClipCount)
	return failed, nil
}

// intFPS decides whether v's frame rate is stored as a Python int. Only the
// torchvision target has any: torchcodec hands average_fps to Python as
// JSON, which makes a whole number an int. A build stores what torchvision
// 0.26+ would get; an import keeps the type the file held.
func (d *draft) intFPS(v *cachefmt.Video) bool {
	if !d.c.FrameIndices() || v.FPS == nil || !cachefmt.JSONInt(*v.FPS) {
		return false
	}
	return d.c.Config.Mode != vocab.ModeImported || v.FPSInt
}

// putPtsHash adds the hash of a video's encoded timestamps (ptsHash of
// encodePts) to the digest, after every video was added, in their order.
func (d *draft) putPtsHash(h uint64) { d.putInt(int64(h)) }

// digestHeldPts adds the pts hash of every video from its own timestamps
// (an import holds them all).
func (d *draft) digestHeldPts() {
	if d.c.FrameIndices() {
		return
	}
	for _, v := range d.c.Videos {
		d.putPtsHash(ptsHash(encodePts(v.Pts)))
	}
}

func (d *draft) putInt(v int64) {
	var num [8]byte
	binary.LittleEndian.PutUint64(num[:], uint64(v))
	d.h.Write(num[:])
}

// digest is the SHA-256 of the cache's content (created_unix excluded), as
// the index registers it: the same content, the same digest.
func (d *draft) digest() string { return hex.EncodeToString(d.h.Sum(nil)) }

// register records the cache, written at path, in the index: its dataset,
// configuration (Key), digest, counts, size and time.
func (d *draft) register(ctx context.Context, ix *Index, path, digest string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("written cache: %w", err)
	}
	cfg := &d.c.Config
	return ix.PutCache(ctx, &CacheRecord{Path: path, Root: cfg.Root, Split: cfg.Split, Config: string(cfg.Key()), Digest: digest,
		Videos: len(d.c.Videos), Clips: d.clips, Size: fi.Size(), CreatedUnix: cfg.CreatedUnix, Failed: d.failed})
}
