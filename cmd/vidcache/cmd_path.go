package main

import (
	"context"
	"errors"
	"fmt"
)

func init() {
	register(command{name: "path", summary: "print a fresh cache's path for a job script (exit 3 when stale; --ensure builds)", run: runPath})
}

func runPath(ctx context.Context, e *env, args []string) error {
	var f buildFlags
	fs := newFlags(e, "path", "path [--ensure] [options] ROOT")
	f.datasetFlags.register(fs)
	ensure := fs.Bool("ensure", false, "build the cache first when it is missing or stale")
	f.probeFlags.register(fs, " (with --ensure)")
	root, err := parseOne(fs, args, "ROOT")
	if err != nil {
		return err
	}
	s, err := status(ctx, e, &f.datasetFlags, root)
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
	res, err := runBuild(ctx, e, &f, root)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, res.Cache)
	return nil
}
