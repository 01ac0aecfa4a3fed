package main

import (
	"context"
	"fmt"

	"github.com/vidcache/vidcache/indexer"
)

func init() {
	register(command{name: "merge", summary: "fold shard indexes (build --shard) into one index; idempotent", run: runMerge})
}

func runMerge(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "merge", "merge SHARD_DB... [--db INDEX] [--json]")
	db := dbFlag(fs)
	asJSON := jsonFlag(fs, "one JSON object")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErr("want one or more SHARD_DB files")
	}
	ix, err := openIndex(ctx, e, *db)
	if err != nil {
		return err
	}
	defer ix.Close()
	res, err := indexer.Merge(ctx, ix, pos)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, res)
	}
	fmt.Fprintf(e.stdout, "%s: merged %d videos from %d shard indexes\n", ix.Path(), res.Rows, res.Shards)
	return nil
}
