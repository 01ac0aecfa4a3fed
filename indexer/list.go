package indexer

import (
	"context"
	"os"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// ListEntry is one registered cache as `vidcache list` shows it.
type ListEntry struct {
	Path string `json:"path"`
	cachefmt.Config
	Videos      int       `json:"videos"`
	Failed      int       `json:"failed"` // -1: not recorded
	Clips       int64     `json:"clips"`
	Size        int64     `json:"size"`
	CreatedUnix int64     `json:"created_unix"`
	State       ListState `json:"state"`
	Reason      string    `json:"reason,omitempty"`
}

// ListState is what List says of a registered cache.
type ListState string

const (
	ListFresh    ListState = "fresh"    // the dataset is as the cache was built from it
	ListStale    ListState = "stale"    // the dataset or its configuration changed
	ListMissing  ListState = "missing"  // the cache file is gone
	ListImported ListState = "imported" // an imported cache whose videos are unchanged
)

func (s ListState) String() string { return string(s) }

// List describes every cache registered in ix, with whether it is fresh:
// each dataset is walked (stat only) and compared with the index, nothing
// is probed.
func List(ctx context.Context, ix *Index) ([]ListEntry, error) {
	recs, err := ix.Caches(ctx)
	if err != nil {
		return nil, err
	}
	out := []ListEntry{}
	for _, rec := range recs {
		e := ListEntry{Path: rec.Path, Videos: rec.Videos, Failed: rec.Failed, Clips: rec.Clips, Size: rec.Size, CreatedUnix: rec.CreatedUnix}
		cfg, err := cachefmt.ParseKey([]byte(rec.Config))
		if err != nil {
			e.State, e.Reason = ListStale, "unreadable configuration: "+err.Error()
			out = append(out, e)
			continue
		}
		e.Config = cfg
		if _, err := os.Stat(rec.Path); err != nil {
			e.State, e.Reason = ListMissing, err.Error()
			out = append(out, e)
			continue
		}
		// An imported cache is compared with the rows import recorded.
		check := cfg
		check.Mode = rowsMode(cfg)
		s, err := Status(ctx, ix, BuildOptions{Config: check, Out: rec.Path, TrustImported: cfg.Mode == vocab.ModeImported})
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			e.State, e.Reason = ListStale, err.Error()
		case cfg.Mode == vocab.ModeImported && s.Counts.New+s.Counts.Changed+s.Counts.Removed == 0:
			e.State = ListImported
		case s.Fresh:
			e.State = ListFresh
		default:
			e.State, e.Reason = ListStale, s.Reason()
		}
		out = append(out, e)
	}
	return out, nil
}
