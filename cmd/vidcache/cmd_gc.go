package main

import (
	"context"
	"fmt"

	"github.com/vidcache/vidcache/indexer"
)

func init() {
	register(command{name: "gc", summary: "forget vanished videos and delete unregistered cache files", run: runGC})
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
