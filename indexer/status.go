package indexer

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// StatusReport says, without probing anything, whether a configuration's
// cache is fresh, and why not.
type StatusReport struct {
	Cache   string       `json:"cache"`
	Target  vocab.Target `json:"target"`
	Mode    vocab.Mode   `json:"mode"`
	Fresh   bool         `json:"fresh"`
	Reasons []string     `json:"reasons,omitempty"`
	Videos  int          `json:"videos"`
	// Counts of new, changed and removed videos; the lists name them.
	Counts struct {
		New     int `json:"new"`
		Changed int `json:"changed"`
		Removed int `json:"removed"`
	} `json:"counts"`
	New        []string      `json:"new,omitempty"`
	Changed    []string      `json:"changed,omitempty"`
	Removed    []string      `json:"removed,omitempty"`
	Exists     bool          `json:"cache_exists"`
	Registered bool          `json:"cache_registered"`
	Matches    bool          `json:"cache_matches_index"`
	Failed     []FailedVideo `json:"failed_videos"`
	Warnings   []string      `json:"warnings,omitempty"`
}

// Reason is the report in one line.
func (s *StatusReport) Reason() string {
	if s.Fresh {
		return "fresh"
	}
	return "stale: " + strings.Join(s.Reasons, "; ")
}

// Status compares the dataset, the index and the configuration's cache file.
// It reads files' metadata (and with Rehash their content) but never probes.
func Status(ctx context.Context, ix *Index, opts BuildOptions) (*StatusReport, error) {
	p, err := newPlan(ctx, ix, opts)
	if err != nil {
		return nil, err
	}
	s := &StatusReport{Cache: p.opts.Out, Target: p.opts.Target, Mode: p.opts.Mode, Videos: len(p.ds.Videos), New: []string{}, Changed: []string{}, Removed: p.gone, Warnings: p.ds.Warnings}
	if s.Removed == nil {
		s.Removed = []string{}
	}
	for k, e := range p.todo {
		if p.act[p.todoIdx[k]] == actProbeNew {
			s.New = append(s.New, e.Path)
		} else {
			s.Changed = append(s.Changed, e.Path)
		}
	}
	for _, r := range p.special {
		s.Changed = append(s.Changed, r.Path)
	}
	s.Counts.New, s.Counts.Changed, s.Counts.Removed = len(s.New), len(s.Changed), len(s.Removed)
	plural := func(n int, what string) string {
		if n == 1 {
			return fmt.Sprintf("1 %s video", what)
		}
		return fmt.Sprintf("%d %s videos", n, what)
	}
	if n := len(s.New); n > 0 {
		s.Reasons = append(s.Reasons, plural(n, "new"))
	}
	if n := len(s.Changed); n > 0 {
		s.Reasons = append(s.Reasons, plural(n, "changed"))
	}
	if n := len(s.Removed); n > 0 {
		s.Reasons = append(s.Reasons, plural(n, "removed"))
	}
	_, statErr := os.Stat(p.opts.Out)
	s.Exists = statErr == nil
	rec, err := ix.Cache(ctx, p.opts.Out)
	if err != nil {
		return nil, err
	}
	s.Registered = rec != nil
	if !s.Exists {
		s.Reasons = append(s.Reasons, "no cache file at "+p.opts.Out)
	} else if !s.Registered {
		s.Reasons = append(s.Reasons, "the cache file is not registered in this index")
	}
	// The failed videos and the digest need every row: only meaningful when
	// nothing is left to probe.
	res := p.result()
	if len(p.todo) == 0 {
		a, err := p.assemble(ctx, ix, res)
		if err != nil {
			return nil, err
		}
		s.Failed = res.FailedAt
		if s.Matches, err = p.cacheMatches(ctx, ix, a.digest); err != nil {
			return nil, err
		}
		if s.Exists && s.Registered && !s.Matches && len(s.Reasons) == 0 {
			s.Reasons = append(s.Reasons, "the cache file differs from what the index would write")
		}
	}
	if s.Failed == nil {
		s.Failed = []FailedVideo{}
	}
	s.Fresh = len(s.Reasons) == 0 && s.Matches
	return s, nil
}
