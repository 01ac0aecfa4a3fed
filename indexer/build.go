package indexer

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vidcache/vidcache/indexer/clips"

	"golang.org/x/sync/errgroup"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/decoder"
)

// Version is vidcache's version, stored in every cache. It lives in
// version.txt, which the Python package (python/, `make wheel`) reads too.
var Version = strings.TrimSpace(versionTxt)

//go:embed version.txt
var versionTxt string

// Failure classes of videos that are never handed to the decoder.
const (
	StatusMissing    = "missing"          // stat failed: dangling symlink, vanished file
	StatusNotRegular = "not_regular_file" // FIFO, socket, device: never opened
)

// BuildOptions configure one build: the cache's configuration and how to
// get there.
type BuildOptions struct {
	// Config is what the cache is (dataset, clips, target and mode, root_as,
	// created_unix; 0 = now). Normalize fills its defaults.
	cachefmt.Config
	Rehash   bool // trust content hashes, not mtimes
	Shard    int  // with Shards > 0: probe only this shard's videos, write no cache
	Shards   int
	Jobs     int           // probing workers; default 1
	Timeout  time.Duration // per video; 0 = none
	Out      string        // cache file; default under CacheDir
	CacheDir string        // where default-named caches go
	Progress Progress      // may be nil
	Log      *slog.Logger  // may be nil
	// BatchSize is how many probe results are committed per transaction.
	BatchSize int
	// NoSync skips fsync of the cache (tests only).
	NoSync bool
}

// BuildResult reports what a build did.
type BuildResult struct {
	Cache    string          `json:"cache"`
	DB       string          `json:"db"`
	Target   cachefmt.Target `json:"target"`
	Mode     string          `json:"mode"`
	Videos   int             `json:"videos"`
	Probed   int             `json:"probed"`
	Reused   int             `json:"reused"`
	Failed   int             `json:"failed"`
	Clips    int64           `json:"clips"`
	Seconds  float64         `json:"seconds"`
	Written  bool            `json:"written"` // false: the cache was already up to date
	Failures map[string]int  `json:"failures"`
	Classes  int             `json:"classes"`
	Frames   int64           `json:"frames"`
	Warnings []string        `json:"warnings,omitempty"`
	FailedAt []FailedVideo   `json:"failed_videos"`
}

// FailedVideo names a video that gave no timestamps, and why.
type FailedVideo struct {
	Path   string `json:"path"`
	Status string `json:"status"`
	Error  string `json:"error"`
}

func (o *BuildOptions) normalize() error {
	if err := o.Config.Normalize(); err != nil {
		return err
	}
	if o.Jobs < 1 {
		o.Jobs = 1
	}
	if o.BatchSize < 1 {
		o.BatchSize = 256
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = nopProgress{}
	}
	if o.Shards < 0 || (o.Shards > 0 && (o.Shard < 0 || o.Shard >= o.Shards)) {
		return fmt.Errorf("shard %d/%d: the index must be in 0..%d", o.Shard, o.Shards, o.Shards-1)
	}
	if o.Out == "" {
		if o.CacheDir == "" {
			return errors.New("neither a cache path nor a cache folder given")
		}
		o.Out = filepath.Join(o.CacheDir, o.DefaultName())
	}
	out, err := filepath.Abs(o.Out)
	if err != nil {
		return err
	}
	o.Out = out
	return nil
}

// probeMode is the decoder's name for the configuration's mode.
func (o *BuildOptions) probeMode() decoder.Mode { return decoder.Mode(o.Mode) }

// What a plan does with each video of its dataset.
const (
	actNone     uint8 = iota // outside the shard
	actReuse                 // the index row stands
	actProbeNew              // never indexed
	actProbe                 // changed, or probed another way
)

// plan is one dataset compared with the index, before any probing.
type plan struct {
	opts    BuildOptions
	ffmpeg  string
	ds      *Dataset
	videos  *videoSet         // by dataset index, updated as work is done
	act     []uint8           // by dataset index
	todo    []*Entry          // regular files to probe, in dataset order
	todoIdx []int             // their dataset indexes
	hashes  map[string]string // --rehash: content hashes of the dataset's files
	special []*Row            // rows to store for missing and non-regular files
	touched []*Row            // rows whose stat fields or hash are refreshed (--rehash)
	gone    []string          // rows of files no longer in the split
	reused  int
	// shardVideos counts the videos of this build's shard (all when unsharded).
	shardVideos int
}

// newPlan scans the dataset and sorts its files into reusable and to-probe.
// It reads the index but writes nothing. The index rows are streamed and
// compared with the dataset's files one at a time, so memory holds only the
// per-video summary the cache needs.
func newPlan(ctx context.Context, ix *Index, opts BuildOptions) (*plan, error) {
	if err := opts.normalize(); err != nil {
		return nil, err
	}
	p := &plan{opts: opts, ffmpeg: decoder.Version(), hashes: map[string]string{}}
	t0 := time.Now()
	ds, err := Scan(ctx, opts.Root, opts.Split, opts.Extensions)
	if err != nil {
		return nil, err
	}
	opts.Log.Debug("scanned the dataset", "dir", ds.Dir, "videos", len(ds.Videos), "classes", len(ds.Classes), "seconds", time.Since(t0).Seconds())
	t0 = time.Now()
	p.ds = ds
	p.videos = newVideoSet(len(ds.Videos))
	p.act = make([]uint8, len(ds.Videos))
	if opts.Rehash {
		for i := range ds.Videos {
			e := &ds.Videos[i]
			if !e.Regular() || !opts.inShard(e) {
				continue
			}
			h, err := hashFile(ctx, e.Path)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				continue // the probe will name the problem
			}
			p.hashes[e.Path] = h
		}
	}
	join := newPathJoin(ds)
	seen := make([]bool, len(ds.Videos))
	err = ix.eachMeta(ctx, pyJoin(ds.Dir, ""), opts.probeMode(), func(path []byte, old *Row) error {
		i := join.find(path)
		if i < 0 {
			if opts.Shards <= 0 {
				p.gone = append(p.gone, string(path))
			}
			return nil
		}
		seen[i] = true
		p.decide(i, old)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range ds.Videos {
		if !seen[i] {
			p.decide(i, nil)
		}
	}
	for i := range ds.Videos {
		if p.act[i] == actProbe || p.act[i] == actProbeNew {
			p.todo = append(p.todo, &ds.Videos[i])
			p.todoIdx = append(p.todoIdx, i)
		}
	}
	sort.Strings(p.gone)
	opts.Log.Debug("compared with the index", "reused", p.reused, "to_probe", len(p.todo), "special", len(p.special), "removed", len(p.gone), "seconds", time.Since(t0).Seconds())
	return p, nil
}

// decide compares dataset video i with its index row (nil when it has none;
// old is only valid during the call).
func (p *plan) decide(i int, old *Row) {
	e := &p.ds.Videos[i]
	if !p.opts.inShard(e) {
		return
	}
	p.shardVideos++
	mode, ffmpeg := p.opts.probeMode(), p.ffmpeg
	if !e.Regular() {
		r := specialRow(e, mode, ffmpeg)
		if old == nil || old.Status != r.Status || old.Error != r.Error || !old.fresh(e, mode, ffmpeg) {
			p.special = append(p.special, r)
			p.videos.set(i, r)
		} else {
			p.videos.set(i, old)
			p.reused++
		}
		p.act[i] = actReuse
		return
	}
	h, hashed := p.hashes[e.Path]
	switch {
	case old == nil:
		p.act[i] = actProbeNew
		return
	case p.opts.Rehash && !hashed, !old.sameProbe(mode, ffmpeg):
		p.act[i] = actProbe
		return
	case p.opts.Rehash:
		if old.Size != e.Size || (old.Hash != h && !(old.Hash == "" && old.sameFile(e))) {
			p.act[i] = actProbe
			return
		}
		if old.Hash != h || !old.sameFile(e) {
			t := *old
			t.Path, t.Hash, t.MtimeNs, t.Inode = e.Path, h, e.MtimeNs, e.Inode
			p.touched = append(p.touched, &t)
		}
	case !old.sameFile(e):
		p.act[i] = actProbe
		return
	}
	p.videos.set(i, old)
	p.act[i] = actReuse
	p.reused++
}

// stored takes the committed probe result of dataset video i (index maps
// the path when i < 0); it reports whether the video was one this plan had
// to probe.
func (p *plan) stored(i int, index map[string]int, r *Row) bool {
	if i < 0 {
		var ok bool
		if i, ok = index[r.Path]; !ok {
			return false
		}
	}
	if p.act[i] != actProbe && p.act[i] != actProbeNew {
		return false
	}
	p.videos.set(i, r)
	return true
}

// upToDate: nothing to probe, store or forget.
func (p *plan) upToDate() bool {
	return len(p.todo) == 0 && len(p.special) == 0 && len(p.touched) == 0 && len(p.gone) == 0
}

// record stores the plan's bookkeeping (special rows, refreshed stat fields
// and hashes, removals).
func (p *plan) record(ctx context.Context, ix *Index) error {
	if err := ix.PutRows(ctx, p.special); err != nil {
		return err
	}
	if err := ix.TouchRows(ctx, p.touched); err != nil {
		return err
	}
	return ix.DeleteRows(ctx, p.gone)
}

// Build brings the index up to date for the dataset and writes its cache,
// unless the cache on disk already holds exactly this content.
func Build(ctx context.Context, ix *Index, opts BuildOptions) (*BuildResult, error) {
	start := time.Now()
	p, err := newPlan(ctx, ix, opts)
	if err != nil {
		return nil, err
	}
	for _, w := range p.ds.Warnings {
		p.opts.Log.Warn(w)
	}
	if err := p.record(ctx, ix); err != nil {
		return nil, err
	}
	t0 := time.Now()
	probed, err := probeEntries(ctx, ix, p.todo, &p.opts, p.ffmpeg, p.hashes, func(k int, r *Row) { p.stored(p.todoIdx[k], nil, r) })
	if probed > 0 {
		p.opts.Log.Debug("probed", "videos", probed, "mode", p.opts.Mode, "jobs", p.opts.Jobs, "seconds", time.Since(t0).Seconds())
	}
	p.todo, p.todoIdx = nil, nil // done with: the cache is written from p.videos
	res := p.result()
	res.Probed = probed
	if p.opts.Shards > 0 {
		// A shard only fills its index; `merge` and a final build make the cache.
		res.Cache, res.DB, res.Videos = "", ix.Path(), p.shardVideos
		res.Seconds = time.Since(start).Seconds()
		return res, err
	}
	if err == nil {
		t0 = time.Now()
		err = p.write(ctx, ix, res)
		p.opts.Log.Debug("cache", "path", p.opts.Out, "written", res.Written, "seconds", time.Since(t0).Seconds())
	}
	res.Seconds = time.Since(start).Seconds()
	return res, err
}

func (p *plan) result() *BuildResult {
	return &BuildResult{Cache: p.opts.Out, Target: p.opts.Target, Mode: p.opts.Mode, Failures: map[string]int{}, FailedAt: []FailedVideo{}, Warnings: p.ds.Warnings,
		Videos: len(p.ds.Videos), Classes: len(p.ds.Classes), Reused: p.reused}
}

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
	if err := cachefmt.WriteFile(p.opts.Out, c, cachefmt.Options{NoSync: p.opts.NoSync}); err != nil {
		return err
	}
	fi, err := os.Stat(p.opts.Out)
	if err != nil {
		return fmt.Errorf("written cache: %w", err)
	}
	res.Written = true
	return ix.PutCache(ctx, &CacheRecord{Path: p.opts.Out, Root: p.ds.Root, Split: p.ds.Split, Config: string(p.opts.Key()), Digest: digest,
		Videos: len(p.ds.Videos), Clips: res.Clips, Size: fi.Size(), CreatedUnix: c.Config.CreatedUnix})
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

// specialRow records a file that is not probed: what torchvision would have
// made of it is no timestamps and fps None (av.open fails or, for a FIFO,
// blocks; vidcache never opens one).
func specialRow(e *Entry, mode decoder.Mode, ffmpeg string) *Row {
	r := &Row{Path: e.Path, Size: e.Size, MtimeNs: e.MtimeNs, Inode: e.Inode, Pts: []byte{}, Mode: string(mode), FFmpeg: ffmpeg, Probed: nowUnix(),
		PtsHash: ptsHash(nil), HasPtsHash: true}
	if e.StatErr != nil {
		r.Status, r.Error = StatusMissing, oneLine(e.StatErr.Error())
	} else {
		r.Status, r.Error = StatusNotRegular, fmt.Sprintf("%s is not a regular file (%s)", e.Path, e.Mode.Type())
	}
	return r
}

// probeEntries probes todo with opts.Jobs workers and commits results
// in batches as they arrive. On cancellation it stops promptly and commits
// what is done. Each committed row goes to stored with its position in todo
// (its timestamp blob dropped, its pts hash set); it returns how many there
// were.
func probeEntries(ctx context.Context, ix *Index, todo []*Entry, opts *BuildOptions, ffmpeg string, hashes map[string]string, stored func(k int, r *Row)) (int, error) {
	if len(todo) == 0 {
		return 0, nil
	}
	opts.Progress.Start(len(todo))
	defer opts.Progress.Finish()

	type result struct {
		k int // position in todo
		r *Row
	}
	jobs := make(chan int)
	results := make(chan result, opts.Jobs*4)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(jobs)
		for k := range todo {
			select {
			case jobs <- k:
			case <-gctx.Done():
				return nil
			}
		}
		return nil
	})
	workers, wctx := errgroup.WithContext(gctx)
	for w := 0; w < opts.Jobs; w++ {
		workers.Go(func() error {
			for k := range jobs {
				e := todo[k]
				pr, err := decoder.Probe(wctx, e.Path, decoder.Options{Mode: opts.probeMode(), Timeout: opts.Timeout})
				if err != nil {
					return err // cancelled
				}
				r := probeRow(e, pr, opts.probeMode(), ffmpeg)
				r.Hash = hashes[e.Path]
				// Re-check the file: one replaced while it was probed is stored as
				// not fresh, so the next build probes it again.
				if now := statEntry(e.Path, e.Label); now.Size != e.Size || now.MtimeNs != e.MtimeNs || now.Inode != e.Inode {
					r.MtimeNs = -1
				}
				select {
				case results <- result{k, r}:
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
			batch, batchK = append(batch, r), append(batchK, res.k)
			opts.Progress.Done(r.Path, r.Status != string(decoder.StatusOK))
			if len(batch) >= opts.BatchSize {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
	flush()
	err := g.Wait()
	if commitErr != nil {
		return n, commitErr
	}
	if err == nil {
		err = ctx.Err()
	}
	return n, err
}

func probeRow(e *Entry, pr *decoder.Result, mode decoder.Mode, ffmpeg string) *Row {
	return &Row{
		Path: e.Path, Size: e.Size, MtimeNs: e.MtimeNs, Inode: e.Inode,
		Status: string(pr.Status), Error: oneLine(pr.Err), FPS: pr.FPS,
		TBNum: pr.TBNum, TBDen: pr.TBDen, Codec: pr.Codec, Width: pr.Width, Height: pr.Height,
		Frames: pr.Frames, Pts: encodePts(pr.Pts), Mode: string(mode), FFmpeg: ffmpeg, Probed: nowUnix(),
	}
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
		// torchvision 0.26+ stores frame indices, not timestamps.
		FrameIndices: opts.Target == cachefmt.TargetTorchvision,
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
		if st := videos.status(i); st != string(decoder.StatusOK) {
			res.Failed++
			res.Failures[st]++
			res.FailedAt = append(res.FailedAt, FailedVideo{Path: e.Path, Status: st, Error: videos.err(i)})
		}
		fps, frames := videos.fps(i), videos.frames(i)
		n, err := clips.ForVideo(frames, fps, opts.Spec)
		if err != nil {
			return nil, "", nil, fmt.Errorf("%s: %w", e.Path, err)
		}
		c.Videos[i] = cachefmt.Video{Path: mapPath(e.Path), NumFrames: int64(frames), FPS: fps, Label: int64(e.Label), ClipCount: int64(n),
			// torchcodec hands average_fps to Python as JSON, so a whole number arrives as an int.
			FPSInt: c.FrameIndices && fps != nil && cachefmt.JSONInt(*fps)}
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
		if c.FrameIndices {
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
