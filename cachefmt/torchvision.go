package cachefmt

// Reading torchvision's own caches as inert data, for vidcache import.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/nlpodyssey/gopickle/types"

	"github.com/vidcache/vidcache/indexer/clips"
)

// TorchvisionCache is what a torchvision cache holds, read by ReadTorchvision.
type TorchvisionCache struct {
	Source     string // what was found
	Paths      []string
	Pts        [][]int64
	FPS        []*float64
	FPSInt     []bool // video_fps[i] was a Python int
	Classes    []string
	Labels     []int64
	Spec       clips.Spec // num_frames, step, frame_rate (defaults 16, 1, native)
	HasConfig  bool       // the file recorded the clip configuration
	Root       string
	Split      string
	LabelsFrom string // "samples" or "folders"
}

// FrameIndices: every video's pts are 0, 1, ..., n-1.
func (im *TorchvisionCache) FrameIndices() bool {
	for _, pts := range im.Pts {
		for k, v := range pts {
			if v != int64(k) {
				return false
			}
		}
	}
	return true
}

// DetectTarget: frame indices with an int frame rate somewhere can only come
// from torchvision 0.26+ (PyAV-era frame rates are always floats).
func (im *TorchvisionCache) DetectTarget() Target {
	if im.FrameIndices() && slices.Contains(im.FPSInt, true) {
		return TargetTorchvision
	}
	return TargetPyAV
}

// ReadTorchvision finds torchvision's metadata in a value Load returned:
// the reference train.py's (dataset, traindir) tuple, a pickled dataset or
// VideoClips, or a metadata dict.
func ReadTorchvision(v any) (*TorchvisionCache, error) {
	im := &TorchvisionCache{Spec: clips.Spec{FramesPerClip: 16, StepBetweenClips: 1}}
	var traindir string
	if t, ok := v.(*types.Tuple); ok && t.Len() == 2 {
		if s, ok := t.Get(1).(string); ok {
			traindir, im.Source = s, "reference train.py cache (dataset, traindir)"
		}
		v = t.Get(0)
	}
	var vc, dataset map[string]any
	if o, ok := v.(*Object); ok {
		st := attrs(o)
		if vcObj, ok := st["video_clips"].(*Object); ok {
			dataset, vc = st, attrs(vcObj)
			if im.Source == "" {
				im.Source = "pickled dataset " + o.Qualified()
			}
		} else if _, ok := st["video_paths"]; ok {
			vc = st
			im.Source = "pickled " + o.Qualified()
		} else {
			return nil, fmt.Errorf("found a pickled %s without video_clips or video_paths", o.Qualified())
		}
	} else if d, ok := v.(*types.Dict); ok {
		vc = dictMap(d)
		im.Source = "metadata dict"
	} else {
		return nil, fmt.Errorf("top level is %s, not a dataset, VideoClips or metadata dict", kind(v))
	}
	var err error
	if im.Paths, err = stringList(vc["video_paths"], "video_paths"); err != nil {
		return nil, err
	}
	if im.FPS, im.FPSInt, err = fpsList(vc["video_fps"]); err != nil {
		return nil, err
	}
	if im.Pts, err = ptsOf(vc); err != nil {
		return nil, err
	}
	if len(im.FPS) != len(im.Paths) || len(im.Pts) != len(im.Paths) {
		return nil, fmt.Errorf("video_paths, video_pts and video_fps have %d, %d and %d entries", len(im.Paths), len(im.Pts), len(im.FPS))
	}
	for i, p := range im.Pts {
		if !sort.SliceIsSorted(p, func(a, b int) bool { return p[a] < p[b] }) {
			return nil, fmt.Errorf("video_pts of %s are not sorted", im.Paths[i])
		}
	}
	if _, ok := vc["num_frames"]; ok {
		n, ok1 := vc["num_frames"].(int)
		s, ok2 := vc["step"].(int)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("num_frames/step are %s/%s, not ints", kind(vc["num_frames"]), kind(vc["step"]))
		}
		im.Spec.FramesPerClip, im.Spec.StepBetweenClips, im.HasConfig = n, s, true
		switch fr := vc["frame_rate"].(type) {
		case nil:
		case int:
			f := float64(fr)
			im.Spec.FrameRate = &f
		case float64:
			im.Spec.FrameRate = &fr
		default:
			return nil, fmt.Errorf("frame_rate is %s", kind(fr))
		}
	}
	if dataset != nil {
		if err := im.labelsFromSamples(dataset); err != nil {
			return nil, err
		}
		if r, ok := dataset["root"].(string); ok {
			im.Root = r
		}
		if s, ok := dataset["split"].(string); ok {
			im.Split = s
		}
	}
	if traindir != "" && im.Root == "" {
		im.Root, im.Split = filepath.Dir(traindir), filepath.Base(traindir)
	}
	if im.Labels == nil {
		im.labelsFromFolders()
	}
	if im.Root == "" && len(im.Paths) > 0 {
		prefix := commonDir(im.Paths)
		im.Root, im.Split = filepath.Dir(prefix), filepath.Base(prefix)
	}
	return im, nil
}

// labelsFromSamples takes classes and labels from the dataset's samples,
// which must list the same videos in the same order.
func (im *TorchvisionCache) labelsFromSamples(ds map[string]any) error {
	classes, err := stringList(ds["classes"], "classes")
	if err != nil {
		return err
	}
	samples, ok := ds["samples"].(*types.List)
	if !ok || samples.Len() != len(im.Paths) {
		return fmt.Errorf("the dataset's samples (%s) do not match its %d videos", kind(ds["samples"]), len(im.Paths))
	}
	for i, s := range *samples {
		t, ok := s.(*types.Tuple)
		if !ok || t.Len() != 2 {
			return fmt.Errorf("samples[%d] is %s, not a (path, label) pair", i, kind(s))
		}
		p, ok1 := t.Get(0).(string)
		lab, ok2 := t.Get(1).(int)
		if !ok1 || !ok2 || p != im.Paths[i] || lab < 0 || lab >= len(classes) {
			return fmt.Errorf("samples[%d] = (%v, %v) does not match video %q among %d classes", i, t.Get(0), t.Get(1), im.Paths[i], len(classes))
		}
		im.Labels = append(im.Labels, int64(lab))
	}
	im.Classes, im.LabelsFrom = classes, "samples"
	return nil
}

// labelsFromFolders derives classes from the Kinetics layout when the file
// holds no dataset: the folder under the common split folder.
func (im *TorchvisionCache) labelsFromFolders() {
	im.LabelsFrom = "folders"
	prefix := commonDir(im.Paths)
	if im.Root != "" {
		prefix = strings.TrimSuffix(im.Root, "/") + "/" + im.Split // os.path.join(root, split)
	}
	index := map[string]int64{}
	names := make([]string, len(im.Paths))
	for i, p := range im.Paths {
		rel := strings.TrimPrefix(p, strings.TrimSuffix(prefix, "/")+"/")
		names[i], _, _ = strings.Cut(rel, "/")
		index[names[i]] = 0
	}
	for c := range index {
		im.Classes = append(im.Classes, c)
	}
	sort.Strings(im.Classes)
	for i, c := range im.Classes {
		index[c] = int64(i)
	}
	for _, n := range names {
		im.Labels = append(im.Labels, index[n])
	}
}

// commonDir is the longest folder path every path lies under.
func commonDir(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	prefix := filepath.Dir(paths[0])
	for _, p := range paths[1:] {
		for prefix != "/" && prefix != "." && !strings.HasPrefix(p, prefix+"/") {
			prefix = filepath.Dir(prefix)
		}
	}
	if len(paths) > 1 || prefix == "/" {
		return prefix
	}
	return filepath.Dir(prefix) // one video: its class folder's parent
}

// ptsOf reads video_pts: a list of 1-D tensors, or VideoClips state version
// 2's one concatenated numpy int64 array with video_pts_sizes.
func ptsOf(vc map[string]any) ([][]int64, error) {
	switch v := vc["video_pts"].(type) {
	case *types.List:
		if sizes, ok := vc["video_pts_sizes"]; ok && v.Len() == 0 {
			n, err := intList(sizes, "video_pts_sizes")
			if err != nil {
				return nil, err
			}
			out := make([][]int64, len(n))
			for i, k := range n {
				if k != 0 {
					return nil, fmt.Errorf("video_pts is empty but video_pts_sizes[%d] = %d", i, k)
				}
				out[i] = []int64{}
			}
			return out, nil
		}
		out := make([][]int64, 0, v.Len())
		for i, x := range *v {
			t, err := int64TensorOf(x)
			if err != nil {
				return nil, fmt.Errorf("video_pts[%d]: %v", i, err)
			}
			out = append(out, t)
		}
		return out, nil
	case *Object:
		flat, err := numpyInt64(v)
		if err != nil {
			return nil, fmt.Errorf("video_pts: %v", err)
		}
		sizes, err := intList(vc["video_pts_sizes"], "video_pts_sizes")
		if err != nil {
			return nil, err
		}
		var out [][]int64
		for i, n := range sizes {
			if n < 0 || n > len(flat) {
				return nil, fmt.Errorf("video_pts_sizes[%d] = %d exceeds the %d timestamps left", i, n, len(flat))
			}
			out = append(out, flat[:n:n])
			flat = flat[n:]
		}
		if len(flat) != 0 {
			return nil, fmt.Errorf("%d timestamps beyond video_pts_sizes", len(flat))
		}
		return out, nil
	case nil:
		return nil, errors.New("no video_pts")
	default:
		return nil, fmt.Errorf("video_pts is %s", kind(v))
	}
}

// numpyInt64 decodes a pickled numpy array as the data the pickle holds:
// numpy.core.multiarray._reconstruct(ndarray, (0,), b'b') then BUILD with
// (version, shape, dtype, is_fortran, raw bytes), the dtype itself
// numpy.dtype('i8', ...) with BUILD state (version, byteorder, ...).
func numpyInt64(o *Object) ([]int64, error) {
	if !strings.HasSuffix(o.Qualified(), "multiarray._reconstruct") {
		return nil, fmt.Errorf("%s is not a numpy array", o.Qualified())
	}
	st, ok := o.State.(*types.Tuple)
	if !ok || st.Len() != 5 {
		return nil, fmt.Errorf("numpy array state is %s, not a 5-tuple", kind(o.State))
	}
	shape, err := intList(st.Get(1), "numpy shape")
	if err != nil || len(shape) != 1 {
		return nil, fmt.Errorf("numpy array shape %v is not 1-D", st.Get(1))
	}
	dt, ok := st.Get(2).(*Object)
	if !ok || !strings.HasSuffix(dt.Qualified(), "numpy.dtype") || len(dt.Args) == 0 {
		return nil, fmt.Errorf("numpy dtype is %s", kind(st.Get(2)))
	}
	name, _ := dt.Args[0].(string)
	order := "<"
	if ds, ok := dt.State.(*types.Tuple); ok && ds.Len() > 1 {
		if s, ok := ds.Get(1).(string); ok {
			order = s
		}
	}
	if strings.TrimLeft(name, "<>=|") != "i8" {
		return nil, fmt.Errorf("numpy dtype %q, expected int64", name)
	}
	raw, err := bytesOf(st.Get(4))
	if err != nil {
		return nil, fmt.Errorf("numpy data: %v", err)
	}
	if shape[0] < 0 || len(raw)%8 != 0 || len(raw)/8 != shape[0] {
		return nil, fmt.Errorf("numpy data holds %d bytes for %d int64s", len(raw), shape[0])
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if order == ">" {
		bo = binary.BigEndian
	}
	out := make([]int64, shape[0])
	for i := range out {
		out[i] = int64(bo.Uint64(raw[8*i:]))
	}
	return out, nil
}

// bytesOf reads pickled bytes: protocol 2 writes them as
// _codecs.encode(str, 'latin1'); later protocols as bytes.
func bytesOf(v any) ([]byte, error) {
	switch v := v.(type) {
	case []byte:
		return v, nil
	case *types.ByteArray:
		return []byte(*v), nil
	case *Object:
		if v.Qualified() != "_codecs.encode" || len(v.Args) != 2 {
			break
		}
		s, ok := v.Args[0].(string)
		enc, _ := v.Args[1].(string)
		if !ok || (enc != "latin1" && enc != "latin-1") {
			break
		}
		b := make([]byte, 0, len(s))
		for _, r := range s {
			if r > 0xff {
				return nil, fmt.Errorf("latin-1 data holds U+%04X", r)
			}
			b = append(b, byte(r))
		}
		return b, nil
	}
	return nil, fmt.Errorf("%s is not bytes", kind(v))
}

func attrs(o *Object) map[string]any {
	m := map[string]any{}
	if d, ok := o.State.(*types.Dict); ok {
		for k, v := range dictMap(d) {
			m[k] = v
		}
	}
	for _, it := range o.Dict {
		if k, ok := it.Key.(string); ok {
			m[k] = it.Value
		}
	}
	return m
}

func dictMap(d *types.Dict) map[string]any {
	m := map[string]any{}
	for _, e := range *d {
		if k, ok := e.Key.(string); ok {
			m[k] = e.Value
		}
	}
	return m
}

func intList(v any, what string) ([]int, error) {
	var xs []any
	switch v := v.(type) {
	case *types.List:
		xs = *v
	case *types.Tuple:
		xs = *v
	default:
		return nil, fmt.Errorf("%s is %s, not a list", what, kind(v))
	}
	out := make([]int, 0, len(xs))
	for i, x := range xs {
		n, ok := x.(int)
		if !ok {
			return nil, fmt.Errorf("%s[%d] is %s, not an int", what, i, kind(x))
		}
		out = append(out, n)
	}
	return out, nil
}

// fpsList reads video_fps; ints reports which entries were Python ints
// (torchcodec's average_fps of a whole number).
func fpsList(v any) (out []*float64, ints []bool, err error) {
	l, ok := v.(*types.List)
	if !ok {
		return nil, nil, fmt.Errorf("video_fps is %s, not a list", kind(v))
	}
	out = make([]*float64, 0, l.Len())
	ints = make([]bool, 0, l.Len())
	for i, x := range *l {
		isInt := false
		switch x := x.(type) {
		case nil:
			out = append(out, nil)
		case float64:
			out = append(out, &x)
		case int:
			f := float64(x)
			out = append(out, &f)
			isInt = JSONInt(f)
		default:
			return nil, nil, fmt.Errorf("video_fps[%d] is %s", i, kind(x))
		}
		ints = append(ints, isInt)
	}
	return out, ints, nil
}

// kind names a loaded value's Python type for error messages.
func kind(v any) string {
	switch v := v.(type) {
	case nil:
		return "missing"
	case *Object:
		return "a " + v.Qualified() + " object"
	case *types.List:
		return "a list"
	case *types.Tuple:
		return "a tuple"
	case *types.Dict:
		return "a dict"
	case string:
		return "a str"
	case int, *big.Int:
		return "an int"
	case float64:
		return "a float"
	case bool:
		return "a bool"
	}
	return fmt.Sprintf("%T", v)
}
