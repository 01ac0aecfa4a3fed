package cachefmt

import (
	"fmt"

	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"

	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// File is a vidcache cache read back: the Cache it was written from, with
// every video's timestamps in its Video.Pts, and the file's format version.
type File struct {
	Cache
	Format int64
}

// LengthError: a file's labels or clip counts are not one per video.
type LengthError struct {
	Videos, Labels, ClipCounts int
	Format                     int64 // the file's format_version
}

func (e *LengthError) Error() string {
	return fmt.Sprintf("%d videos but %d labels and %d clip counts", e.Videos, e.Labels, e.ClipCounts)
}

// ReadFile decodes a vidcache cache with Load: plain Go values, nothing from
// the file is executed.
func ReadFile(path string) (*File, error) {
	l, err := Load(path)
	if err != nil {
		return nil, fmt.Errorf("read %w", err)
	}
	f, err := fromObject(l.Value)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return f, nil
}

// fileDict is the top-level dict of a vidcache cache.
type fileDict map[string]any

func (d fileDict) get(key string) (any, error) {
	v, ok := d[key]
	if !ok {
		return nil, fmt.Errorf("missing key %q", key)
	}
	return v, nil
}

func (d fileDict) list(key string) (*types.List, error) {
	v, err := d.get(key)
	if err != nil {
		return nil, err
	}
	l, ok := v.(*types.List)
	if !ok {
		return nil, fmt.Errorf("%s is %T, not a list", key, v)
	}
	return l, nil
}

func (d fileDict) strings(key string) ([]string, error) {
	v, err := d.get(key)
	if err != nil {
		return nil, err
	}
	return stringList(v, key)
}

func (d fileDict) tensor(key string) ([]int64, error) {
	v, err := d.get(key)
	if err != nil {
		return nil, err
	}
	t, err := int64Tensor(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return t, nil
}

func fromObject(obj any) (*File, error) {
	top, ok := obj.(*types.Dict)
	if !ok {
		return nil, fmt.Errorf("top level is %T, not a dict", obj)
	}
	d := fileDict(dictMap(top)) // Python's dict semantics: the last of a repeated key wins
	f := &File{}
	var err error
	if f.Videos, err = d.videos(); err != nil {
		return nil, err
	}
	if f.Classes, err = d.strings("classes"); err != nil {
		return nil, err
	}
	labels, err := d.tensor("labels")
	if err != nil {
		return nil, err
	}
	clipCounts, err := d.tensor("clip_counts")
	if err != nil {
		return nil, err
	}
	v, err := d.get("vidcache")
	if err != nil {
		return nil, err
	}
	if f.Config, f.Format, err = readConfig(v); err != nil {
		return nil, fmt.Errorf("vidcache: %w", err)
	}
	if len(labels) != len(f.Videos) || len(clipCounts) != len(f.Videos) {
		return nil, &LengthError{Videos: len(f.Videos), Labels: len(labels), ClipCounts: len(clipCounts), Format: f.Format}
	}
	for i := range f.Videos {
		f.Videos[i].Label, f.Videos[i].ClipCount = labels[i], clipCounts[i]
	}
	return f, nil
}

// videos reads video_paths, video_pts and video_fps, which torchvision
// reads, into one Video each.
func (d fileDict) videos() ([]Video, error) {
	paths, err := d.strings("video_paths")
	if err != nil {
		return nil, err
	}
	l, err := d.list("video_pts")
	if err != nil {
		return nil, err
	}
	pts := make([][]int64, 0, l.Len())
	for i, x := range *l {
		t, err := int64Tensor(x)
		if err != nil {
			return nil, fmt.Errorf("video_pts[%d]: %w", i, err)
		}
		pts = append(pts, t)
	}
	if l, err = d.list("video_fps"); err != nil {
		return nil, err
	}
	rates, ints, err := storedFPS(l)
	if err != nil {
		return nil, err
	}
	if len(pts) != len(paths) || len(rates) != len(paths) {
		return nil, fmt.Errorf("lengths differ: %d paths, %d pts, %d fps", len(paths), len(pts), len(rates))
	}
	videos := make([]Video, len(paths))
	for i, p := range paths {
		videos[i] = Video{Path: p, NumFrames: int64(len(pts[i])), FPS: rates[i], FPSInt: ints[i], Pts: pts[i]}
	}
	return videos, nil
}

// storedFPS reads video_fps as vidcache writes it: a float, an int (FPSInt)
// or None each.
func storedFPS(l *types.List) ([]*float64, []bool, error) {
	rates, ints := make([]*float64, l.Len()), make([]bool, l.Len())
	for i, x := range *l {
		switch x := x.(type) {
		case nil:
		case float64:
			rates[i] = &x
		case int:
			v := float64(x)
			rates[i], ints[i] = &v, true
		default:
			return nil, nil, fmt.Errorf("video_fps[%d] is %T", i, x)
		}
	}
	return rates, ints, nil
}

// readConfig reads the "vidcache" dict: the configuration and the format
// version.
func readConfig(v any) (Config, int64, error) {
	var c Config
	dd, ok := v.(*types.Dict)
	if !ok {
		return c, 0, fmt.Errorf("is %T, not a dict", v)
	}
	d := pyDict(dictMap(dd))
	var err error
	str := func(key string) string {
		x, _ := d.Get(key)
		s, ok := x.(string)
		if !ok && err == nil {
			err = fmt.Errorf("%s is %T, not a str", key, x)
		}
		return fromPython(s)
	}
	integer := func(key string) int64 {
		x, _ := d.Get(key)
		n, ok := x.(int)
		if !ok && err == nil {
			err = fmt.Errorf("%s is %T, not an int", key, x)
		}
		return int64(n)
	}
	format := integer("format_version")
	c.Root = str("root")
	c.Split = str("split")
	c.FramesPerClip = int(integer("frames_per_clip"))
	c.StepBetweenClips = int(integer("step_between_clips"))
	c.Mode = vocab.Mode(str("mode"))
	c.Target = vocab.TargetPyAV // format 1 had no target: every such cache is torchvision-pyav
	if _, ok := d.Get("target"); ok {
		c.Target = vocab.Target(str("target"))
	}
	c.FFmpeg = str("ffmpeg")
	c.ToolVersion = str("tool_version")
	c.CreatedUnix = integer("created_unix")
	if err != nil {
		return c, format, err
	}
	ext, _ := d.Get("extensions")
	if c.Extensions, err = stringList(ext, "extensions"); err != nil {
		return c, format, err
	}
	switch fr, _ := d.Get("frame_rate"); fr := fr.(type) {
	case nil:
	case float64:
		c.FrameRate = &fr
	case int:
		x := float64(fr)
		c.FrameRate = &x
	default:
		return c, format, fmt.Errorf("frame_rate is %T", fr)
	}
	return c, format, nil
}

// pyDict looks keys up in a dict's string-keyed items.
type pyDict map[string]any

func (d pyDict) Get(key string) (any, bool) { v, ok := d[key]; return v, ok }

// stringList reads a list of str (each converted back from Python's
// surrogate escapes to the bytes it stands for).
func stringList(v any, what string) ([]string, error) {
	if v == nil {
		return nil, fmt.Errorf("no %s: not a torchvision dataset, VideoClips or metadata dict", what)
	}
	l, ok := v.(*types.List)
	if !ok {
		return nil, fmt.Errorf("%s is %s, not a list", what, kind(v))
	}
	out := make([]string, 0, l.Len())
	for i, x := range *l {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("%s[%d] is %s, not a str", what, i, kind(x))
		}
		out = append(out, fromPython(s))
	}
	return out, nil
}

// int64Tensor returns the elements of a 1-D int64 tensor (a vidcache
// cache holds no other kind).
func int64Tensor(v any) ([]int64, error) { return readInt64Tensor(v, false) }

// int64TensorOf is int64Tensor for torchvision's own caches, which may also
// hold int32 tensors, and float ones where an empty list became a float
// tensor in old torchvision (their values must then be whole numbers).
func int64TensorOf(v any) ([]int64, error) { return readInt64Tensor(v, true) }

func readInt64Tensor(v any, lenient bool) ([]int64, error) {
	t, ok := v.(*pytorch.Tensor)
	if !ok {
		return nil, fmt.Errorf("%s is not a tensor", kind(v))
	}
	if len(t.Size) != 1 || len(t.Stride) != 1 {
		return nil, fmt.Errorf("tensor has %d dimensions, expected 1", len(t.Size))
	}
	var get func(i int) (int64, bool)
	var storageLen int
	switch s := t.Source.(type) {
	case *pytorch.LongStorage:
		get, storageLen = func(i int) (int64, bool) { return s.Data[i], true }, len(s.Data)
	case *pytorch.IntStorage:
		if lenient {
			get, storageLen = func(i int) (int64, bool) { return int64(s.Data[i]), true }, len(s.Data)
		}
	case *pytorch.FloatStorage:
		if lenient {
			get = func(i int) (int64, bool) { return int64(s.Data[i]), float32(int64(s.Data[i])) == s.Data[i] }
			storageLen = len(s.Data)
		}
	}
	if get == nil {
		if lenient && t.Size[0] == 0 {
			return []int64{}, nil
		}
		return nil, fmt.Errorf("tensor storage is %T, not int64", t.Source)
	}
	n := t.Size[0]
	if err := CheckView(n, t.StorageOffset, t.Stride[0], storageLen); err != nil {
		return nil, err
	}
	out := make([]int64, n)
	for i := range out {
		v, ok := get(t.StorageOffset + i*t.Stride[0])
		if !ok {
			return nil, fmt.Errorf("element %d is not an integer", i)
		}
		out[i] = v
	}
	return out, nil
}

// CheckView checks that a 1-D tensor view (size n, storage offset off,
// stride) lies inside a storage of storageLen elements, without overflow:
// the three numbers come from the pickle and may be anything.
func CheckView(n, off, stride, storageLen int) error {
	switch {
	case n == 0 && off >= 0:
		return nil
	case n < 0 || off < 0 || stride < 1 || off >= storageLen || (n-1) > (storageLen-1-off)/stride:
		return fmt.Errorf("view (offset %d, size %d, stride %d) outside storage of %d", off, n, stride, storageLen)
	}
	return nil
}
