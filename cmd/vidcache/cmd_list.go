package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vidcache/vidcache/indexer"
)

func init() {
	register(command{name: "list", summary: "list every registered cache, its dataset and options, and whether it is fresh", run: runList})
}

func runList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "list", "list [--db INDEX] [--json]")
	db := dbFlag(fs)
	asJSON := jsonFlag(fs, "a JSON array, one object per cache")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	ix, err := openIndexReadOnly(ctx, e, *db)
	if err != nil {
		return err
	}
	defer ix.Close()
	list, err := indexer.List(ctx, ix)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, list)
	}
	if len(list) == 0 {
		fmt.Fprintf(e.stderr, "no caches registered in %s\n", ix.Path())
		return nil
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "STATE\tROOT\tSPLIT\tTARGET\tMODE\tEXT\tCLIPS\tVIDEOS\tFAILED\tSIZE\tBUILT\tCACHE")
	for _, c := range list {
		fr := "native"
		if c.FrameRate != nil {
			fr = strconv.FormatFloat(*c.FrameRate, 'g', -1, 64)
		}
		failed := strconv.Itoa(c.Failed)
		if c.Failed < 0 {
			failed = "?"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%d/%d/%s\t%d\t%s\t%s\t%s\t%s\n", c.State, c.Root, c.Split, c.Target, c.Mode,
			strings.Join(c.Extensions, ","), c.FramesPerClip, c.StepBetweenClips, fr, c.Videos, failed, humanSize(c.Size),
			time.Unix(c.CreatedUnix, 0).Format("2006-01-02 15:04"), c.Path)
	}
	return w.Flush()
}

// humanSize shows a byte count in B, kB, MB or GB (powers of 1000).
func humanSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f GB", float64(n)/1e9)
}
