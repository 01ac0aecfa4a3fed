package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/cachefmt/vocab"
	"github.com/vidcache/vidcache/indexer"
)

func init() {
	register(command{name: "import", summary: "convert a torchvision cache (pickled dataset, VideoClips, metadata) without executing it", run: runImport})
}

func runImport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "import", "import [--out SAFE.pt] [--dataset-root DIR] [--root-as PREFIX] [--target T] [--force] [--json] FILE")
	out := fs.String("out", "", "cache file to write (default: FILE with .vidcache.pt)")
	rootAs := fs.String("root-as", "", "write paths with the dataset root replaced by this prefix")
	datasetRoot := fs.String("dataset-root", "", "the dataset's root on this machine, when it moved since FILE was written (its recorded root is replaced, in the cache and the index)")
	db := dbFlag(fs)
	noIndex := fs.Bool("no-index", false, "do not record anything in the index")
	asJSON := jsonFlag(fs, "one JSON object")
	force := fs.Bool("force", false, "convert a file whose pickle names globals outside torch's weights_only allowlist and vidcache's known torchvision classes, from its data alone (refused otherwise)")
	createdUnix := fs.Int64("created-unix", 0, "created_unix to store (default: now)")
	var target vocab.Target
	fs.Var(&target, "target", "the torchvision that wrote FILE: torchvision (0.26+) or torchvision-pyav (0.25 and earlier); default: detected (frame-index pts with int frame rates are 0.26+)")
	file, err := parseOne(fs, args, "FILE")
	if err != nil {
		return err
	}
	opts := indexer.ImportOptions{Out: *out, RootAs: *rootAs, DatasetRoot: *datasetRoot, CreatedAt: *createdUnix, Force: *force, Target: target}
	if !*noIndex {
		ix, err := openIndex(ctx, e, *db)
		if err != nil {
			return err
		}
		defer ix.Close()
		opts.Index = ix
	}
	res, err := indexer.Import(ctx, file, opts)
	var oe *cachefmt.OptionError
	if errors.Is(err, indexer.ErrRefused) || errors.As(err, &oe) {
		return configErr(err) // an option's refusal names its flag
	}
	if err != nil {
		return err
	}
	if len(res.UnsafeGlobals) > 0 {
		fmt.Fprintf(e.stderr, "vidcache: WARNING: --force: %s names globals that torch's weights_only loader refuses and vidcache does not know: %s\n"+
			"vidcache: WARNING: loading the original with torch.load could run them; nothing was executed here, and only its data was converted\n",
			file, strings.Join(res.UnsafeGlobals, ", "))
	}
	if *asJSON {
		return writeJSON(e.stdout, res)
	}
	fmt.Fprintln(e.stdout, res.Cache)
	fr := "native"
	if res.FrameRate != nil {
		fr = fmt.Sprint(*res.FrameRate)
	}
	fmt.Fprintf(e.stderr, "imported %s (target %s): %d videos, %d classes (labels from %s), %d frames, %d clips of %d frames, step %d, frame rate %s; %d videos recorded in the index\n",
		res.Source, res.Target, res.Videos, res.Classes, res.LabelsFrom, res.Frames, res.Clips, res.FramesPerClip, res.StepBetweenClips, fr, res.Indexed)
	return nil
}
