package main

import (
	"context"
	"fmt"

	"github.com/vidcache/vidcache/indexer"
)

func init() {
	register(command{name: "status", summary: "say whether a configuration's cache is fresh, without probing (exit 3 when stale)", run: runStatus})
}

type statusFlags struct {
	datasetFlags
	json    *bool
	verbose bool
	failed  bool
}

func runStatus(ctx context.Context, e *env, args []string) error {
	var f statusFlags
	fs := newFlags(e, "status", "status [options] ROOT")
	f.datasetFlags.register(fs)
	f.json = jsonFlag(fs, "one JSON object")
	fs.BoolVar(&f.verbose, "verbose", false, "list the new, changed and removed paths")
	fs.BoolVar(&f.failed, "failed", false, "list the videos without timestamps, with their causes")
	root, err := parseOne(fs, args, "ROOT")
	if err != nil {
		return err
	}
	s, _, err := status(ctx, e, &f.datasetFlags, root)
	if err != nil {
		return err
	}
	if *f.json {
		if !f.verbose { // the counts say it; thousands of paths are for --verbose
			s.New, s.Changed, s.Removed = nil, nil, nil
		}
		if err := writeJSON(e.stdout, s); err != nil {
			return err
		}
		return staleExit(s)
	}
	// The reason already names the changes and a missing cache file.
	line := fmt.Sprintf("%s; %d videos", s.Reason(), s.Videos)
	if s.Exists {
		line += "; cache file " + cacheState(s)
	}
	fmt.Fprintf(e.stdout, "%s\n%s\n", s.Cache, line)
	if f.verbose {
		for _, l := range []struct {
			what  string
			paths []string
		}{{"new", s.New}, {"changed", s.Changed}, {"removed", s.Removed}} {
			for _, p := range l.paths {
				fmt.Fprintf(e.stdout, "  %s %s\n", l.what, p)
			}
		}
	}
	if f.failed {
		for _, v := range s.Failed {
			fmt.Fprintf(e.stdout, "  failed %s: %s: %s\n", v.Path, v.Status, v.Error)
		}
	}
	return staleExit(s)
}

// staleExit: exit 3 when the cache is missing or stale.
func staleExit(s *indexer.StatusReport) error {
	if s.Fresh {
		return nil
	}
	return silentExit(exitStale)
}

func cacheState(s *indexer.StatusReport) string {
	switch {
	case !s.Exists:
		return "missing"
	case !s.Registered:
		return "exists but is not registered in the index"
	case s.Matches:
		return "matches the index"
	}
	return "differs from the index"
}

// status opens the index named by the flags and compares. Unless clip
// options or --out were given, the cache looked at is the newest registered
// one of the dataset (root, split, extensions, target, mode), whatever its
// clip options, and the options returned take them over (so a following
// build rewrites that cache); given clip options are honoured exactly (a
// cache for them needs no probing when another exists).
func status(ctx context.Context, e *env, d *datasetFlags, root string) (*indexer.StatusReport, indexer.BuildOptions, error) {
	opts, err := d.options(e, root)
	if err != nil {
		return nil, opts, err
	}
	ix, err := openIndexReadOnly(ctx, e, *d.db)
	if err != nil {
		return nil, opts, err
	}
	defer ix.Close()
	if !d.set("frames-per-clip", "step-between-clips", "frame-rate", "out") {
		rec, cfg, err := indexer.FindCache(ctx, ix, opts.Config)
		if err != nil {
			return nil, opts, err
		}
		if rec != nil {
			opts.Out, opts.Spec = rec.Path, cfg.Spec
		}
	}
	s, err := indexer.Status(ctx, ix, opts)
	return s, opts, err
}
