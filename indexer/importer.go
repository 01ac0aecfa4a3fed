package indexer

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/vidcache/vidcache/indexer/clips"

	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/decoder"
)

// ErrRefused marks files Import will not convert: their metadata cannot be
// reached as plain data.
var ErrRefused = errors.New("refused")

// ImportOptions configure Import.
type ImportOptions struct {
	// Target is the torchvision that wrote the file; "" detects it: frame
	// indices (every video's pts 0..n-1) with at least one int frame rate
	// are torchvision 0.26+ (torchcodec), anything else torchvision-pyav.
	Target    cachefmt.Target
	Out       string
	RootAs    string
	CreatedAt int64
	NoSync    bool
	Index     *Index // optional: record the videos that exist
}

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
	Indexed       int      `json:"indexed"`
	UnsafeGlobals []string `json:"unsafe_globals"`
}

// dangerous names module prefixes and globals that run code or touch the
// system when unpickled; Import converts such files from their data but
// warns and names what they would have run.
var dangerous = []string{"os.", "posix.", "nt.", "subprocess.", "sys.", "builtins.", "__builtin__.", "shutil.", "socket.",
	"runpy.", "importlib.", "pickle.", "_pickle.", "marshal.", "webbrowser.", "pty.", "commands.", "platform.", "ctypes.",
	"code.", "codeop.", "pdb.", "timeit.", "asyncio.", "multiprocessing.", "threading.", "operator.attrgetter", "functools.partial",
	"torch.hub.", "torch.load", "torch.jit.", "numpy.load", "numpy.testing."}

// imported is what was read from the file.
type imported struct {
	source     string
	paths      []string
	pts        [][]int64
	fps        []*float64
	fpsInt     []bool // video_fps[i] was a Python int
	classes    []string
	labels     []int64
	numFrames  int
	step       int
	frameRate  *float64
	hasConfig  bool
	root       string
	split      string
	labelsFrom string
}

// Import converts a torchvision cache (the reference train.py's
// (dataset, traindir) tuple, a VideoClips, a Kinetics dataset, or a metadata
// dict; zip or legacy) into a vidcache cache, reading it as inert data:
// nothing in the file is imported or executed.
func Import(ctx context.Context, file string, opts ImportOptions) (*ImportResult, error) {
	l, err := cachefmt.Load(file)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	im, err := extract(l.Value)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrRefused, file, err)
	}
	res := &ImportResult{Source: im.source, Videos: len(im.paths), Classes: len(im.classes), LabelsFrom: im.labelsFrom, UnsafeGlobals: []string{}}
	for _, g := range l.Globals {
		for _, d := range dangerous {
			if strings.HasPrefix(g, d) || g == strings.TrimSuffix(d, ".") {
				res.UnsafeGlobals = append(res.UnsafeGlobals, g)
				break
			}
		}
	}
	target := opts.Target
	if target == "" {
		target = im.detectTarget()
	}
	if _, err := cachefmt.ParseTarget(string(target)); err != nil {
		return nil, err
	}
	spec := clips.Spec{FramesPerClip: im.numFrames, StepBetweenClips: im.step, FrameRate: im.frameRate}
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %s: clip configuration: %v", ErrRefused, file, err)
	}
	mapPath := func(p string) string { return p }
	if opts.RootAs != "" {
		if !strings.HasPrefix(im.root, "/") {
			return nil, fmt.Errorf("%w: %s: --root-as needs the dataset root, which the file does not hold", ErrRefused, file)
		}
		mapPath = func(p string) string { return opts.RootAs + strings.TrimPrefix(p, im.root) }
	}
	res.Config = cachefmt.Config{Root: im.root, Split: im.split, Extensions: []string{}, Spec: spec, RootAs: opts.RootAs,
		Target: target, Mode: cachefmt.ModeImported, ToolVersion: Version, CreatedUnix: opts.CreatedAt}
	c := &cachefmt.Cache{
		Config:       res.Config,
		Classes:      im.classes,
		Pts:          func(i int) ([]int64, error) { return im.pts[i], nil },
		FrameIndices: target == cachefmt.TargetTorchvision,
	}
	if c.FrameIndices && !im.frameIndices() {
		return nil, fmt.Errorf("%w: %s: --target torchvision needs frame indices (0, 1, 2, ...) as video_pts; these are timestamps from torchvision 0.25 or earlier", ErrRefused, file)
	}
	if c.Config.CreatedUnix == 0 {
		c.Config.CreatedUnix = nowUnix()
	}
	for i, p := range im.paths {
		n, err := clips.ForVideo(len(im.pts[i]), im.fps[i], spec)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %s: %v", ErrRefused, file, p, err)
		}
		c.Videos = append(c.Videos, cachefmt.Video{Path: mapPath(p), NumFrames: int64(len(im.pts[i])), FPS: im.fps[i], Label: im.labels[i], ClipCount: int64(n),
			FPSInt: c.FrameIndices && im.fpsInt[i]})
		res.Frames += int64(len(im.pts[i]))
		res.Clips += int64(n)
	}
	if opts.Out == "" {
		opts.Out = strings.TrimSuffix(file, filepath.Ext(file)) + ".vidcache.pt"
	}
	if res.Cache, err = filepath.Abs(opts.Out); err != nil {
		return nil, err
	}
	if err := cachefmt.WriteFile(res.Cache, c, cachefmt.Options{NoSync: opts.NoSync}); err != nil {
		return nil, err
	}
	if opts.Index != nil {
		if res.Indexed, err = recordImported(ctx, opts.Index, im, target); err != nil {
			return res, err
		}
	}
	return res, nil
}

// recordImported stores the videos that exist at their recorded paths as
// exact-mode probe results (torchvision's own timestamps are what exact mode
// reproduces), so `build --mode exact` reuses them; for the torchvision
// target, as scan results (frame counts and fps).
func recordImported(ctx context.Context, ix *Index, im *imported, target cachefmt.Target) (int, error) {
	mode := decoder.ModeExact
	if target == cachefmt.TargetTorchvision {
		mode = decoder.ModeScan
	}
	ffmpeg := decoder.Version()
	var rows []*Row
	for i, p := range im.paths {
		e := statEntry(p, 0)
		if !e.Regular() {
			continue
		}
		r := &Row{Path: p, Size: e.Size, MtimeNs: e.MtimeNs, Inode: e.Inode, Status: string(decoder.StatusOK), FPS: im.fps[i],
			Frames: len(im.pts[i]), Pts: encodePts(im.pts[i]), Mode: string(mode), FFmpeg: ffmpeg, Probed: nowUnix()}
		if mode == decoder.ModeScan {
			r.Pts = []byte{}
		}
		if len(im.pts[i]) == 0 {
			r.Status, r.Error = "imported_empty", "the imported cache holds no timestamps for this video"
		}
		rows = append(rows, r)
	}
	return len(rows), ix.PutRows(ctx, rows)
}

// frameIndices: every video's pts are 0, 1, ..., n-1.
func (im *imported) frameIndices() bool {
	for _, pts := range im.pts {
		for k, v := range pts {
			if v != int64(k) {
				return false
			}
		}
	}
	return true
}

// detectTarget: frame indices with an int frame rate somewhere can only come
// from torchvision 0.26+ (PyAV-era frame rates are always floats).
func (im *imported) detectTarget() cachefmt.Target {
	if im.frameIndices() && slices.Contains(im.fpsInt, true) {
		return cachefmt.TargetTorchvision
	}
	return cachefmt.TargetPyAV
}

// extract finds the metadata in the loaded value.
func extract(v any) (*imported, error) {
	im := &imported{step: 1, numFrames: 16}
	var traindir string
	if t, ok := v.(*types.Tuple); ok && t.Len() == 2 {
		if s, ok := t.Get(1).(string); ok {
			traindir, im.source = s, "reference train.py cache (dataset, traindir)"
		}
		v = t.Get(0)
	}
	var vc, dataset map[string]any
	if o, ok := v.(*cachefmt.Object); ok {
		st := attrs(o)
		if vcObj, ok := st["video_clips"].(*cachefmt.Object); ok {
			dataset, vc = st, attrs(vcObj)
			if im.source == "" {
				im.source = "pickled dataset " + o.Qualified()
			}
		} else if _, ok := st["video_paths"]; ok {
			vc = st
			im.source = "pickled " + o.Qualified()
		} else {
			return nil, fmt.Errorf("found a pickled %s without video_clips or video_paths", o.Qualified())
		}
	} else if d, ok := v.(*types.Dict); ok {
		vc = dictMap(d)
		im.source = "metadata dict"
	} else {
		return nil, fmt.Errorf("top level is %s, not a dataset, VideoClips or metadata dict", kind(v))
	}
	var err error
	if im.paths, err = strList(vc["video_paths"], "video_paths"); err != nil {
		return nil, err
	}
	if im.fps, im.fpsInt, err = fpsList(vc["video_fps"]); err != nil {
		return nil, err
	}
	if im.pts, err = ptsOf(vc); err != nil {
		return nil, err
	}
	if len(im.fps) != len(im.paths) || len(im.pts) != len(im.paths) {
		return nil, fmt.Errorf("video_paths, video_pts and video_fps have %d, %d and %d entries", len(im.paths), len(im.pts), len(im.fps))
	}
	for i, p := range im.pts {
		if !sort.SliceIsSorted(p, func(a, b int) bool { return p[a] < p[b] }) {
			return nil, fmt.Errorf("video_pts of %s are not sorted", im.paths[i])
		}
	}
	if _, ok := vc["num_frames"]; ok {
		n, ok1 := vc["num_frames"].(int)
		s, ok2 := vc["step"].(int)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("num_frames/step are %s/%s, not ints", kind(vc["num_frames"]), kind(vc["step"]))
		}
		im.numFrames, im.step, im.hasConfig = n, s, true
		switch fr := vc["frame_rate"].(type) {
		case nil:
		case int:
			f := float64(fr)
			im.frameRate = &f
		case float64:
			im.frameRate = &fr
		default:
			return nil, fmt.Errorf("frame_rate is %s", kind(fr))
		}
	}
	if dataset != nil {
		if err := im.labelsFromSamples(dataset); err != nil {
			return nil, err
		}
		if r, ok := dataset["root"].(string); ok {
			im.root = r
		}
		if s, ok := dataset["split"].(string); ok {
			im.split = s
		}
	}
	if traindir != "" && im.root == "" {
		im.root, im.split = filepath.Dir(traindir), filepath.Base(traindir)
	}
	if im.labels == nil {
		im.labelsFromFolders()
	}
	if im.root == "" && len(im.paths) > 0 {
		prefix := commonDir(im.paths)
		im.root, im.split = filepath.Dir(prefix), filepath.Base(prefix)
	}
	return im, nil
}

// labelsFromSamples takes classes and labels from the dataset's samples,
// which must list the same videos in the same order.
func (im *imported) labelsFromSamples(ds map[string]any) error {
	classes, err := strList(ds["classes"], "classes")
	if err != nil {
		return err
	}
	samples, ok := ds["samples"].(*types.List)
	if !ok || samples.Len() != len(im.paths) {
		return fmt.Errorf("the dataset's samples (%s) do not match its %d videos", kind(ds["samples"]), len(im.paths))
	}
	for i, s := range *samples {
		t, ok := s.(*types.Tuple)
		if !ok || t.Len() != 2 {
			return fmt.Errorf("samples[%d] is %s, not a (path, label) pair", i, kind(s))
		}
		p, ok1 := t.Get(0).(string)
		lab, ok2 := t.Get(1).(int)
		if !ok1 || !ok2 || p != im.paths[i] || lab < 0 || lab >= len(classes) {
			return fmt.Errorf("samples[%d] = (%v, %v) does not match video %q among %d classes", i, t.Get(0), t.Get(1), im.paths[i], len(classes))
		}
		im.labels = append(im.labels, int64(lab))
	}
	im.classes, im.labelsFrom = classes, "samples"
	return nil
}

// labelsFromFolders derives classes from the Kinetics layout when the file
// holds no dataset: the folder under the common split folder.
func (im *imported) labelsFromFolders() {
	im.labelsFrom = "folders"
	prefix := commonDir(im.paths)
	if im.root != "" {
		prefix = pyJoin(im.root, im.split)
	}
	index := map[string]int64{}
	names := make([]string, len(im.paths))
	for i, p := range im.paths {
		rel := strings.TrimPrefix(p, strings.TrimSuffix(prefix, "/")+"/")
		names[i], _, _ = strings.Cut(rel, "/")
		index[names[i]] = 0
	}
	for c := range index {
		im.classes = append(im.classes, c)
	}
	sort.Strings(im.classes)
	for i, c := range im.classes {
		index[c] = int64(i)
	}
	for _, n := range names {
		im.labels = append(im.labels, index[n])
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
			t, err := tensorInt64(x)
			if err != nil {
				return nil, fmt.Errorf("video_pts[%d]: %v", i, err)
			}
			out = append(out, t)
		}
		return out, nil
	case *cachefmt.Object:
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
func numpyInt64(o *cachefmt.Object) ([]int64, error) {
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
	dt, ok := st.Get(2).(*cachefmt.Object)
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
	case *cachefmt.Object:
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

func tensorInt64(v any) ([]int64, error) {
	t, ok := v.(*pytorch.Tensor)
	if !ok {
		return nil, fmt.Errorf("%s is not a tensor", kind(v))
	}
	if len(t.Size) != 1 || len(t.Stride) != 1 {
		return nil, fmt.Errorf("tensor of %d dimensions", len(t.Size))
	}
	var get func(i int) (int64, bool)
	var storageLen int
	switch s := t.Source.(type) {
	case *pytorch.LongStorage:
		get, storageLen = func(i int) (int64, bool) { return s.Data[i], true }, len(s.Data)
	case *pytorch.IntStorage:
		get, storageLen = func(i int) (int64, bool) { return int64(s.Data[i]), true }, len(s.Data)
	case *pytorch.FloatStorage: // an empty list became a float tensor in old torchvision
		get = func(i int) (int64, bool) { return int64(s.Data[i]), float32(int64(s.Data[i])) == s.Data[i] }
		storageLen = len(s.Data)
	default:
		if t.Size[0] == 0 {
			return []int64{}, nil
		}
		return nil, fmt.Errorf("tensor storage %T", t.Source)
	}
	n := t.Size[0]
	if err := cachefmt.CheckView(n, t.StorageOffset, t.Stride[0], storageLen); err != nil {
		return nil, err
	}
	out := make([]int64, n)
	for i := range out {
		j := t.StorageOffset + i*t.Stride[0]
		v, ok := get(j)
		if !ok {
			return nil, fmt.Errorf("timestamp %d is not an integer", i)
		}
		out[i] = v
	}
	return out, nil
}

func attrs(o *cachefmt.Object) map[string]any {
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

func strList(v any, what string) ([]string, error) {
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
		out = append(out, s)
	}
	return out, nil
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
			isInt = cachefmt.JSONInt(f)
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
	case *cachefmt.Object:
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
