package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/vidcache/vidcache/indexer"
)

func init() {
	register(command{name: "refresh", summary: "rebuild every registered cache that is stale (--all, or those of ROOT...)", run: runRefresh})
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
