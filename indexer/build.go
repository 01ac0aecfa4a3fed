package indexer

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/decoder"
)

// Version is vidcache's version, stored in every cache.
var Version = "0.1.0-dev"

// Failure classes of videos that are never handed to the decoder.
const (
	StatusMissing    = "missing"          // stat failed: dangling symlink, vanished file
	StatusNotRegular = "not_regular_file" // FIFO, socket, device: never opened
)

// BuildOptions configure one build.
type BuildOptions struct {
	Root       string   // dataset root; made absolute
	Split      string   // default "train"
	Extensions []string // default avi, mp4
	Clips      ClipSpec
	Mode       decoder.Mode
	Jobs       int           // probing workers; default 1
	Timeout    time.Duration // per video; 0 = none
	Out        string        // cache file; default under CacheDir
	CacheDir   string        // where default-named caches go
	CreatedAt  int64         // created_unix to store; 0 = now
	Progress   Progress      // may be nil
	Log        *slog.Logger  // may be nil
	// BatchSize is how many probe results are committed per transaction.
	BatchSize int
	// NoSync skips fsync of the cache (tests only).
	NoSync bool
}

// BuildResult reports what a build did.
type BuildResult struct {
	Cache     string         `json:"cache"`
	DB        string         `json:"db"`
	Videos    int            `json:"videos"`
	Probed    int            `json:"probed"`
	Reused    int            `json:"reused"`
	Failed    int            `json:"failed"`
	Clips     int64          `json:"clips"`
	Seconds   float64        `json:"seconds"`
	Written   bool           `json:"written"` // false: the cache was already up to date
	Failures  map[string]int `json:"failures,omitempty"`
	Classes   int            `json:"classes"`
	Frames    int64          `json:"frames"`
	Warnings  []string       `json:"warnings,omitempty"`
	FailedAt  []FailedVideo  `json:"failed_videos,omitempty"`
	cacheSize int64
}

// FailedVideo names a video that gave no timestamps, and why.
type FailedVideo struct {
	Path   string `json:"path"`
	Status string `json:"status"`
	Error  string `json:"error"`
}

func (o *BuildOptions) normalize() error {
	if o.Root == "" {
		return errors.New("no dataset root given")
	}
	abs, err := filepath.Abs(o.Root)
	if err != nil {
		return fmt.Errorf("dataset root %s: %w", o.Root, err)
	}
	o.Root = abs
	if o.Split == "" {
		o.Split = "train"
	}
	if len(o.Extensions) == 0 {
		o.Extensions = []string{"avi", "mp4"}
	}
	if o.Mode == "" {
		o.Mode = decoder.ModeFast
	}
	if _, err := decoder.ParseMode(string(o.Mode)); err != nil {
		return err
	}
	if o.Jobs < 1 {
		o.Jobs = 1
	}
	if o.BatchSize < 1 {
		o.BatchSize = 256
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = nopProgress{}
	}
	return o.Clips.Validate()
}

// configKey is the JSON form of the options that determine a cache's content.
type configKey struct {
	Root             string   `json:"root"`
	Split            string   `json:"split"`
	Extensions       []string `json:"extensions"`
	FramesPerClip    int      `json:"frames_per_clip"`
	StepBetweenClips int      `json:"step_between_clips"`
	FrameRate        *float64 `json:"frame_rate"`
	Mode             string   `json:"mode"`
}

func (o *BuildOptions) configKey() configKey {
	return configKey{o.Root, o.Split, o.Extensions, o.Clips.FramesPerClip, o.Clips.StepBetweenClips, o.Clips.FrameRate, string(o.Mode)}
}

// DefaultCacheName derives a cache file name from the dataset and options:
// readable parts plus a hash of the whole configuration.
func (o *BuildOptions) DefaultCacheName() string {
	k := o.configKey()
	j, _ := json.Marshal(k)
	h := sha256.Sum256(j)
	fr := "native"
	if k.FrameRate != nil {
		fr = strconv.FormatFloat(*k.FrameRate, 'f', -1, 64)
	}
	base := sanitize(filepath.Base(k.Root))
	return fmt.Sprintf("%s-%s-f%d-s%d-r%s-%s-%s.pt", base, sanitize(k.Split), k.FramesPerClip, k.StepBetweenClips, fr, k.Mode, hex.EncodeToString(h[:5]))
}

func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, s)
	if s == "" || s == "." || s == ".." {
		return "dataset"
	}
	return s
}

// Build brings the index up to date for the dataset and writes its cache.
func Build(ctx context.Context, ix *Index, opts BuildOptions) (*BuildResult, error) {
	start := time.Now()
	if err := opts.normalize(); err != nil {
		return nil, err
	}
	if opts.Out == "" {
		if opts.CacheDir == "" {
			return nil, errors.New("neither a cache path nor a cache folder given")
		}
		opts.Out = filepath.Join(opts.CacheDir, opts.DefaultCacheName())
	}
	out, err := filepath.Abs(opts.Out)
	if err != nil {
		return nil, err
	}
	opts.Out = out
	res := &BuildResult{Cache: out, DB: ix.Path(), Failures: map[string]int{}}

	ds, err := Scan(ctx, opts.Root, opts.Split, opts.Extensions)
	if err != nil {
		return nil, err
	}
	for _, w := range ds.Warnings {
		opts.Log.Warn(w)
	}
	res.Warnings = ds.Warnings
	res.Videos, res.Classes = len(ds.Videos), len(ds.Classes)

	rows, err := ix.RowsUnder(ctx, pyJoin(ds.Dir, ""))
	if err != nil {
		return nil, err
	}
	ffmpeg := decoder.Version()
	var todo []int
	var special []*Row
	for i := range ds.Videos {
		e := &ds.Videos[i]
		if !e.Regular() {
			r := specialRow(e, opts.Mode, ffmpeg)
			if old := rows[e.Path]; old == nil || old.Status != r.Status || old.Error != r.Error || !old.fresh(e, opts.Mode, ffmpeg) {
				special = append(special, r)
			}
			rows[e.Path] = r
			continue
		}
		if r := rows[e.Path]; r != nil && r.fresh(e, opts.Mode, ffmpeg) {
			res.Reused++
			continue
		}
		todo = append(todo, i)
	}
	if err := ix.PutRows(ctx, special); err != nil {
		return nil, err
	}
	// Forget rows of files no longer in this split.
	inSplit := make(map[string]bool, len(ds.Videos))
	for i := range ds.Videos {
		inSplit[ds.Videos[i].Path] = true
	}
	var gone []string
	for p := range rows {
		if !inSplit[p] {
			gone = append(gone, p)
		}
	}
	if err := ix.DeleteRows(ctx, gone); err != nil {
		return nil, err
	}

	probed, err := probeAll(ctx, ix, ds, todo, &opts, ffmpeg)
	for _, r := range probed {
		rows[r.Path] = r
	}
	res.Probed = len(probed)
	if err != nil {
		return res, err
	}

	c, digest, err := assemble(ds, rows, &opts, ffmpeg, res)
	if err != nil {
		return res, err
	}
	cfgJSON, _ := json.Marshal(opts.configKey())
	old, err := ix.Cache(ctx, out)
	if err != nil {
		return res, err
	}
	if old != nil && old.Digest == digest {
		if fi, err := os.Stat(out); err == nil && fi.Size() == old.Size {
			res.Seconds = time.Since(start).Seconds()
			return res, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if err := cachefmt.WriteFile(out, c, cachefmt.Options{NoSync: opts.NoSync}); err != nil {
		return res, err
	}
	fi, err := os.Stat(out)
	if err != nil {
		return res, fmt.Errorf("written cache: %w", err)
	}
	res.Written = true
	err = ix.PutCache(ctx, &CacheRecord{Path: out, Root: ds.Root, Split: ds.Split, Config: string(cfgJSON), Digest: digest,
		Videos: len(ds.Videos), Clips: res.Clips, Size: fi.Size(), CreatedUnix: c.Config.CreatedUnix})
	res.Seconds = time.Since(start).Seconds()
	return res, err
}

// specialRow records a file that is not probed: what torchvision would have
// made of it is no timestamps and fps None (av.open fails or, for a FIFO,
// blocks; vidcache never opens one).
func specialRow(e *Entry, mode decoder.Mode, ffmpeg string) *Row {
	r := &Row{Path: e.Path, Size: e.Size, MtimeNs: e.MtimeNs, Inode: e.Inode, Pts: []byte{}, Mode: string(mode), FFmpeg: ffmpeg, Probed: nowUnix()}
	if e.StatErr != nil {
		r.Status, r.Error = StatusMissing, oneLine(e.StatErr.Error())
		r.Size = -1
	} else {
		r.Status, r.Error = StatusNotRegular, fmt.Sprintf("%s is not a regular file (%s)", e.Path, e.Mode.Type())
	}
	return r
}

// probeAll probes ds.Videos[todo] with opts.Jobs workers and commits results
// in batches as they arrive. On cancellation it stops promptly and commits
// what is done; it returns the rows it stored.
func probeAll(ctx context.Context, ix *Index, ds *Dataset, todo []int, opts *BuildOptions, ffmpeg string) ([]*Row, error) {
	if len(todo) == 0 {
		return nil, nil
	}
	opts.Progress.Start(len(todo))
	defer opts.Progress.Finish()

	jobs := make(chan int)
	results := make(chan *Row, opts.Jobs*4)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(jobs)
		for _, i := range todo {
			select {
			case jobs <- i:
			case <-gctx.Done():
				return nil
			}
		}
		return nil
	})
	workers, wctx := errgroup.WithContext(gctx)
	for w := 0; w < opts.Jobs; w++ {
		workers.Go(func() error {
			for i := range jobs {
				e := &ds.Videos[i]
				pr, err := decoder.Probe(wctx, e.Path, decoder.Options{Mode: opts.Mode, Timeout: opts.Timeout})
				if err != nil {
					return err // cancelled
				}
				r := probeRow(e, pr, opts.Mode, ffmpeg)
				// Re-check the file: one replaced while it was probed is stored as
				// not fresh, so the next build probes it again.
				if now := statEntry(e.Path, e.Label); now.Size != e.Size || now.MtimeNs != e.MtimeNs || now.Inode != e.Inode {
					r.MtimeNs = -1
				}
				select {
				case results <- r:
				case <-wctx.Done():
					return wctx.Err()
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		err := workers.Wait()
		close(results)
		return err
	})

	// The collector runs here, outside the group's context, so that rows
	// already probed are committed even after cancellation.
	var stored []*Row
	var batch []*Row
	var commitErr error
	flush := func() {
		if len(batch) == 0 || commitErr != nil {
			return
		}
		if err := ix.PutRows(ctx, batch); err != nil {
			commitErr = err
			return
		}
		stored = append(stored, batch...)
		batch = nil
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case r, ok := <-results:
			if !ok {
				done = true
				break
			}
			batch = append(batch, r)
			opts.Progress.Done(r.Path, r.Status != string(decoder.StatusOK))
			if len(batch) >= opts.BatchSize {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
	flush()
	err := g.Wait()
	if commitErr != nil {
		return stored, commitErr
	}
	if err == nil {
		err = ctx.Err()
	}
	return stored, err
}

func probeRow(e *Entry, pr *decoder.Result, mode decoder.Mode, ffmpeg string) *Row {
	return &Row{
		Path: e.Path, Size: e.Size, MtimeNs: e.MtimeNs, Inode: e.Inode,
		Status: string(pr.Status), Error: oneLine(pr.Err), FPS: pr.FPS,
		TBNum: pr.TBNum, TBDen: pr.TBDen, Codec: pr.Codec, Width: pr.Width, Height: pr.Height,
		Frames: len(pr.Pts), Pts: encodePts(pr.Pts), Mode: string(mode), FFmpeg: ffmpeg, Probed: nowUnix(),
	}
}

// assemble builds the cache description from the index rows, in dataset
// order, and a digest of everything in it but created_unix.
func assemble(ds *Dataset, rows map[string]*Row, opts *BuildOptions, ffmpeg string, res *BuildResult) (*cachefmt.Cache, string, error) {
	c := &cachefmt.Cache{
		Config: cachefmt.Config{
			Root: ds.Root, Split: ds.Split, Extensions: opts.Extensions,
			FramesPerClip: opts.Clips.FramesPerClip, StepBetweenClips: opts.Clips.StepBetweenClips,
			FrameRate: opts.Clips.FrameRate, Mode: string(opts.Mode), FFmpeg: ffmpeg, ToolVersion: Version,
			CreatedUnix: opts.CreatedAt,
		},
		Classes: ds.Classes,
		Videos:  make([]cachefmt.Video, len(ds.Videos)),
	}
	blobs := make([][]byte, len(ds.Videos))
	h := sha256.New()
	c.Config.CreatedUnix = 0
	cfgJSON, _ := json.Marshal(c.Config)
	h.Write(cfgJSON)
	classJSON, _ := json.Marshal(ds.Classes)
	h.Write(classJSON)
	var num [8]byte
	putInt := func(v int64) { binary.LittleEndian.PutUint64(num[:], uint64(v)); h.Write(num[:]) }
	for i := range ds.Videos {
		e := &ds.Videos[i]
		r := rows[e.Path]
		if r == nil {
			return nil, "", fmt.Errorf("internal: no index row for %s", e.Path)
		}
		if r.Status != string(decoder.StatusOK) {
			res.Failed++
			res.Failures[r.Status]++
			res.FailedAt = append(res.FailedAt, FailedVideo{Path: r.Path, Status: r.Status, Error: r.Error})
		}
		clips, err := VideoClipCount(r.Frames, r.FPS, opts.Clips)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", e.Path, err)
		}
		c.Videos[i] = cachefmt.Video{Path: e.Path, NumFrames: int64(r.Frames), FPS: r.FPS, Label: int64(e.Label), ClipCount: int64(clips)}
		blobs[i] = r.Pts
		res.Clips += int64(clips)
		res.Frames += int64(r.Frames)
		h.Write([]byte(e.Path))
		h.Write([]byte{0})
		putInt(int64(e.Label))
		putInt(int64(r.Frames))
		if r.FPS == nil {
			putInt(-1)
		} else {
			putInt(int64(math.Float64bits(*r.FPS)))
		}
		putInt(int64(clips))
		putInt(int64(len(r.Pts)))
		h.Write(r.Pts)
	}
	if opts.CreatedAt == 0 {
		c.Config.CreatedUnix = nowUnix()
	} else {
		c.Config.CreatedUnix = opts.CreatedAt
	}
	var buf []int64
	c.Pts = func(i int) ([]int64, error) {
		var err error
		buf, err = decodePts(buf[:0], blobs[i], int(c.Videos[i].NumFrames))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Videos[i].Path, err)
		}
		return buf, nil
	}
	return c, hex.EncodeToString(h.Sum(nil)), nil
}
