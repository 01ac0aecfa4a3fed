package indexer

import (
	"context"
	_ "embed"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vidcache/vidcache/cachefmt/vocab"
	"github.com/vidcache/vidcache/decoder"
)

// probeEntries probes todo with opts.Jobs workers and commits results
// in batches as they arrive. On cancellation it stops promptly and commits
// what is done. Each committed row goes to stored with its position in todo
// (its timestamp blob dropped, its pts hash set); it returns how many there
// were, and how many videos another process probed meanwhile (their rows
// go to stored as they are found).
//
// With io non-nil, what the probes read is added to it.
func probeEntries(ctx context.Context, ix *Index, todo []*Entry, opts *BuildOptions, ffmpeg string, hashes map[string]string, io *IOStats, stored func(k int, r *Row)) (probed, shared int, err error) {
	if len(todo) == 0 {
		return 0, 0, nil
	}
	opts.Progress.Start(len(todo))
	defer opts.Progress.Finish()

	type result struct {
		k     int // position in todo
		r     *Row
		ready bool // probed and committed by another process
	}
	jobs := make(chan int)
	results := make(chan result, opts.Jobs*4)
	g, gctx := errgroup.WithContext(ctx)
	// The feeder claims videos in batches (claims.go), so that processes
	// building from the same index at once probe each video once.
	stopRenew, renewed := make(chan struct{}), make(chan struct{})
	go func() { ix.renewClaims(ctx, stopRenew); close(renewed) }()
	defer func() { close(stopRenew); <-renewed }()
	queue := newVideoQueue(ix, todo, opts, ffmpeg)
	g.Go(func() error {
		defer close(jobs)
		for {
			mine, ready, err := queue.next(gctx)
			if err != nil {
				if gctx.Err() != nil {
					return nil
				}
				return err
			}
			if len(mine) == 0 && len(ready) == 0 {
				return nil
			}
			for k, r := range ready {
				select {
				case results <- result{k: k, r: r, ready: true}:
				case <-gctx.Done():
					return nil
				}
			}
			for _, k := range mine {
				select {
				case jobs <- k:
				case <-gctx.Done():
					return nil
				}
			}
		}
	})
	// opts.Jobs probes compute at once (CPU slots); readsPerJob times as
	// many are under way, so that on slow storage the native probes' reads
	// wait without holding a CPU slot (decoder.Options.CPU).
	cpu := make(decoder.Slots, opts.Jobs)
	workers, wctx := errgroup.WithContext(gctx)
	for w := 0; w < opts.Jobs*readsPerJob; w++ {
		workers.Go(func() error {
			for k := range jobs {
				e := todo[k]
				pr, err := decoder.Probe(wctx, e.Path, decoder.Options{Mode: opts.probeMode(), Timeout: opts.Timeout, CPU: cpu})
				if err != nil {
					return err // cancelled
				}
				if io != nil {
					io.add(pr, e.Size)
				}
				if pr.NativeDecline != "" {
					opts.Log.Debug("read by FFmpeg", "video", e.Path, "why", pr.NativeDecline)
				}
				r := probeRow(e, pr, opts.probeMode(), ffmpeg)
				r.Hash = hashes[e.Path]
				// Re-check the file: one replaced while it was probed is stored as
				// not fresh, so the next build probes it again.
				if now := statEntry(e.Path, e.Label); now.Size != e.Size || now.MtimeNs != e.MtimeNs || now.Inode != e.Inode {
					r.MtimeNs = -1
				}
				select {
				case results <- result{k: k, r: r}:
				case <-wctx.Done():
					return wctx.Err()
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		err := workers.Wait()
		close(results)
		return err
	})

	// The collector runs here, outside the group's context, so that rows
	// already probed are committed even after cancellation.
	n := 0
	var batch []*Row
	var batchK []int
	var commitErr error
	flush := func() {
		if len(batch) == 0 || commitErr != nil {
			return
		}
		if err := ix.PutRows(ctx, batch); err != nil {
			commitErr = err
			return
		}
		for j, r := range batch {
			// Committed: keep the hash, drop the blob (the cache writer
			// streams it back from the index).
			r.PtsHash, r.HasPtsHash, r.Pts = ptsHash(r.Pts), true, nil
			stored(batchK[j], r)
		}
		n += len(batch)
		batch, batchK = batch[:0], batchK[:0]
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case res, ok := <-results:
			if !ok {
				done = true
				break
			}
			r := res.r
			if res.ready {
				opts.Progress.Done(r.Path, r.Status != vocab.StatusOK)
				stored(res.k, r)
				shared++
				continue
			}
			batch, batchK = append(batch, r), append(batchK, res.k)
			opts.Progress.Done(r.Path, r.Status != vocab.StatusOK)
			if len(batch) >= opts.BatchSize {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
	flush()
	if shared > 0 {
		opts.Log.Debug("probed by other processes", "videos", shared)
	}
	err = g.Wait()
	if commitErr != nil {
		return n, shared, commitErr
	}
	if err == nil {
		err = ctx.Err()
	}
	return n, shared, err
}

func probeRow(e *Entry, pr *decoder.Result, mode vocab.Mode, ffmpeg string) *Row {
	return &Row{
		Path: e.Path, Size: e.Size, MtimeNs: e.MtimeNs, Inode: e.Inode,
		Status: pr.Status, Error: oneLine(pr.Err), FPS: pr.FPS,
		TBNum: pr.TBNum, TBDen: pr.TBDen, Codec: pr.Codec, Width: pr.Width, Height: pr.Height,
		Frames: pr.Frames, Pts: encodePts(pr.Pts), Mode: mode, Origin: vocab.OriginProbed, FFmpeg: ffmpeg, Probed: nowUnix(),
	}
}

// readsPerJob is how many probes per CPU slot may be under way.
const readsPerJob = 8

// IOStats is what probing read from the video files.
type IOStats struct {
	// BytesRead is the bytes the probes read from video files (placeholders
	// for skipped sample payloads not counted).
	BytesRead int64 `json:"bytes_read"`
	// BytesProbed is the probed files' total size.
	BytesProbed int64 `json:"bytes_probed"`
	// HeaderOnly counts the probes that read only the container's structure.
	HeaderOnly int64 `json:"header_only"`
	// Native counts the probes answered from the MP4 sample tables alone
	// (decoder/bmff), FFmpeg the others.
	Native int64 `json:"native"`
	FFmpeg int64 `json:"ffmpeg"`
}

func (s *IOStats) add(r *decoder.Result, size int64) {
	atomic.AddInt64(&s.BytesRead, r.BytesRead)
	atomic.AddInt64(&s.BytesProbed, size)
	if r.HeaderOnly {
		atomic.AddInt64(&s.HeaderOnly, 1)
	}
	if r.Native {
		atomic.AddInt64(&s.Native, 1)
	} else {
		atomic.AddInt64(&s.FFmpeg, 1)
	}
}
