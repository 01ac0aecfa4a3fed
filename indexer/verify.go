package indexer

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vidcache/vidcache/cachefmt/clips"
	"github.com/vidcache/vidcache/cachefmt/torchfile"
	"github.com/vidcache/vidcache/cachefmt/vocab"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/cachefmt/pickle"
)

// VerifyClass names what kind of problem a check found; the CLI maps each to
// its own exit code.
type VerifyClass string

const (
	VerifyUnreadable   VerifyClass = "unreadable"   // cannot be opened or is not a zip
	VerifyCorrupt      VerifyClass = "corrupt"      // zip structure or CRC-32 wrong
	VerifyUnsafe       VerifyClass = "unsafe"       // torch 2.x weights_only would refuse it
	VerifyFormat       VerifyClass = "format"       // not a vidcache cache, or an unknown version
	VerifyInconsistent VerifyClass = "inconsistent" // contents disagree with each other
	VerifyStale        VerifyClass = "stale"        // the dataset on disk has changed
)

// VerifyProblem is one failed check.
type VerifyProblem struct {
	Class  VerifyClass `json:"class"`
	Detail string      `json:"detail"`
}

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	File     string          `json:"file"`
	OK       bool            `json:"ok"`
	Checked  []string        `json:"checked"`
	Problems []VerifyProblem `json:"problems,omitempty"`
	Videos   int             `json:"videos"`
	// Notes are facts worth knowing that are no problem: e.g. that the
	// index rows of some videos came from an imported file, not a probe.
	Notes []string `json:"notes,omitempty"`
}

// Worst returns the class of the first problem in severity order.
func (r *VerifyReport) Worst() VerifyClass {
	for _, c := range []VerifyClass{VerifyUnreadable, VerifyCorrupt, VerifyUnsafe, VerifyFormat, VerifyInconsistent, VerifyStale} {
		for _, p := range r.Problems {
			if p.Class == c {
				return c
			}
		}
	}
	return ""
}

const maxProblems = 20

func (r *VerifyReport) add(c VerifyClass, format string, a ...any) {
	n := 0
	for _, p := range r.Problems {
		if p.Class == c {
			n++
		}
	}
	if n == maxProblems {
		r.Problems = append(r.Problems, VerifyProblem{c, "… more problems of this kind not listed"})
	}
	if n < maxProblems {
		r.Problems = append(r.Problems, VerifyProblem{c, fmt.Sprintf(format, a...)})
	}
}

// VerifyOptions: with Root set, the dataset is checked too, against ix.
type VerifyOptions struct {
	Root string
	// Index is consulted with Root: files must match what it recorded.
	Index *Index
}

// Verify checks a cache file: zip integrity, audit verdict, format version,
// internal consistency (lengths, labels, sorted pts, clip counts for the
// stored configuration) and, with opts.Root, that the dataset still holds
// the same files, unchanged since the index recorded them, in the same order.
func Verify(ctx context.Context, path string, opts VerifyOptions) (*VerifyReport, error) {
	r := &VerifyReport{File: path}
	defer func() { r.OK = len(r.Problems) == 0 }()
	if !checkZip(r, path) || !checkAudit(r, path) {
		return r, nil
	}

	r.Checked = append(r.Checked, "format")
	f, err := cachefmt.ReadFile(path)
	var lerr *cachefmt.LengthError
	switch {
	case errors.As(err, &lerr):
		// Read, but without one label and clip count per video.
		if checkFormat(r, lerr.Format) {
			r.Videos = lerr.Videos
			r.Checked = append(r.Checked, "consistency")
			r.add(VerifyInconsistent, "%v", lerr)
		}
		return r, nil
	case err != nil:
		r.add(VerifyFormat, "not a vidcache cache: %v", err)
		return r, nil
	case !checkFormat(r, f.Format):
		return r, nil
	}
	r.Videos = len(f.Videos)

	r.Checked = append(r.Checked, "consistency")
	checkConsistency(r, f)

	// Every byte: the file must be exactly what vidcache writes for what it
	// holds (a flipped bit in a zip field the Go reader ignores but torch's
	// miniz reads, in padding, in an attribute, shows only here).
	if len(r.Problems) == 0 {
		checked, err := cachefmt.CheckCanonical(path, f)
		switch {
		case err != nil && errors.Is(err, cachefmt.ErrNotCanonical):
			r.add(VerifyCorrupt, "%v", err)
		case err != nil:
			return r, fmt.Errorf("verify %s: %w", path, err)
		case checked:
			r.Checked = append(r.Checked, "bytes")
		}
	}

	if opts.Root != "" {
		r.Checked = append(r.Checked, "dataset")
		if err := checkDataset(ctx, r, f, opts); err != nil {
			return r, err
		}
	}
	return r, nil
}

// checkZip reads the container as torch.load does (package torchfile:
// miniz's reading, which another reader may not share) and checks every
// record's size and CRC-32, as miniz checks them when torch reads a record.
// False when the file is no torch zip or a record is damaged.
func checkZip(r *VerifyReport, path string) bool {
	r.Checked = append(r.Checked, "zip")
	f, err := os.Open(path)
	if err != nil {
		r.add(VerifyUnreadable, "%v", err)
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		r.add(VerifyUnreadable, "%v", err)
		return false
	}
	tf, err := torchfile.Open(f, fi.Size())
	switch {
	case err != nil:
		r.add(VerifyUnreadable, "%v", err)
		return false
	case tf.Kind != torchfile.KindZip:
		r.add(VerifyUnreadable, "not a zip file (torch.load would read it as a %s file)", tf.Kind)
		return false
	case tf.Zip == nil:
		// A zip that is no longer whole (truncated, overwritten at the end).
		r.add(VerifyCorrupt, "not a whole zip file (truncated?): %s", strings.Join(tf.Refusals, "; "))
		return false
	}
	for i := range tf.Zip.Records {
		rec := &tf.Zip.Records[i]
		h := crc32.NewIEEE()
		n, err := io.Copy(h, tf.Zip.Reader(f, rec))
		switch {
		case err != nil:
			r.add(VerifyCorrupt, "entry %s: %v", rec.Name, err)
		case n != rec.USize:
			r.add(VerifyCorrupt, "entry %s: %d bytes, the zip says %d", rec.Name, n, rec.USize)
		case h.Sum32() != rec.CRC32:
			r.add(VerifyCorrupt, "entry %s: CRC-32 %08x, the zip says %08x", rec.Name, h.Sum32(), rec.CRC32)
		}
	}
	return len(r.Problems) == 0
}

// checkAudit checks that torch 2.x's weights_only loader accepts the file;
// false when its pickles cannot even be scanned.
func checkAudit(r *VerifyReport, path string) bool {
	r.Checked = append(r.Checked, "audit")
	a, err := pickle.Audit(path)
	if err != nil {
		r.add(VerifyCorrupt, "%v", err)
		return false
	}
	if !a.SafeFor(pickle.Torch2) {
		for _, v := range a.Verdicts {
			if v.Torch == pickle.Torch2 {
				r.add(VerifyUnsafe, "torch 2.x weights_only would refuse it: %s", v.Why())
			}
		}
	}
	return true
}

// checkFormat: this vidcache reads the format version; a problem if not.
func checkFormat(r *VerifyReport, format int64) bool {
	if format < cachefmt.MinFormatVersion || format > cachefmt.FormatVersion {
		r.add(VerifyFormat, "format_version %d, this vidcache reads %d to %d", format, cachefmt.MinFormatVersion, cachefmt.FormatVersion)
		return false
	}
	return true
}

func checkConsistency(r *VerifyReport, f *cachefmt.File) {
	if !sort.StringsAreSorted(f.Classes) {
		r.add(VerifyInconsistent, "classes are not sorted")
	}
	for i := 1; i < len(f.Classes); i++ {
		if f.Classes[i] == f.Classes[i-1] {
			r.add(VerifyInconsistent, "class %q listed twice", f.Classes[i])
		}
	}
	spec := f.Config.Spec
	specErr := spec.Validate()
	if specErr != nil {
		r.add(VerifyInconsistent, "stored clip configuration: %v", specErr)
	}
	for _, v := range f.Videos {
		p, pts := v.Path, v.Pts
		if l := v.Label; l < 0 || l >= int64(len(f.Classes)) {
			r.add(VerifyInconsistent, "%s: label %d out of range for %d classes", p, l, len(f.Classes))
		}
		if f.Config.Target == vocab.TargetTorchvision {
			for k, v := range pts {
				if v != int64(k) {
					r.add(VerifyInconsistent, "%s: pts[%d] is %d; torchvision 0.26+ caches hold frame indices", p, k, v)
					break
				}
			}
		}
		for k := 1; k < len(pts); k++ {
			if pts[k] < pts[k-1] {
				r.add(VerifyInconsistent, "%s: timestamps not sorted at frame %d", p, k)
				break
			}
		}
		if specErr == nil {
			want, err := clips.ForVideo(len(pts), v.FPS, spec)
			if err != nil || int64(want) != v.ClipCount {
				r.add(VerifyInconsistent, "%s: %d clips stored, %d for %d frames under the stored configuration", p, v.ClipCount, want, len(pts))
			}
		}
	}
}

// checkDataset rescans opts.Root with the cache's split and extensions and
// compares: the same files in the same order (after replacing the stored
// root by opts.Root), each unchanged since the index recorded it.
func checkDataset(ctx context.Context, r *VerifyReport, f *cachefmt.File, opts VerifyOptions) error {
	ds, err := Scan(ctx, opts.Root, f.Config.Split, f.Config.Extensions)
	if err != nil {
		r.add(VerifyStale, "scan %s: %v", opts.Root, err)
		return nil
	}
	rel := func(p, root string) string { return strings.TrimPrefix(p, pyJoin(root, "")) }
	if !slices.Equal(ds.Classes, f.Classes) {
		r.add(VerifyStale, "classes on disk %q differ from the cache's %q", ds.Classes, f.Classes)
	}
	if len(ds.Videos) != len(f.Videos) {
		r.add(VerifyStale, "%d videos on disk, %d in the cache", len(ds.Videos), len(f.Videos))
	}
	for i := 0; i < len(ds.Videos) && i < len(f.Videos); i++ {
		if a, b := rel(ds.Videos[i].Path, ds.Root), rel(f.Videos[i].Path, f.Config.Root); a != b {
			r.add(VerifyStale, "video %d is %s on disk, %s in the cache (order or content changed)", i, a, b)
			break
		}
	}
	if opts.Index == nil {
		return nil
	}
	rows, err := opts.Index.RowsUnder(ctx, pyJoin(ds.Dir, ""), rowsMode(f.Config))
	if err != nil {
		return err
	}
	imported := 0
	for i := range ds.Videos {
		e := &ds.Videos[i]
		row := rows[e.Path]
		if row != nil && row.Origin == vocab.OriginImported {
			imported++
		}
		switch {
		case row == nil:
			r.add(VerifyStale, "%s: not in the index", e.Path)
		case e.StatErr != nil:
			if row.Status != vocab.StatusMissing {
				r.add(VerifyStale, "%s: %v", e.Path, e.StatErr)
			}
		case row.Size != e.Size || row.MtimeNs != e.MtimeNs || row.Inode != e.Inode:
			r.add(VerifyStale, "%s: changed since indexed (size %d→%d, mtime %s→%s)", e.Path, row.Size, e.Size, humanTime(row.MtimeNs), humanTime(e.MtimeNs))
		}
	}
	if imported > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d of %d videos rest on imported timestamps (read from a torchvision cache file, not probed by vidcache; a build of the same target and mode probes them, unless --trust-imported)", imported, len(ds.Videos)))
	}
	return nil
}

// humanTime shows a file mtime (ns since 1970) as local time to the ms.
func humanTime(ns int64) string {
	if ns <= 0 {
		return "unknown"
	}
	return time.Unix(0, ns).Format("2006-01-02 15:04:05.000 MST")
}
