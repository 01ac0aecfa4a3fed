package indexer

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vidcache/vidcache/cachefmt/vocab"
	"github.com/vidcache/vidcache/decoder"
)

// prober is what probing a build's videos needs, made once from its options
// (newProber): the index that takes the results and the claims, the probe
// kind and FFmpeg version rows are stamped with, the workers and the CPU
// slots they share, the per-video time limit, content hashing (Rehash), and
// the logging and progress hooks. A plan is built on one: its decisions read
// the probe kind, FFmpeg version and hashes, and run probes its videos.
type prober struct {
	ix       *Index
	mode     vocab.Mode
	ffmpeg   string
	jobs     int           // probes computing at once (CPU slots)
	timeout  time.Duration // per video; 0 = none
	batch    int           // probe results committed per transaction
	rehash   bool
	hashes   map[string]string // with rehash: the content hashes of the files (hash)
	cpu      decoder.Slots
	log      *slog.Logger
	progress Progress
	read     IOStats // what the probes read
	// probe reads one video: decoder.Probe, or a fake in tests. Its error
	// is non-nil only when ctx is cancelled.
	probe func(ctx context.Context, path string, opts decoder.Options) (*decoder.Result, error)
}

// newProber makes the prober of normalized options o.
func newProber(ix *Index, o *BuildOptions) *prober {
	return &prober{ix: ix, mode: o.probeMode(), ffmpeg: decoder.Version(), jobs: o.Jobs, timeout: o.Timeout, batch: o.BatchSize,
		rehash: o.Rehash, hashes: map[string]string{}, cpu: make(decoder.Slots, o.Jobs), log: o.Log, progress: o.Progress,
		probe: decoder.Probe}
}

// hash records the content hash of e's file. A file that cannot be read is
// left out (its probe will name the problem): the error is only ctx's.
func (pr *prober) hash(ctx context.Context, e *Entry) error {
	h, err := hashFile(ctx, e.Path)
	if err != nil {
		return ctx.Err()
	}
	pr.hashes[e.Path] = h
	return nil
}

// probeResult is one video of a run done: probed here, or (ready) probed
// and committed by another process meanwhile. k is its position in todo.
type probeResult struct {
	k     int
	r     *Row
	ready bool
}

// run probes todo with jobs workers and commits results in batches as they
// arrive. On cancellation it stops promptly and commits what is done. Each
// committed row goes to stored with its position in todo (its timestamp blob
// dropped, its pts hash set); it returns how many there were, and how many
// videos another process probed meanwhile (their rows go to stored as they
// are found).
func (pr *prober) run(ctx context.Context, todo []*Entry, stored func(k int, r *Row)) (probed, shared int, err error) {
	if len(todo) == 0 {
		return 0, 0, nil
	}
	pr.progress.Start(len(todo))
	defer pr.progress.Finish()

	jobs := make(chan int)
	results := make(chan probeResult, pr.jobs*4)
	g, gctx := errgroup.WithContext(ctx)
	// The feeder claims videos in batches (claims.go), so that processes
	// building from the same index at once probe each video once.
	stopRenew, renewed := make(chan struct{}), make(chan struct{})
	go func() { pr.ix.renewClaims(ctx, stopRenew); close(renewed) }()
	defer func() { close(stopRenew); <-renewed }()
	queue := newVideoQueue(pr, todo)
	g.Go(func() error {
		defer close(jobs)
		return queue.feed(gctx, jobs, results)
	})
	// jobs probes compute at once (CPU slots); readsPerJob times as many
	// are under way, so that on slow storage the native probes' reads wait
	// without holding a CPU slot (decoder.Options.CPU).
	workers, wctx := errgroup.WithContext(gctx)
	for w := 0; w < pr.jobs*readsPerJob; w++ {
		workers.Go(func() error { return pr.work(wctx, todo, jobs, results) })
	}
	g.Go(func() error {
		err := workers.Wait()
		close(results)
		return err
	})

	// The collector runs here, outside the group's context, so that rows
	// already probed are committed even after cancellation.
	c := &committer{pr: pr, stored: stored}
	c.collect(ctx, results)
	if c.shared > 0 {
		pr.log.Debug("probed by other processes", "videos", c.shared)
	}
	err = g.Wait()
	if c.err != nil {
		return c.n, c.shared, c.err
	}
	if err == nil {
		err = ctx.Err()
	}
	return c.n, c.shared, err
}

// feed hands out the queue's videos: those to probe on jobs, those another
// process probed meanwhile straight to results. It stops quietly when ctx
// is done.
func (q *videoQueue) feed(ctx context.Context, jobs chan<- int, results chan<- probeResult) error {
	for {
		mine, ready, err := q.next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if len(mine) == 0 && len(ready) == 0 {
			return nil
		}
		for k, r := range ready {
			select {
			case results <- probeResult{k: k, r: r, ready: true}:
			case <-ctx.Done():
				return nil
			}
		}
		for _, k := range mine {
			select {
			case jobs <- k:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// work probes the videos of todo handed out on jobs until it closes.
func (pr *prober) work(ctx context.Context, todo []*Entry, jobs <-chan int, results chan<- probeResult) error {
	for k := range jobs {
		r, err := pr.probeOne(ctx, todo[k])
		if err != nil {
			return err // cancelled
		}
		select {
		case results <- probeResult{k: k, r: r}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// probeOne probes e into the row to store; the error is only ctx's.
func (pr *prober) probeOne(ctx context.Context, e *Entry) (*Row, error) {
	res, err := pr.probe(ctx, e.Path, decoder.Options{Mode: pr.mode, Timeout: pr.timeout, CPU: pr.cpu})
	if err != nil {
		return nil, err
	}
	pr.read.add(res, e.Size)
	if res.NativeDecline != "" {
		pr.log.Debug("read by FFmpeg", "video", e.Path, "why", res.NativeDecline)
	}
	r := probeRow(e, res, pr.mode, pr.ffmpeg)
	r.Hash = pr.hashes[e.Path]
	// Re-check the file: one replaced while it was probed is stored as not
	// fresh, so the next build probes it again.
	if now := statEntry(e.Path, e.Label); now.Size != e.Size || now.MtimeNs != e.MtimeNs || now.Inode != e.Inode {
		r.MtimeNs = -1
	}
	return r, nil
}

// committer collects a run's results: it commits the rows probed here in
// batches (of the prober's batch size, and at least every second) and hands
// every row on to stored once it is in the index.
type committer struct {
	pr     *prober
	stored func(k int, r *Row)
	batch  []*Row
	ks     []int // the batch's positions in todo
	n      int   // rows committed
	shared int   // rows another process committed
	err    error // the first commit's that failed; nothing is committed after it
}

// collect takes results until the channel closes, then commits the rest.
func (c *committer) collect(ctx context.Context, results <-chan probeResult) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case res, ok := <-results:
			if !ok {
				c.flush(ctx)
				return
			}
			c.take(ctx, res)
		case <-tick.C:
			c.flush(ctx)
		}
	}
}

func (c *committer) take(ctx context.Context, res probeResult) {
	r := res.r
	c.pr.progress.Done(r.Path, r.Status != vocab.StatusOK)
	if res.ready {
		c.stored(res.k, r)
		c.shared++
		return
	}
	c.batch, c.ks = append(c.batch, r), append(c.ks, res.k)
	if len(c.batch) >= c.pr.batch {
		c.flush(ctx)
	}
}

// flush commits the batch. A probe that finished is kept even when the
// build is being cancelled (Ctrl-C): the commit runs without the
// cancellation, bounded by SQLite's busy timeout.
func (c *committer) flush(ctx context.Context) {
	if len(c.batch) == 0 || c.err != nil {
		return
	}
	if err := c.pr.ix.PutRows(context.WithoutCancel(ctx), c.batch); err != nil {
		c.err = err
		return
	}
	for j, r := range c.batch {
		// Committed: keep the hash, drop the blob (the cache writer
		// streams it back from the index).
		r.PtsHash, r.HasPtsHash, r.Pts = ptsHash(r.Pts), true, nil
		c.stored(c.ks[j], r)
	}
	c.n += len(c.batch)
	c.batch, c.ks = c.batch[:0], c.ks[:0]
}

func probeRow(e *Entry, pr *decoder.Result, mode vocab.Mode, ffmpeg string) *Row {
	return &Row{
		Path: e.Path, Size: e.Size, MtimeNs: e.MtimeNs, Inode: e.Inode,
		Status: pr.Status, Error: oneLine(pr.Err), FPS: pr.FPS,
		TBNum: pr.TBNum, TBDen: pr.TBDen, Codec: pr.Codec, Width: pr.Width, Height: pr.Height,
		Frames: pr.Frames, Pts: encodePts(pr.Pts), Mode: mode, Origin: vocab.OriginProbed, FFmpeg: ffmpeg, Probed: nowUnix(),
	}
}

// hashFile is the SHA-256 of a file's content, in hex.
func hashFile(ctx context.Context, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			return hex.EncodeToString(h.Sum(nil)), nil
		}
		if err != nil {
			return "", err
		}
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
