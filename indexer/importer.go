package indexer

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/vidcache/vidcache/cachefmt/vocab"

	"github.com/vidcache/vidcache/cachefmt"
)

// ErrRefused marks files Import will not convert: their metadata cannot be
// reached as plain data.
var ErrRefused = errors.New("refused")

// ImportOptions configure Import.
type ImportOptions struct {
	// Target is the torchvision that wrote the file; "" detects it: frame
	// indices (every video's pts 0..n-1) with at least one int frame rate
	// are torchvision 0.26+ (torchcodec), anything else torchvision-pyav.
	Target vocab.Target
	Out    string
	// DatasetRoot is where the dataset is on this machine when it is not
	// where the file recorded it: recorded paths are rewritten from the
	// recorded root to it, in the cache and in the index.
	DatasetRoot string
	RootAs      string
	CreatedAt   int64
	NoSync      bool
	Index       *Index // optional: record the videos that exist
	// Force converts a file whose pickle names globals outside the
	// allowlist (see cachefmt.Loaded.Disallowed), from its data alone.
	Force bool
}

// A file refused for the value of an option is a cachefmt.OptionError
// naming it as target, dataset_root, root_as or force.

// ImportResult reports an import.
type ImportResult struct {
	Cache      string `json:"cache"`
	Source     string `json:"source"` // what was found
	Videos     int    `json:"videos"`
	Frames     int64  `json:"frames"`
	Clips      int64  `json:"clips"`
	Classes    int    `json:"classes"`
	LabelsFrom string `json:"labels_from"` // "samples" or "folders"
	// The imported cache's configuration: the dataset root and split the
	// file recorded, its clip options, the target (given or detected).
	cachefmt.Config
	Indexed int `json:"indexed"`
	// UnsafeGlobals are the disallowed globals a forced import ignored.
	UnsafeGlobals []string `json:"unsafe_globals"`
}

// Import converts a torchvision cache (the reference train.py's
// (dataset, traindir) tuple, a VideoClips, a Kinetics dataset, or a metadata
// dict; zip or legacy) into a vidcache cache, reading it as inert data:
// nothing in the file is imported or executed.
func Import(ctx context.Context, file string, opts ImportOptions) (*ImportResult, error) {
	im, unsafe, err := readTorchvision(file, opts)
	if err != nil {
		return nil, err
	}
	d, err := importDraft(file, im, opts)
	if err != nil {
		return nil, err
	}
	res := &ImportResult{Source: im.Source, Videos: len(im.Videos), Classes: len(im.Classes), LabelsFrom: im.LabelsFrom, UnsafeGlobals: unsafe,
		Frames: d.frames, Clips: d.clips, Config: d.c.Config}
	if opts.Out == "" {
		opts.Out = strings.TrimSuffix(file, filepath.Ext(file)) + ".vidcache.pt"
	}
	if res.Cache, err = filepath.Abs(opts.Out); err != nil {
		return nil, err
	}
	if err := cachefmt.WriteFile(res.Cache, d.c, cachefmt.Options{NoSync: opts.NoSync}); err != nil {
		return nil, err
	}
	if opts.Index == nil {
		return res, nil
	}
	if res.Indexed, err = recordImported(ctx, opts.Index, im, d.c.Config.Target); err != nil {
		return res, err
	}
	// Registered, so list shows it, gc keeps it and verify --root finds its
	// rows; refresh leaves it alone (a build writes a vidcache one).
	d.digestHeldPts()
	return res, d.register(ctx, opts.Index, res.Cache, d.digest())
}

// readTorchvision loads file as inert data and finds torchvision's metadata
// in it, moved to opts.DatasetRoot if set. unsafe lists the disallowed
// globals that a forced import ignores; without Force they refuse the file.
func readTorchvision(file string, opts ImportOptions) (im *cachefmt.TorchvisionCache, unsafe []string, err error) {
	l, err := cachefmt.Load(file)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	if im, err = cachefmt.ReadTorchvision(l.Value); err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrRefused, file, err)
	}
	if opts.DatasetRoot != "" {
		if err := im.Relocate(opts.DatasetRoot); err != nil {
			return nil, nil, refusedBy("dataset_root", file, ": %v", err)
		}
	}
	unsafe = l.Disallowed()
	if len(unsafe) > 0 && !opts.Force {
		return nil, nil, refusedBy("force", file, " names globals that torch's weights_only loader would not accept and that are no torchvision class vidcache reads: %s (nothing was executed; forcing the import converts it anyway, from its data alone)",
			strings.Join(unsafe, ", "))
	}
	if unsafe == nil {
		unsafe = []string{}
	}
	return im, unsafe, nil
}

// refusedBy refuses file for the value of an option (ErrRefused in a
// cachefmt.OptionError, which the CLI shows as the option's flag): the
// message is "refused: FILE" and format.
func refusedBy(option, file, format string, a ...any) error {
	return &cachefmt.OptionError{Option: option, Err: fmt.Errorf("%w: %s"+format, append([]any{ErrRefused, file}, a...)...)}
}

// importDraft makes the vidcache cache of what the file holds, for the
// target given or detected.
func importDraft(file string, im *cachefmt.TorchvisionCache, opts ImportOptions) (*draft, error) {
	target := opts.Target
	if target == "" {
		target = im.DetectTarget()
	}
	if _, err := vocab.ParseTarget(string(target)); err != nil {
		return nil, &cachefmt.OptionError{Option: "target", Err: err}
	}
	if err := im.Config.Spec.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %s: clip configuration: %v", ErrRefused, file, err)
	}
	if opts.RootAs != "" && !strings.HasPrefix(im.Config.Root, "/") {
		return nil, refusedBy("root_as", file, ": the file records no dataset root to replace")
	}
	if target == vocab.TargetTorchvision && !im.PtsAreFrameIndices() {
		return nil, refusedBy("target", file, ": the torchvision target needs frame indices (0, 1, 2, ...) as video_pts; these are timestamps from torchvision 0.25 or earlier")
	}
	cfg := cachefmt.Config{Root: im.Config.Root, Split: im.Config.Split, Extensions: im.Config.Extensions, Spec: im.Config.Spec, RootAs: opts.RootAs,
		Target: target, Mode: vocab.ModeImported, CreatedUnix: opts.CreatedAt}
	d := newDraft(cfg, "", im.Classes, len(im.Videos))
	for _, v := range im.Videos {
		if _, err := d.add(v, importedStatus(&v)); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrRefused, file, err)
		}
	}
	return d, nil
}

// recordImported stores the videos that exist at their recorded paths as
// rows of the exact mode (torchvision's own timestamps are what exact mode
// reproduces) — for the torchvision target, of the scan (frame counts and
// fps) — of origin imported: their facts come from a file, not from a
// probe, so a build does not take them for probe results (it probes those
// videos again) unless told to trust them (BuildOptions.TrustImported).
func recordImported(ctx context.Context, ix *Index, im *cachefmt.TorchvisionCache, target vocab.Target) (int, error) {
	mode := rowsMode(cachefmt.Config{Mode: vocab.ModeImported, Target: target})
	var rows []*Row
	for _, v := range im.Videos {
		e := statEntry(v.Path, 0)
		if !e.Regular() {
			continue
		}
		r := &Row{Path: v.Path, Size: e.Size, MtimeNs: e.MtimeNs, Inode: e.Inode, Status: importedStatus(&v), FPS: v.FPS,
			Frames: int(v.NumFrames), Pts: encodePts(v.Pts), Mode: mode, Origin: vocab.OriginImported, Probed: nowUnix()}
		if mode == vocab.ModeScan {
			r.Pts = []byte{}
		}
		if r.Status == vocab.StatusImportedEmpty {
			r.Error = "the imported cache holds no timestamps for this video"
		}
		rows = append(rows, r)
	}
	return len(rows), ix.PutRows(ctx, rows)
}

// importedStatus is what an imported video's index row records: ok, or
// StatusImportedEmpty when the file holds no timestamps for it (torchvision
// could not read it there, or it is empty: the file does not tell which).
func importedStatus(v *cachefmt.Video) vocab.Status {
	if v.NumFrames == 0 {
		return vocab.StatusImportedEmpty
	}
	return vocab.StatusOK
}
