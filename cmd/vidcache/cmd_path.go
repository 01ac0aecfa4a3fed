package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"
)

func init() {
	register(command{name: "path", summary: "print a fresh cache's path for a job script (exit 3 when stale; --ensure builds)", run: runPath})
}

// exitStale is path's exit code for a missing or stale cache.
const exitStale = 3

func runPath(ctx context.Context, e *env, args []string) error {
	var f buildFlags
	fs := newFlags(e, "path", "path [--ensure] [options] ROOT")
	f.datasetFlags.register(fs)
	ensure := fs.Bool("ensure", false, "build the cache first when it is missing or stale")
	fs.StringVar(&f.rootAs, "root-as", "", "write paths with ROOT replaced by this prefix (with --ensure)")
	fs.BoolVar(&f.rehash, "rehash", false, "compare content hashes instead of mtimes")
	fs.IntVar(&f.jobs, "jobs", runtime.NumCPU(), "videos probed in parallel (with --ensure)")
	fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "time limit for probing one video (with --ensure)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("want exactly one ROOT")
	}
	s, err := status(ctx, e, &f.datasetFlags, pos[0], f.rootAs, f.rehash)
	if err != nil {
		return err
	}
	if s.Fresh {
		fmt.Fprintln(e.stdout, s.Cache)
		return nil
	}
	if !*ensure {
		return withCode(exitStale, errors.New(s.Reason()))
	}
	f.quiet = true
	res, err := runBuild(ctx, e, &f, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, res.Cache)
	return nil
}
