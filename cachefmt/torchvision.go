package cachefmt

// Reading torchvision's own caches as inert data, for vidcache import.

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/nlpodyssey/gopickle/types"

	"github.com/vidcache/vidcache/cachefmt/clips"
	"github.com/vidcache/vidcache/cachefmt/vocab"
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
	LabelsFrom string // "samples", "folders" or "cache"
	// Extensions and Target are known when the file is itself a vidcache
	// cache; otherwise Extensions is derived from the paths and Target "".
	Extensions []string
	Target     vocab.Target
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
func (im *TorchvisionCache) DetectTarget() vocab.Target {
	if im.Target != "" {
		return im.Target
	}
	if im.FrameIndices() && slices.Contains(im.FPSInt, true) {
		return vocab.TargetTorchvision
	}
	return vocab.TargetPyAV
}

// Relocate moves the cache to a dataset root: every path under the recorded
// root is rewritten to lie under root instead (made absolute).
func (im *TorchvisionCache) Relocate(root string) error {
	if !strings.HasPrefix(im.Root, "/") {
		return fmt.Errorf("the file records no dataset root to replace with %s", root)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	from := strings.TrimSuffix(im.Root, "/") + "/"
	for i, p := range im.Paths {
		if !strings.HasPrefix(p, from) {
			return fmt.Errorf("%s is not under the recorded root %s", p, im.Root)
		}
		im.Paths[i] = abs + "/" + strings.TrimPrefix(p, from)
	}
	im.Root = abs
	return nil
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
	if cfg, ok := vc["vidcache"]; ok && dataset == nil {
		// A vidcache cache (perhaps from another machine): its own record of
		// the configuration, classes and labels.
		c, _, err := readConfig(cfg)
		if err != nil {
			return nil, fmt.Errorf("vidcache: %w", err)
		}
		im.Source = "vidcache cache"
		im.Spec, im.HasConfig = c.Spec, true
		im.Root, im.Split, im.Extensions, im.Target = c.Root, c.Split, c.Extensions, c.Target
		if im.Classes, err = stringList(vc["classes"], "classes"); err != nil {
			return nil, err
		}
		if im.Labels, err = int64Tensor(vc["labels"]); err != nil {
			return nil, fmt.Errorf("labels: %w", err)
		}
		if len(im.Labels) != len(im.Paths) {
			return nil, fmt.Errorf("%d labels for %d videos", len(im.Labels), len(im.Paths))
		}
		for _, l := range im.Labels {
			if l < 0 || l >= int64(len(im.Classes)) {
				return nil, fmt.Errorf("label %d out of range for %d classes", l, len(im.Classes))
			}
		}
		im.LabelsFrom = "cache"
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
	if im.Extensions == nil {
		im.Extensions = extensionsOf(im.Paths)
	}
	return im, nil
}

// extensionsOf lists the lowercased extensions (no dot) of paths, sorted:
// what torchvision's extensions argument must have included.
func extensionsOf(paths []string) []string {
	var out []string
	for _, p := range paths {
		if e := strings.ToLower(strings.TrimPrefix(filepath.Ext(p), ".")); e != "" && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
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
