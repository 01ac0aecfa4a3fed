package indexer

import (
	"context"
	"fmt"
	"os"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// write assembles the cache from the index rows and writes it if its content
// differs from the registered one (or the file is gone), then registers it.
func (p *plan) write(ctx context.Context, ix *Index, res *BuildResult) error {
	res.DB = ix.Path()
	a, err := p.assemble(ctx, ix, res)
	if err != nil {
		return err
	}
	defer a.done()
	if fresh, err := p.cacheMatches(ctx, ix, a.digest); err != nil || fresh {
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
	if fresh, err := p.cacheMatches(ctx, ix, a.digest); err != nil || fresh {
		return err
	}
	// Locked until registered, so gc cannot take it for an unregistered file.
	release, err := cachefmt.WriteFileLocked(p.opts.Out, a.c, cachefmt.Options{NoSync: p.opts.NoSync})
	if err != nil {
		return err
	}
	res.Written = true
	err = a.register(ctx, ix, p.opts.Out, a.digest)
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

// assembled is the cache of a build, assembled from the index rows: its
// timestamps are streamed from the index as it is written.
type assembled struct {
	*draft
	digest string
	stream *ptsStream
}

// assemble makes the cache from the index rows, in dataset order, and its
// digest, without holding any timestamps in memory; it records the failed
// videos in res.
func (p *plan) assemble(ctx context.Context, ix *Index, res *BuildResult) (*assembled, error) {
	cfg := p.opts.Config
	cfg.Root, cfg.Split = p.ds.Root, p.ds.Split
	d := newDraft(cfg, p.ffmpeg, p.ds.Classes, len(p.ds.Videos))
	for i := range p.ds.Videos {
		e := &p.ds.Videos[i]
		if !p.videos.known(i) {
			return nil, fmt.Errorf("internal: no index row for %s", e.Path)
		}
		v := cachefmt.Video{Path: e.Path, NumFrames: int64(p.videos.frames(i)), FPS: p.videos.fps(i), Label: int64(e.Label)}
		st := p.videos.status(i)
		failed, err := d.add(v, st)
		if err != nil {
			return nil, err
		}
		if failed {
			res.Failures[string(st)]++
			res.FailedAt = append(res.FailedAt, FailedVideo{Path: e.Path, Status: st, Error: p.videos.err(i)})
		}
	}
	res.Failed, res.Clips, res.Frames = d.failed, d.clips, d.frames
	if err := p.digestPts(ctx, ix, d); err != nil {
		return nil, err
	}
	a := &assembled{draft: d, digest: d.digest()}
	a.c.Pts = a.streamPts(ctx, ix, p.ds, p.opts.probeMode())
	return a, nil
}

// digestPts adds every video's pts hash to the digest: each row's stored
// one, or for an older index's rows without one, the hash of its
// timestamps read back from the index.
func (p *plan) digestPts(ctx context.Context, ix *Index, d *draft) error {
	if d.c.FrameIndices() {
		return nil
	}
	hashes := make([]uint64, 0, len(p.ds.Videos))
	for i := range p.ds.Videos {
		h, ok := p.videos.ptsHash(i)
		if !ok {
			return streamPts(ctx, ix, p.ds, p.opts.probeMode(), func(i int, blob []byte) error {
				d.putPtsHash(ptsHash(blob))
				return nil
			})
		}
		hashes = append(hashes, h)
	}
	for _, h := range hashes {
		d.putPtsHash(h)
	}
	return nil
}

// streamPts is the cache's Pts: each video's timestamps, streamed from the
// index (opened at the first video, closed after the last).
func (a *assembled) streamPts(ctx context.Context, ix *Index, ds *Dataset, mode vocab.Mode) func(i int) ([]int64, error) {
	var buf []int64
	return func(i int) ([]int64, error) {
		if a.stream == nil {
			var err error
			if a.stream, err = openPtsStream(ctx, ix, ds, mode); err != nil {
				return nil, err
			}
		}
		blob, err := a.stream.get(i)
		if err == nil {
			buf, err = decodePts(buf[:0], blob, int(a.c.Videos[i].NumFrames))
		}
		if i == len(a.c.Videos)-1 || err != nil {
			a.stream.close()
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.c.Videos[i].Path, err)
		}
		return buf, nil
	}
}

// done releases the index if the writer stopped before the last video.
func (a *assembled) done() {
	if a.stream != nil {
		a.stream.close()
	}
}
