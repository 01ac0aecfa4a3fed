package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/vidcache/vidcache/indexer"
)

func init() {
	register(command{name: "verify", summary: "check a cache file's integrity, safety and consistency (and, with --root, the dataset)", run: runVerify})
}

// Exit codes of verify, one per failure class (the most severe wins).
var verifyExit = map[indexer.VerifyClass]int{
	indexer.VerifyUnreadable:   exitUsage,
	indexer.VerifyStale:        exitStale,
	indexer.VerifyCorrupt:      exitCorrupt,
	indexer.VerifyUnsafe:       exitUnsafe,
	indexer.VerifyFormat:       exitFormat,
	indexer.VerifyInconsistent: exitInconsistent,
}

func runVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "verify", "verify [--root ROOT] [--db INDEX] [--json] FILE")
	root := fs.String("root", "", "also check that ROOT still holds the cached videos, unchanged, in the same order")
	db := dbFlag(fs) // compared with, with --root
	asJSON := jsonFlag(fs, "one JSON object")
	file, err := parseOne(fs, args, "FILE")
	if err != nil {
		return err
	}
	opts := indexer.VerifyOptions{Root: *root}
	if *root != "" {
		ix, err := openIndexReadOnly(ctx, e, *db)
		if err != nil {
			return err
		}
		defer ix.Close()
		opts.Index = ix
	}
	r, err := indexer.Verify(ctx, file, opts)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := writeJSON(e.stdout, r); err != nil {
			return err
		}
	} else {
		if r.OK {
			fmt.Fprintf(e.stdout, "%s: OK (%s; %d videos)\n", r.File, strings.Join(r.Checked, ", "), r.Videos)
		}
		for _, p := range r.Problems {
			fmt.Fprintf(e.stdout, "%s: %s: %s\n", r.File, p.Class, p.Detail)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(e.stdout, "%s: note: %s\n", r.File, n)
		}
	}
	if r.OK {
		return nil
	}
	return silentExit(verifyExit[r.Worst()])
}
