package indexer

import (
	"context"
	"fmt"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// ReportVideo is one video of a report.
type ReportVideo struct {
	Path     string       `json:"path"`
	Class    string       `json:"class"`
	Frames   int          `json:"frames"`
	FPS      *float64     `json:"fps"`
	Duration *float64     `json:"duration_seconds"` // frames / fps
	Clips    int64        `json:"clips"`
	Status   vocab.Status `json:"status"` // from the index; StatusUnknown ("") when it has no row
	Error    string       `json:"error,omitempty"`
}

// Failed: the video failed (vocab.Status.Failed), by its index row's status,
// or without one by its frames in the cache.
func (v *ReportVideo) Failed() bool { return v.Status.Failed(int64(v.Frames)) }

// Report is what `vidcache report` shows of a cache: every video, and (with
// an index) each one's probe status and what changed since the cache was
// built.
type Report struct {
	Cache   string          `json:"cache"`
	Config  cachefmt.Config `json:"config"`
	Classes []string        `json:"classes"`
	Videos  []ReportVideo   `json:"videos"`
	// Changes is the dataset compared with the index now (nil without an
	// index, or when the dataset cannot be read).
	Changes *StatusReport `json:"changes,omitempty"`
	// ChangesError says why Changes is missing.
	ChangesError string `json:"changes_error,omitempty"`
}

// MakeReport reads a cache file, and with ix its videos' index rows and the
// dataset's changes since (the dataset is walked, nothing is probed).
func MakeReport(ctx context.Context, path string, ix *Index) (*Report, error) {
	f, err := cachefmt.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := &Report{Cache: path, Config: f.Config, Classes: f.Classes, Videos: make([]ReportVideo, len(f.Videos))}
	for i, fv := range f.Videos {
		v := ReportVideo{Path: fv.Path, Frames: int(fv.NumFrames), FPS: fv.FPS, Clips: fv.ClipCount}
		if l := fv.Label; l >= 0 && l < int64(len(f.Classes)) {
			v.Class = f.Classes[l]
		}
		if v.FPS != nil && *v.FPS > 0 && v.Frames > 0 {
			d := float64(v.Frames) / *v.FPS
			v.Duration = &d
		}
		r.Videos[i] = v
	}
	if ix == nil {
		return r, nil
	}
	cfg := f.Config
	cfg.RootAs = ""
	cfg.Mode = rowsMode(cfg)
	rows, err := ix.RowsUnder(ctx, pyJoin(pyJoin(cfg.Root, cfg.Split), ""), cfg.Mode)
	if err != nil {
		return nil, err
	}
	for i := range r.Videos {
		if row := rows[r.Videos[i].Path]; row != nil {
			r.Videos[i].Status, r.Videos[i].Error = row.Status, row.Error
		}
	}
	s, err := Status(ctx, ix, BuildOptions{Config: cfg, Out: path, TrustImported: f.Config.Mode == vocab.ModeImported})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		r.ChangesError = fmt.Sprintf("the dataset was not compared: %v", err)
		return r, nil
	}
	r.Changes = s
	return r, nil
}
