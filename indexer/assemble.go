package indexer

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/vidcache/vidcache/cachefmt/clips"

	"github.com/vidcache/vidcache/cachefmt"
)

// write assembles the cache from the index rows and writes it if its content
// differs from the registered one (or the file is gone), then registers it.
func (p *plan) write(ctx context.Context, ix *Index, res *BuildResult) error {
	res.DB = ix.Path()
	c, digest, done, err := assemble(ctx, ix, p.ds, p.videos, &p.opts, p.ffmpeg, res)
	if err != nil {
		return err
	}
	defer done()
	if fresh, err := p.cacheMatches(ctx, ix, digest); err != nil || fresh {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// One process writes a cache at a time; one that waited finds it
	// registered by the other, usually with this very digest.
	releaseClaim, err := ix.claimCacheWrite(ctx, p.opts.Out, p.opts.Log)
	if err != nil {
		return err
	}
	defer releaseClaim()
	if fresh, err := p.cacheMatches(ctx, ix, digest); err != nil || fresh {
		return err
	}
	// Locked until registered, so gc cannot take it for an unregistered file.
	release, err := cachefmt.WriteFileLocked(p.opts.Out, c, cachefmt.Options{NoSync: p.opts.NoSync})
	if err != nil {
		return err
	}
	fi, err := os.Stat(p.opts.Out)
	if err != nil {
		release()
		return fmt.Errorf("written cache: %w", err)
	}
	res.Written = true
	err = ix.PutCache(ctx, &CacheRecord{Path: p.opts.Out, Root: p.ds.Root, Split: p.ds.Split, Config: string(p.opts.Key()), Digest: digest,
		Videos: len(p.ds.Videos), Clips: res.Clips, Size: fi.Size(), CreatedUnix: c.Config.CreatedUnix, Failed: res.Failed})
	if cerr := release(); err == nil && cerr != nil {
		err = fmt.Errorf("close cache %s: %w", p.opts.Out, cerr)
	}
	return err
}

// cacheMatches: the registered cache at Out has this digest and its file is
// still there with the registered size.
func (p *plan) cacheMatches(ctx context.Context, ix *Index, digest string) (bool, error) {
	old, err := ix.Cache(ctx, p.opts.Out)
	if err != nil || old == nil || old.Digest != digest {
		return false, err
	}
	fi, err := os.Stat(p.opts.Out)
	return err == nil && fi.Size() == old.Size, nil
}

// assemble builds the cache description from the index rows, in dataset
// order, and a digest of everything in it but created_unix.
func assemble(ctx context.Context, ix *Index, ds *Dataset, videos *videoSet, opts *BuildOptions, ffmpeg string, res *BuildResult) (*cachefmt.Cache, string, func(), error) {
	mapPath := func(p string) string { return p }
	if opts.RootAs != "" {
		mapPath = func(p string) string { return opts.RootAs + strings.TrimPrefix(p, ds.Root) }
	}
	cfg := opts.Config
	cfg.Root, cfg.Split, cfg.FFmpeg, cfg.ToolVersion = ds.Root, ds.Split, ffmpeg, Version
	c := &cachefmt.Cache{
		Config:  cfg,
		Classes: ds.Classes,
		Videos:  make([]cachefmt.Video, len(ds.Videos)),
	}
	// The digest: the configuration, the versions written into the file
	// (created_unix is not content), the classes, and every video.
	h := sha256.New()
	h.Write(c.Config.Key())
	fmt.Fprintf(h, "\x00%s\x00%s\x00", c.Config.FFmpeg, c.Config.ToolVersion)
	classJSON, _ := json.Marshal(ds.Classes)
	h.Write(classJSON)
	var num [8]byte
	var scratch []byte
	putInt := func(v int64) { binary.LittleEndian.PutUint64(num[:], uint64(v)); h.Write(num[:]) }
	for i := range ds.Videos {
		e := &ds.Videos[i]
		if !videos.known(i) {
			return nil, "", nil, fmt.Errorf("internal: no index row for %s", e.Path)
		}
		fps, frames := videos.fps(i), videos.frames(i)
		if st := videos.status(i); st.Failed(int64(frames)) {
			res.Failed++
			res.Failures[string(st)]++
			res.FailedAt = append(res.FailedAt, FailedVideo{Path: e.Path, Status: st, Error: videos.err(i)})
		}
		n, err := clips.ForVideo(frames, fps, opts.Spec)
		if err != nil {
			return nil, "", nil, fmt.Errorf("%s: %w", e.Path, err)
		}
		c.Videos[i] = cachefmt.Video{Path: mapPath(e.Path), NumFrames: int64(frames), FPS: fps, Label: int64(e.Label), ClipCount: int64(n),
			// torchcodec hands average_fps to Python as JSON, so a whole number arrives as an int.
			FPSInt: c.FrameIndices() && fps != nil && cachefmt.JSONInt(*fps)}
		res.Clips += int64(n)
		res.Frames += int64(frames)
		scratch = append(append(scratch[:0], c.Videos[i].Path...), 0)
		h.Write(scratch)
		putInt(int64(e.Label))
		putInt(int64(frames))
		if fps == nil {
			putInt(-1)
		} else {
			putInt(int64(math.Float64bits(*fps)))
		}
		putInt(int64(n))
	}
	// The timestamps themselves are not held in memory. The digest covers
	// them through each row's stored pts hash; rows from an older index
	// without one are read back from the index instead.
	complete := true
	for i := range ds.Videos {
		if c.FrameIndices() {
			break // no timestamps: the frame counts above are the content
		}
		if ph, ok := videos.ptsHash(i); ok {
			putInt(int64(ph))
		} else {
			complete = false
			break
		}
	}
	if !complete {
		err := streamPts(ctx, ix, ds, opts.probeMode(), func(i int, blob []byte) error {
			putInt(int64(ptsHash(blob)))
			return nil
		})
		if err != nil {
			return nil, "", nil, err
		}
	}
	if c.Config.CreatedUnix == 0 {
		c.Config.CreatedUnix = nowUnix()
	}
	var buf []int64
	var stream *ptsStream
	c.Pts = func(i int) ([]int64, error) {
		if stream == nil {
			var err error
			if stream, err = openPtsStream(ctx, ix, ds, opts.probeMode()); err != nil {
				return nil, err
			}
		}
		blob, err := stream.get(i)
		if err == nil {
			buf, err = decodePts(buf[:0], blob, int(c.Videos[i].NumFrames))
		}
		if i == len(c.Videos)-1 || err != nil {
			stream.close()
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Videos[i].Path, err)
		}
		return buf, nil
	}
	// done releases the index if the writer stops before the last video.
	done := func() {
		if stream != nil {
			stream.close()
		}
	}
	return c, hex.EncodeToString(h.Sum(nil)), done, nil
}
