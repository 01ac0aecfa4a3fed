package cachefmt

import (
	"fmt"

	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"

	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// File is a decoded vidcache cache.
type File struct {
	Config     Config
	Format     int64
	Paths      []string
	Pts        [][]int64
	FPS        []*float64
	FPSInt     []bool // FPS[i] was stored as a Python int
	Classes    []string
	Labels     []int64
	ClipCounts []int64
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

func fromObject(obj any) (*File, error) {
	top, ok := obj.(*types.Dict)
	if !ok {
		return nil, fmt.Errorf("top level is %T, not a dict", obj)
	}
	topKeys := dictMap(top) // Python's dict semantics: the last of a repeated key wins
	get := func(key string) (any, error) {
		v, ok := topKeys[key]
		if !ok {
			return nil, fmt.Errorf("missing key %q", key)
		}
		return v, nil
	}
	f := &File{}
	var err error
	v, err := get("video_paths")
	if err != nil {
		return nil, err
	}
	if f.Paths, err = stringList(v, "video_paths"); err != nil {
		return nil, err
	}
	if v, err = get("video_pts"); err != nil {
		return nil, err
	}
	l, ok := v.(*types.List)
	if !ok {
		return nil, fmt.Errorf("video_pts is %T, not a list", v)
	}
	for i, x := range *l {
		t, err := int64Tensor(x)
		if err != nil {
			return nil, fmt.Errorf("video_pts[%d]: %w", i, err)
		}
		f.Pts = append(f.Pts, t)
	}
	if v, err = get("video_fps"); err != nil {
		return nil, err
	}
	if l, ok = v.(*types.List); !ok {
		return nil, fmt.Errorf("video_fps is %T, not a list", v)
	}
	for i, x := range *l {
		switch x := x.(type) {
		case nil:
			f.FPS = append(f.FPS, nil)
		case float64:
			f.FPS = append(f.FPS, &x)
		case int:
			v := float64(x)
			f.FPS = append(f.FPS, &v)
			f.FPSInt = append(f.FPSInt, true)
			continue
		default:
			return nil, fmt.Errorf("video_fps[%d] is %T", i, x)
		}
		f.FPSInt = append(f.FPSInt, false)
	}
	if len(f.Pts) != len(f.Paths) || len(f.FPS) != len(f.Paths) {
		return nil, fmt.Errorf("lengths differ: %d paths, %d pts, %d fps", len(f.Paths), len(f.Pts), len(f.FPS))
	}
	if v, err = get("classes"); err != nil {
		return nil, err
	}
	if f.Classes, err = stringList(v, "classes"); err != nil {
		return nil, err
	}
	for _, key := range []string{"labels", "clip_counts"} {
		if v, err = get(key); err != nil {
			return nil, err
		}
		t, err := int64Tensor(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		if key == "labels" {
			f.Labels = t
		} else {
			f.ClipCounts = t
		}
	}
	if v, err = get("vidcache"); err != nil {
		return nil, err
	}
	if err := f.readConfig(v); err != nil {
		return nil, fmt.Errorf("vidcache: %w", err)
	}
	return f, nil
}

func (f *File) readConfig(v any) error {
	dd, ok := v.(*types.Dict)
	if !ok {
		return fmt.Errorf("is %T, not a dict", v)
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
	c := &f.Config
	f.Format = integer("format_version")
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
		return err
	}
	ext, _ := d.Get("extensions")
	if c.Extensions, err = stringList(ext, "extensions"); err != nil {
		return err
	}
	switch fr, _ := d.Get("frame_rate"); fr := fr.(type) {
	case nil:
	case float64:
		c.FrameRate = &fr
	case int:
		x := float64(fr)
		c.FrameRate = &x
	default:
		return fmt.Errorf("frame_rate is %T", fr)
	}
	return nil
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
