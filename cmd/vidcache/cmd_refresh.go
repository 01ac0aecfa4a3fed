package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/vidcache/vidcache/indexer"
)

func init() {
	register(command{name: "refresh", summary: "rebuild every registered cache that is stale (--all, or those of ROOT...)", run: runRefresh})
	register(command{name: "gc", summary: "forget vanished videos and delete unregistered cache files", run: runGC})
}

func runRefresh(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "refresh", "refresh [--all | ROOT...] [options]")
	all := fs.Bool("all", false, "every registered cache")
	db := dbFlag(fs)
	var pf probeFlags
	pf.register(fs, "")
	asJSON := jsonFlag(fs, "a JSON array, one object per cache")
	quiet := fs.Bool("quiet", false, "no progress")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if *all == (len(pos) > 0) {
		return usageErr("give either --all or one or more ROOTs")
	}
	ix, err := openIndex(ctx, e, *db)
	if err != nil {
		return err
	}
	defer ix.Close()
	opts := indexer.RefreshOptions{Roots: pos, Jobs: pf.jobs, Timeout: pf.timeout}
	if e.stderrIsTTY && !*quiet && !*asJSON {
		opts.Progress = newTermProgress(e.stderr)
	}
	results, err := indexer.Refresh(ctx, ix, opts)
	if err != nil {
		return err
	}
	if results == nil {
		results = []indexer.RefreshResult{}
	}
	failed := 0
	for _, r := range results {
		if r.State == indexer.RefreshFailed {
			failed++
		}
	}
	if *asJSON {
		if err := writeJSON(e.stdout, results); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			line := fmt.Sprintf("%s: %s (%d videos, %d probed)", r.Cache, r.State, r.Videos, r.Probed)
			if r.Error != "" {
				line = fmt.Sprintf("%s: failed: %s", r.Cache, r.Error)
			}
			fmt.Fprintln(e.stdout, line)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d caches could not be refreshed", failed, len(results))
	}
	if len(results) == 0 && len(pos) > 0 {
		return errors.New("no registered cache for these roots")
	}
	return nil
}

func runGC(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "gc", "gc [--dry-run] [--db INDEX]")
	dry := fs.Bool("dry-run", false, "only list what would be removed")
	db := dbFlag(fs)
	asJSON := jsonFlag(fs, "one JSON object")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	d, err := dirs(e)
	if err != nil {
		return err
	}
	ix, err := openIndex(ctx, e, *db)
	if err != nil {
		return err
	}
	defer ix.Close()
	others, err := indexer.RegisteredIndexes(d.Home)
	if err != nil {
		return err
	}
	r, err := indexer.GC(ctx, ix, d.Caches, *dry, others...)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, r)
	}
	verb := "removed"
	if *dry {
		verb = "would remove"
	}
	for _, p := range r.ForgottenVideos {
		fmt.Fprintf(e.stdout, "%s index row of vanished video %s\n", verb, p)
	}
	for _, p := range r.Unregistered {
		fmt.Fprintf(e.stdout, "%s registration of vanished cache %s\n", verb, p)
	}
	for _, p := range r.DeletedFiles {
		fmt.Fprintf(e.stdout, "%s unregistered file %s\n", verb, p)
	}
	for _, why := range r.KeptBecause {
		fmt.Fprintf(e.stderr, "gc: kept %d unregistered caches: %s\n", len(r.Kept), why)
	}
	fmt.Fprintf(e.stderr, "gc: %d video rows, %d cache registrations, %d files %s\n", len(r.ForgottenVideos), len(r.Unregistered), len(r.DeletedFiles), verb)
	return nil
}
