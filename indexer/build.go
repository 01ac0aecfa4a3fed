package indexer

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// BuildOptions configure one build: the cache's configuration and how to
// get there.
type BuildOptions struct {
	// Config is what the cache is (dataset, clips, target and mode, root_as,
	// created_unix; 0 = now). Normalize fills its defaults.
	cachefmt.Config
	Rehash bool // trust content hashes, not mtimes
	// TrustImported takes rows that import recorded (from a torchvision
	// cache file) as probe results of their mode instead of probing again.
	TrustImported bool
	Shard         int // with Shards > 0: probe only this shard's videos, write no cache
	Shards        int
	Jobs          int           // probing workers; default 1
	Timeout       time.Duration // per video; 0 = none
	Out           string        // cache file; default under CacheDir
	CacheDir      string        // where default-named caches go
	Progress      Progress      // may be nil
	Log           *slog.Logger  // may be nil
	// BatchSize is how many probe results are committed per transaction.
	BatchSize int
	// NoSync skips fsync of the cache (tests only).
	NoSync bool
	// AllowEmpty writes a cache of a split with no videos; otherwise such
	// a build is an EmptyError (wrong extensions or split, most often).
	AllowEmpty bool
}

// ErrEmpty: the split holds no video with the configured extensions (an
// EmptyError says where).
var ErrEmpty = errors.New("no videos")

// BuildResult reports what a build did.
type BuildResult struct {
	Cache  string       `json:"cache"`
	DB     string       `json:"db"`
	Target vocab.Target `json:"target"`
	Mode   vocab.Mode   `json:"mode"`
	Videos int          `json:"videos"`
	Probed int          `json:"probed"`
	Reused int          `json:"reused"`
	// ProbedElsewhere counts the videos this build planned to probe that
	// another process building from the same index probed meanwhile.
	ProbedElsewhere int            `json:"probed_elsewhere"`
	Failed          int            `json:"failed"`
	Clips           int64          `json:"clips"`
	Seconds         float64        `json:"seconds"`
	Written         bool           `json:"written"` // false: the cache was already up to date
	Failures        map[string]int `json:"failures"`
	Classes         int            `json:"classes"`
	Frames          int64          `json:"frames"`
	Warnings        []string       `json:"warnings,omitempty"`
	FailedAt        []FailedVideo  `json:"failed_videos"`
	// What the probes of this build read (nothing when nothing was probed).
	IOStats
}

// FailedVideo names a video that gave no timestamps, and why.
type FailedVideo struct {
	Path   string       `json:"path"`
	Status vocab.Status `json:"status"`
	Error  string       `json:"error"`
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

// probeMode is the way the build reads videos: the configuration's mode.
func (o *BuildOptions) probeMode() vocab.Mode { return o.Mode }

// Build brings the index up to date for the dataset and writes its cache,
// unless the cache on disk already holds exactly this content.
func Build(ctx context.Context, ix *Index, opts BuildOptions) (*BuildResult, error) {
	start := time.Now()
	p, err := newPlan(ctx, ix, opts)
	if err != nil {
		return nil, err
	}
	res, err := p.build(ctx, ix)
	if res != nil {
		res.Seconds = time.Since(start).Seconds()
	}
	return res, err
}

// build carries the plan out: it stores the bookkeeping rows, probes the
// videos to probe, and writes the cache (a shard only fills its index).
func (p *plan) build(ctx context.Context, ix *Index) (*BuildResult, error) {
	if len(p.ds.Videos) == 0 && !p.opts.AllowEmpty {
		return nil, &EmptyError{Dir: p.ds.Dir, Extensions: p.opts.Extensions}
	}
	for _, w := range p.ds.Warnings {
		p.opts.Log.Warn(w)
	}
	if err := p.record(ctx, ix); err != nil {
		return nil, err
	}
	probed, shared, err := p.probeAll(ctx)
	res := p.result()
	res.Probed, res.ProbedElsewhere = probed, shared
	res.IOStats = p.read
	if p.opts.Shards > 0 {
		// A shard only fills its index; `merge` and a final build make the cache.
		res.Cache, res.DB, res.Videos = "", ix.Path(), p.shardVideos
		return res, err
	}
	if err == nil {
		t0 := time.Now()
		err = p.write(ctx, ix, res)
		p.opts.Log.Debug("cache", "path", p.opts.Out, "written", res.Written, "seconds", time.Since(t0).Seconds())
	}
	return res, err
}

// probeAll probes the plan's videos to probe and keeps their rows (the
// cache is written from p.videos, not from the list, which it drops).
func (p *plan) probeAll(ctx context.Context) (probed, shared int, err error) {
	t0 := time.Now()
	probed, shared, err = p.run(ctx, p.todo, func(k int, r *Row) { p.stored(p.todoIdx[k], r) })
	if probed > 0 {
		p.opts.Log.Debug("probed", "videos", probed, "mode", p.opts.Mode, "jobs", p.opts.Jobs, "seconds", time.Since(t0).Seconds(),
			"bytes_read", p.read.BytesRead, "bytes_probed", p.read.BytesProbed, "header_only", p.read.HeaderOnly, "native", p.read.Native, "ffmpeg", p.read.FFmpeg)
	}
	p.todo, p.todoIdx = nil, nil
	return probed, shared, err
}

func (p *plan) result() *BuildResult {
	return &BuildResult{Cache: p.opts.Out, Target: p.opts.Target, Mode: p.opts.Mode, Failures: map[string]int{}, FailedAt: []FailedVideo{}, Warnings: p.ds.Warnings,
		Videos: len(p.ds.Videos), Classes: len(p.ds.Classes), Reused: p.reused}
}
