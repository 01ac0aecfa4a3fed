package cachefmt

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"syscall"

	"github.com/vidcache/vidcache/cachefmt/pickle"
	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// FormatVersion is the value of vidcache.format_version in files this
// package writes. Version 2 added the target (and, for the torchvision
// target, frame-index pts and int frame rates); version 1 files are all
// torchvision-pyav caches and are still read.
const FormatVersion = 2

// MinFormatVersion is the oldest format_version this package reads.
const MinFormatVersion = 1

// archiveDir is the folder every entry of the zip lives under.
const archiveDir = "vidcache"

// Video is one entry of a cache, in dataset order: what the writer writes
// of it and what the reader reads back.
type Video struct {
	Path      string
	NumFrames int64
	FPS       *float64 // nil: torchvision's None (not openable, or no video stream)
	// FPSInt stores FPS as a Python int (it must be a whole number; see
	// JSONInt): torchcodec's average_fps reaches Python through JSON.
	FPSInt    bool
	Label     int64
	ClipCount int64
	// Pts are the video's sorted timestamps, NumFrames of them, when they
	// are held in memory: a file read back, an import. A build leaves them
	// nil and hands them to the writer one video at a time (Cache.Pts).
	Pts []int64
}

// JSONInt reports whether fmt::to_string, which torchcodec uses to hand
// average_fps to Python as JSON, writes f without a fraction or exponent, so
// that json.loads makes it a Python int: whole numbers below 1e16.
func JSONInt(f float64) bool {
	return f == math.Trunc(f) && math.Abs(f) < 1e16
}

// Cache is everything a cache file holds: what the writer takes and, in a
// File, what the reader returns.
type Cache struct {
	Config  Config
	Classes []string
	Videos  []Video
	// Pts, when set, returns the timestamps of Videos[i] in place of
	// Videos[i].Pts, so that the writer need not hold every video's at
	// once: it is called once per video, in order, and the result must
	// have Videos[i].NumFrames entries. Neither is read when the cache
	// stores frame indices (FrameIndices).
	Pts func(i int) ([]int64, error)
}

// FrameIndices reports whether the cache is for the torchvision target,
// whose pts are every video's frame indices 0..NumFrames-1 (torchvision
// 0.26+). The file then holds one storage arange(max NumFrames) that every
// video_pts tensor views from offset 0, and no timestamps are asked for.
func (c *Cache) FrameIndices() bool { return c.Config.Target == vocab.TargetTorchvision }

// timestamps returns the timestamps of Videos[i]: from Pts when set, else
// the video's own.
func (c *Cache) timestamps(i int) ([]int64, error) {
	if c.Pts != nil {
		return c.Pts(i)
	}
	return c.Videos[i].Pts, nil
}

// Options tune how a cache is written.
type Options struct {
	// NoSync skips the fsync of the file and its folder (WriteFile syncs by default).
	NoSync bool
	// ForceZip64 writes zip64 records even when not needed (for tests).
	ForceZip64 bool
}

// WriteFile writes c to path atomically: into a locked temporary file in the
// same folder, fsynced, renamed over path, then the folder fsynced; then the
// stale temporaries of killed writes of path are removed (see temp.go). The
// file's mode honours the umask. On any error the temporary file is removed
// and path is untouched.
func WriteFile(path string, c *Cache, opts Options) error {
	release, err := WriteFileLocked(path, c, opts)
	if err != nil {
		return err
	}
	if err := release(); err != nil {
		return fmt.Errorf("close cache %s: %w", path, err)
	}
	return nil
}

// WriteFileLocked is WriteFile that keeps the written file locked (see
// temp.go) until release is called, so that a caller can register it
// before gc may judge it: gc never deletes a locked file.
func WriteFileLocked(path string, c *Cache, opts Options) (release func() error, err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create cache folder: %w", err)
	}
	f, err := os.CreateTemp(dir, tempPrefix(filepath.Base(path))+"*")
	if err != nil {
		return nil, fmt.Errorf("create temporary cache file: %w", err)
	}
	tmp := f.Name()
	// The lock marks the temporary as live for gc and for other writers'
	// clean-up; it goes with the descriptor. Blocking: a cleaner probing the
	// lock holds it for an instant.
	if err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("lock temporary cache file %s: %w", tmp, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = Encode(f, c, opts); err != nil {
		return nil, fmt.Errorf("write cache %s: %w", path, err)
	}
	if !opts.NoSync {
		if err = f.Sync(); err != nil {
			return nil, fmt.Errorf("sync cache %s: %w", tmp, err)
		}
	}
	if err = f.Chmod(fileMode()); err != nil {
		return nil, fmt.Errorf("chmod cache %s: %w", tmp, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("install cache %s: %w", path, err)
	}
	removeStaleTemps(path)
	if !opts.NoSync {
		if d, derr := os.Open(dir); derr == nil {
			derr = d.Sync()
			d.Close()
			if derr != nil {
				return nil, fmt.Errorf("sync cache folder %s: %w", dir, derr)
			}
		}
	}
	return f.Close, nil
}

// Encode writes c as a torch zip file to f, which must be empty and positioned
// at its start. It streams the timestamps; memory use is the pickle (paths and
// per-video tensor headers) plus one video's timestamps.
func Encode(f *os.File, c *Cache, opts Options) error {
	if err := c.validate(); err != nil {
		return err
	}
	var total int64
	for _, v := range c.Videos {
		if c.FrameIndices() {
			total = max(total, v.NumFrames)
		} else {
			total += v.NumFrames
		}
	}
	n := int64(len(c.Videos))
	ptsStore := storageRef{key: "0", numel: total}
	labelStore := storageRef{key: "1", numel: n}
	clipStore := storageRef{key: "2", numel: n}

	// The pickle is written twice: once to learn its size (the zip's local
	// header comes first), then into the file, so a large dataset's pickle
	// is never held in memory whole.
	size, err := c.pickle(io.Discard, ptsStore, labelStore, clipStore)
	if err != nil {
		return err
	}
	z := newZipWriter(f)
	z.forceZip64 = opts.ForceZip64
	err = z.addStream(archiveDir+"/data.pkl", size, func(w io.Writer) error {
		_, err := c.pickle(w, ptsStore, labelStore, clipStore)
		return err
	})
	if err != nil {
		return err
	}
	if err := z.add(archiveDir+"/byteorder", []byte("little")); err != nil {
		return err
	}
	err = z.addStream(archiveDir+"/data/0", total*8, func(w io.Writer) error {
		if c.FrameIndices() {
			return writeInt64s(w, total, func(k int64) int64 { return k }) // arange(total)
		}
		return c.writeTimestamps(w)
	})
	if err != nil {
		return err
	}
	// Labels and clip counts: one int64 per video each, streamed.
	for _, rec := range []struct {
		key   string
		field func(v *Video) int64
	}{{labelStore.key, func(v *Video) int64 { return v.Label }}, {clipStore.key, func(v *Video) int64 { return v.ClipCount }}} {
		err := z.addStream(archiveDir+"/data/"+rec.key, 8*n, func(w io.Writer) error {
			return writeInt64s(w, n, func(i int64) int64 { return rec.field(&c.Videos[i]) })
		})
		if err != nil {
			return err
		}
	}
	if err := z.add(archiveDir+"/version", []byte("3\n")); err != nil {
		return err
	}
	return z.close()
}

// writeTimestamps writes every video's timestamps, one video at a time.
func (c *Cache) writeTimestamps(w io.Writer) error {
	var buf []byte
	for i, v := range c.Videos {
		pts, err := c.timestamps(i)
		if err != nil {
			return fmt.Errorf("timestamps of %s: %w", v.Path, err)
		}
		if int64(len(pts)) != v.NumFrames {
			return fmt.Errorf("timestamps of %s: got %d, expected %d", v.Path, len(pts), v.NumFrames)
		}
		buf = buf[:0]
		for _, t := range pts {
			buf = binary.LittleEndian.AppendUint64(buf, uint64(t))
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// writeInt64s writes value(0), ..., value(n-1) as little-endian int64s, in
// 8 KiB writes.
func writeInt64s(w io.Writer, n int64, value func(k int64) int64) error {
	buf := make([]byte, 0, 8<<10)
	for k := int64(0); k < n; k++ {
		buf = binary.LittleEndian.AppendUint64(buf, uint64(value(k)))
		if len(buf) == cap(buf) || k == n-1 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	return nil
}

func (c *Cache) validate() error {
	for _, v := range c.Videos {
		if v.Label < 0 || v.Label >= int64(len(c.Classes)) {
			return fmt.Errorf("cachefmt: %s: label %d out of range for %d classes", v.Path, v.Label, len(c.Classes))
		}
		if v.NumFrames < 0 || v.ClipCount < 0 {
			return fmt.Errorf("cachefmt: %s: negative frame or clip count", v.Path)
		}
		if v.FPSInt && (v.FPS == nil || !JSONInt(*v.FPS)) {
			return fmt.Errorf("cachefmt: %s: frame rate %v stored as an int is not a whole number", v.Path, v.FPS)
		}
	}
	return nil
}

// pickle writes data.pkl to w (the top-level dict, keys in the documented
// order) and returns its size.
func (c *Cache) pickle(w io.Writer, pts, labels, clips storageRef) (int64, error) {
	p := newPickler()
	p.w = w
	p.op(pickle.OpEmptyDict)
	p.op(pickle.OpMark)

	p.str("video_paths")
	p.list(len(c.Videos), func(i int) error { p.str(c.Videos[i].Path); return nil })

	p.str("video_pts")
	var off int64
	p.list(len(c.Videos), func(i int) error {
		n := c.Videos[i].NumFrames
		if n == 0 || c.FrameIndices() {
			p.tensor(pts, 0, n)
		} else {
			p.tensor(pts, off, n)
		}
		off += n
		return nil
	})

	p.str("video_fps")
	p.list(len(c.Videos), func(i int) error {
		if fps := c.Videos[i].FPS; fps != nil && c.Videos[i].FPSInt {
			p.int(int64(*fps))
		} else if fps != nil {
			p.float(*fps)
		} else {
			p.op(pickle.OpNone)
		}
		return nil
	})

	p.str("classes")
	if err := p.value(c.Classes); err != nil {
		return 0, err
	}
	p.str("labels")
	p.tensor(labels, 0, labels.numel)
	p.str("clip_counts")
	p.tensor(clips, 0, clips.numel)

	p.str("vidcache")
	if err := p.value(c.Config.dict()); err != nil {
		return 0, err
	}
	p.op(pickle.OpSetItems)
	p.op(pickle.OpStop)
	p.flush(true)
	return p.n, p.err
}

func (cfg *Config) dict() *Dict {
	d := &Dict{}
	d.Set("format_version", FormatVersion)
	d.Set("root", cfg.WrittenRoot())
	d.Set("split", cfg.Split)
	ext := cfg.Extensions
	if ext == nil {
		ext = []string{}
	}
	d.Set("extensions", ext)
	d.Set("frames_per_clip", cfg.FramesPerClip)
	d.Set("step_between_clips", cfg.StepBetweenClips)
	if cfg.FrameRate != nil {
		d.Set("frame_rate", *cfg.FrameRate)
	} else {
		d.Set("frame_rate", nil)
	}
	target := cfg.Target
	if target == "" {
		target = vocab.TargetPyAV
	}
	d.Set("target", string(target))
	d.Set("mode", cfg.Mode.String())
	d.Set("ffmpeg", cfg.FFmpeg)
	d.Set("tool_version", cfg.ToolVersion)
	d.Set("created_unix", cfg.CreatedUnix)
	return d
}
