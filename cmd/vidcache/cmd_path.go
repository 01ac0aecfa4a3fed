package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/vidcache/vidcache/indexer"
)

func init() {
	register(command{name: "path", summary: "print a fresh cache's path for a job script (exit 3 when stale; --ensure builds)", run: runPath})
}

// pathReport is path's --json output.
type pathReport struct {
	Cache  string                `json:"cache"`
	Fresh  bool                  `json:"fresh"` // before --ensure built anything
	Status *indexer.StatusReport `json:"status"`
	Build  *indexer.BuildResult  `json:"build,omitempty"` // what --ensure did
}

// pathFlags are path's options: the dataset, and how --ensure builds.
type pathFlags struct {
	datasetFlags
	probeFlags
	ensure  bool
	json    *bool
	verbose bool
	strict  bool
}

func (f *pathFlags) register(fs *flag.FlagSet) {
	f.datasetFlags.register(fs)
	fs.BoolVar(&f.ensure, "ensure", false, "build the cache first when it is missing or stale")
	f.probeFlags.register(fs, " (with --ensure)")
	f.json = jsonFlag(fs, "one JSON object (the status, and with --ensure what was built)")
	fs.BoolVar(&f.verbose, "verbose", false, "say what changed and what failed, even when the cache is fresh")
	fs.BoolVar(&f.strict, "strict", false, "with --ensure: exit 1 when any video failed (the cache is still written)")
}

func runPath(ctx context.Context, e *env, args []string) error {
	var f pathFlags
	fs := newFlags(e, "path", "path [--ensure [--strict]] [--json] [--verbose] [options] ROOT")
	f.register(fs)
	root, err := parseOne(fs, args, "ROOT")
	if err != nil {
		return err
	}
	s, opts, err := status(ctx, e, &f.datasetFlags, root)
	if err != nil {
		return err
	}
	rep := &pathReport{Cache: s.Cache, Fresh: s.Fresh, Status: s}
	if !s.Fresh && !f.ensure {
		if *f.json {
			if err := writeJSON(e.stdout, rep); err != nil {
				return err
			}
			return silentExit(exitStale)
		}
		return withCode(exitStale, errors.New(s.Reason()))
	}
	if !s.Fresh {
		// One line for the job log before the (possibly long) build; the
		// progress bar on a terminal.
		if !*f.json {
			fmt.Fprintf(e.stderr, "vidcache: %s; building\n", s.Reason())
		}
		// On a terminal the progress bar; in a job log nothing more.
		out := buildOutput{quiet: !e.stderrIsTTY || *f.json, verbose: f.verbose, json: *f.json, logFormat: "text"}
		res, err := buildIn(ctx, e, *f.db, opts, out, f.probeFlags)
		if err != nil {
			return err
		}
		rep.Build, rep.Cache = res, res.Cache
	}
	if *f.json {
		if err := writeJSON(e.stdout, rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(e.stdout, rep.Cache)
		if rep.Build != nil || f.verbose {
			fmt.Fprintln(e.stderr, pathSummary(rep))
			failedLines(e, rep, f.verbose)
		}
	}
	if failed := failedCount(rep); f.strict && failed > 0 {
		return fmt.Errorf("--strict: %d of %d videos failed", failed, s.Videos)
	}
	return nil
}

// pathSummary is the one line path --ensure leaves in a job log.
func pathSummary(r *pathReport) string {
	s := r.Status
	changes := fmt.Sprintf("%d new, %d changed, %d removed", s.Counts.New, s.Counts.Changed, s.Counts.Removed)
	if b := r.Build; b != nil {
		// "built" when there was no cache file before, "rebuilt" when one
		// was replaced, "unchanged" when its content was already right.
		state := "built"
		switch {
		case !b.Written:
			state = "unchanged"
		case s.Exists:
			state = "rebuilt"
		}
		return fmt.Sprintf("vidcache: %s %s: %s; %d videos: %d probed, %d reused, %d failed (%.2fs)",
			state, b.Cache, changes, b.Videos, b.Probed, b.Reused, b.Failed, b.Seconds)
	}
	return fmt.Sprintf("vidcache: fresh %s: %d videos, %d failed", r.Cache, s.Videos, len(s.Failed))
}

func failedCount(r *pathReport) int {
	if r.Build != nil {
		return r.Build.Failed
	}
	return len(r.Status.Failed)
}

// failedLines lists the failed videos of a path report.
func failedLines(e *env, r *pathReport, verbose bool) {
	failed := r.Status.Failed
	if r.Build != nil {
		failed = r.Build.FailedAt
	}
	listFailed(e, failed, verbose, "failed ", "--verbose")
}

// listFailed writes one line per failed video to stderr (the first 10
// unless verbose; more names the option that lists them all).
func listFailed(e *env, failed []indexer.FailedVideo, verbose bool, prefix, more string) {
	for i, fv := range failed {
		if i == 10 && !verbose {
			fmt.Fprintf(e.stderr, "  … and %d more (%s lists all)\n", len(failed)-10, more)
			break
		}
		fmt.Fprintf(e.stderr, "  %s%s: %s: %s\n", prefix, fv.Path, fv.Status, strings.TrimSpace(fv.Error))
	}
}
