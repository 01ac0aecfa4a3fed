package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/cachefmt/vocab"
)

func init() {
	register(command{name: "inspect", summary: "show the structure of any torch file, and a vidcache cache's contents", run: runInspect})
}

type inspectReport struct {
	File         string           `json:"file"`
	Container    string           `json:"container"`
	Globals      []string         `json:"globals"`
	Storages     int              `json:"storages"`
	StorageBytes int64            `json:"storage_bytes"`
	Structure    *cachefmt.Node   `json:"structure"`
	Vidcache     *vidcacheSummary `json:"vidcache,omitempty"`
}

// vidcacheSummary is a cache's configuration (its JSON form, plus what the
// file records of how it was written) and totals.
type vidcacheSummary struct {
	FormatVersion int64 `json:"format_version"`
	cachefmt.Config
	FFmpeg      string   `json:"ffmpeg"`
	ToolVersion string   `json:"tool_version"`
	CreatedUnix int64    `json:"created_unix"`
	Videos      int      `json:"videos"`
	Frames      int64    `json:"frames"`
	Clips       int64    `json:"clips"`
	Failed      int      `json:"failed"`
	Classes     []string `json:"classes"`
}

func runInspect(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "inspect", "inspect [--json] FILE")
	asJSON := jsonFlag(fs, "one JSON object")
	depth := fs.Int("depth", 3, "levels of nested dicts to expand")
	file, err := parseOne(fs, args, "FILE")
	if err != nil {
		return err
	}
	l, err := cachefmt.LoadWith(file, cachefmt.LoadOptions{StructureOnly: true})
	if err != nil {
		return withCode(exitUsage, err)
	}
	rep := &inspectReport{File: file, Container: "zip", Globals: l.Globals, Structure: cachefmt.Describe(l.Value, *depth)}
	if !l.Zip {
		rep.Container = "legacy"
	}
	if rep.Globals == nil {
		rep.Globals = []string{}
	}
	for _, s := range l.Storages {
		rep.Storages++
		rep.StorageBytes += s.Bytes
	}
	if f, err := cachefmt.ReadFile(file); err == nil {
		rep.Vidcache = summarize(f)
	}
	if *asJSON {
		return writeJSON(e.stdout, rep)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: torch %s file, %d storages, %d bytes of tensor data\n", rep.File, rep.Container, rep.Storages, rep.StorageBytes)
	fmt.Fprintf(&b, "globals: %s\n", strings.Join(rep.Globals, ", "))
	rep.Structure.Text(&b, "  ")
	if v := rep.Vidcache; v != nil {
		fr := "native"
		if v.FrameRate != nil {
			fr = fmt.Sprint(*v.FrameRate)
		}
		if v.Mode == vocab.ModeImported {
			fmt.Fprintf(&b, "vidcache format %d, imported from a torchvision cache by vidcache %s (target %s)\n", v.FormatVersion, v.ToolVersion, v.Target)
		} else {
			fmt.Fprintf(&b, "vidcache format %d, written by vidcache %s with FFmpeg %s (target %s, mode %s)\n", v.FormatVersion, v.ToolVersion, v.FFmpeg, v.Target, v.Mode)
		}
		fmt.Fprintf(&b, "dataset: %s split %s, extensions %s\n", v.Root, v.Split, strings.Join(v.Extensions, ","))
		fmt.Fprintf(&b, "clips: %d frames per clip, step %d, frame rate %s\n", v.FramesPerClip, v.StepBetweenClips, fr)
		fmt.Fprintf(&b, "totals: %d videos (%d without timestamps), %d frames, %d clips\n", v.Videos, v.Failed, v.Frames, v.Clips)
		fmt.Fprintf(&b, "classes (%d): %s\n", len(v.Classes), strings.Join(quoteAll(v.Classes), ", "))
	}
	_, err = fmt.Fprint(e.stdout, b.String())
	return err
}

func summarize(f *cachefmt.File) *vidcacheSummary {
	s := &vidcacheSummary{FormatVersion: f.Format, Config: f.Config, FFmpeg: f.Config.FFmpeg, ToolVersion: f.Config.ToolVersion,
		CreatedUnix: f.Config.CreatedUnix, Videos: len(f.Videos), Classes: f.Classes}
	for _, v := range f.Videos {
		s.Frames += v.NumFrames
		if vocab.StatusUnknown.Failed(v.NumFrames) { // a file alone tells no status
			s.Failed++
		}
		s.Clips += v.ClipCount
	}
	return s
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s
		if strings.ContainsAny(s, " ,\"") {
			out[i] = fmt.Sprintf("%q", s)
		}
	}
	return out
}
