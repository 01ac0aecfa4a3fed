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

// TorchvisionCache is what a torchvision cache holds, read by
// ReadTorchvision. Its Cache is that content in vidcache's model: every
// video's path, timestamps, frame rate (FPSInt where the file held a Python
// int) and label, the classes, and what the file tells of the
// configuration: Root and Split (derived from the paths where it records
// none), Extensions (derived from the paths unless the file is itself a
// vidcache cache), the clip Spec (torchvision's defaults, 16 frames, step 1,
// native rate, where it records none), and Target when it is a vidcache
// cache ("" otherwise). Clip counts, mode and versions are the importer's.
type TorchvisionCache struct {
	Cache
	Source     string // what was found
	HasConfig  bool   // the file recorded the clip configuration
	LabelsFrom string // "samples", "folders" or "cache"
}

// PtsAreFrameIndices: every video's pts are 0, 1, ..., n-1.
func (im *TorchvisionCache) PtsAreFrameIndices() bool {
	for _, v := range im.Videos {
		for k, t := range v.Pts {
			if t != int64(k) {
				return false
			}
		}
	}
	return true
}

// DetectTarget: frame indices with an int frame rate somewhere can only come
// from torchvision 0.26+ (PyAV-era frame rates are always floats).
func (im *TorchvisionCache) DetectTarget() vocab.Target {
	if im.Config.Target != "" {
		return im.Config.Target
	}
	if im.PtsAreFrameIndices() && slices.ContainsFunc(im.Videos, func(v Video) bool { return v.FPSInt }) {
		return vocab.TargetTorchvision
	}
	return vocab.TargetPyAV
}

// Relocate moves the cache to a dataset root: every path under the recorded
// root is rewritten to lie under root instead (made absolute).
func (im *TorchvisionCache) Relocate(root string) error {
	if !strings.HasPrefix(im.Config.Root, "/") {
		return fmt.Errorf("the file records no dataset root to replace with %s", root)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	from := strings.TrimSuffix(im.Config.Root, "/") + "/"
	for i, v := range im.Videos {
		if !strings.HasPrefix(v.Path, from) {
			return fmt.Errorf("%s is not under the recorded root %s", v.Path, im.Config.Root)
		}
		im.Videos[i].Path = abs + "/" + strings.TrimPrefix(v.Path, from)
	}
	im.Config.Root = abs
	return nil
}

// ReadTorchvision finds torchvision's metadata in a value Load returned:
// the reference train.py's (dataset, traindir) tuple, a pickled dataset or
// VideoClips, or a metadata dict.
func ReadTorchvision(v any) (*TorchvisionCache, error) {
	im := &TorchvisionCache{}
	im.Config.Spec = clips.Spec{FramesPerClip: 16, StepBetweenClips: 1}
	vc, dataset, traindir, err := im.find(v)
	if err != nil {
		return nil, err
	}
	if err := im.readVideos(vc); err != nil {
		return nil, err
	}
	if cfg, ok := vc["vidcache"]; ok && dataset == nil {
		if err := im.readVidcache(vc, cfg); err != nil {
			return nil, err
		}
	}
	if err := im.readClipSpec(vc); err != nil {
		return nil, err
	}
	cfg := &im.Config
	if dataset != nil {
		if err := im.labelsFromSamples(dataset); err != nil {
			return nil, err
		}
		if r, ok := dataset["root"].(string); ok {
			cfg.Root = r
		}
		if s, ok := dataset["split"].(string); ok {
			cfg.Split = s
		}
	}
	if traindir != "" && cfg.Root == "" {
		cfg.Root, cfg.Split = filepath.Dir(traindir), filepath.Base(traindir)
	}
	if im.LabelsFrom == "" {
		im.labelsFromFolders()
	}
	if cfg.Root == "" && len(im.Videos) > 0 {
		prefix := commonDir(im.paths())
		cfg.Root, cfg.Split = filepath.Dir(prefix), filepath.Base(prefix)
	}
	if cfg.Extensions == nil {
		cfg.Extensions = extensionsOf(im.paths())
	}
	return im, nil
}

// find looks for the VideoClips (its state, or a metadata dict) in v, and
// the dataset that holds it if there is one; traindir is the reference
// script's.
func (im *TorchvisionCache) find(v any) (vc, dataset map[string]any, traindir string, err error) {
	if t, ok := v.(*types.Tuple); ok && t.Len() == 2 {
		if s, ok := t.Get(1).(string); ok {
			traindir, im.Source = s, "reference train.py cache (dataset, traindir)"
		}
		v = t.Get(0)
	}
	switch v := v.(type) {
	case *Object:
		st := attrs(v)
		if vcObj, ok := st["video_clips"].(*Object); ok {
			dataset, vc = st, attrs(vcObj)
			if im.Source == "" {
				im.Source = "pickled dataset " + v.Qualified()
			}
		} else if _, ok := st["video_paths"]; ok {
			vc = st
			im.Source = "pickled " + v.Qualified()
		} else {
			return nil, nil, "", fmt.Errorf("found a pickled %s without video_clips or video_paths", v.Qualified())
		}
	case *types.Dict:
		vc = dictMap(v)
		im.Source = "metadata dict"
	default:
		return nil, nil, "", fmt.Errorf("top level is %s, not a dataset, VideoClips or metadata dict", kind(v))
	}
	return vc, dataset, traindir, nil
}

// readVideos makes the videos of the VideoClips' video_paths, video_fps and
// video_pts.
func (im *TorchvisionCache) readVideos(vc map[string]any) error {
	paths, err := stringList(vc["video_paths"], "video_paths")
	if err != nil {
		return err
	}
	fps, ints, err := fpsList(vc["video_fps"])
	if err != nil {
		return err
	}
	pts, err := ptsOf(vc)
	if err != nil {
		return err
	}
	if len(fps) != len(paths) || len(pts) != len(paths) {
		return fmt.Errorf("video_paths, video_pts and video_fps have %d, %d and %d entries", len(paths), len(pts), len(fps))
	}
	im.Videos = make([]Video, len(paths))
	for i, p := range pts {
		if !sort.SliceIsSorted(p, func(a, b int) bool { return p[a] < p[b] }) {
			return fmt.Errorf("video_pts of %s are not sorted", paths[i])
		}
		im.Videos[i] = Video{Path: paths[i], NumFrames: int64(len(p)), FPS: fps[i], FPSInt: ints[i], Pts: p}
	}
	return nil
}

// readVidcache reads a vidcache cache's own record (the file may come from
// another machine): the configuration, classes and labels.
func (im *TorchvisionCache) readVidcache(vc map[string]any, cfg any) error {
	c, _, err := readConfig(cfg)
	if err != nil {
		return fmt.Errorf("vidcache: %w", err)
	}
	im.Source = "vidcache cache"
	im.Config.Spec, im.HasConfig = c.Spec, true
	im.Config.Root, im.Config.Split, im.Config.Extensions, im.Config.Target = c.Root, c.Split, c.Extensions, c.Target
	if im.Classes, err = stringList(vc["classes"], "classes"); err != nil {
		return err
	}
	labels, err := int64Tensor(vc["labels"])
	if err != nil {
		return fmt.Errorf("labels: %w", err)
	}
	if len(labels) != len(im.Videos) {
		return fmt.Errorf("%d labels for %d videos", len(labels), len(im.Videos))
	}
	for i, l := range labels {
		if l < 0 || l >= int64(len(im.Classes)) {
			return fmt.Errorf("label %d out of range for %d classes", l, len(im.Classes))
		}
		im.Videos[i].Label = l
	}
	im.LabelsFrom = "cache"
	return nil
}

// readClipSpec reads the clip configuration VideoClips recorded, if any.
func (im *TorchvisionCache) readClipSpec(vc map[string]any) error {
	if _, ok := vc["num_frames"]; !ok {
		return nil
	}
	n, ok1 := vc["num_frames"].(int)
	s, ok2 := vc["step"].(int)
	if !ok1 || !ok2 {
		return fmt.Errorf("num_frames/step are %s/%s, not ints", kind(vc["num_frames"]), kind(vc["step"]))
	}
	spec := &im.Config.Spec
	spec.FramesPerClip, spec.StepBetweenClips, im.HasConfig = n, s, true
	switch fr := vc["frame_rate"].(type) {
	case nil:
	case int:
		f := float64(fr)
		spec.FrameRate = &f
	case float64:
		spec.FrameRate = &fr
	default:
		return fmt.Errorf("frame_rate is %s", kind(fr))
	}
	return nil
}

// paths lists the videos' paths.
func (im *TorchvisionCache) paths() []string {
	out := make([]string, len(im.Videos))
	for i, v := range im.Videos {
		out[i] = v.Path
	}
	return out
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
	if !ok || samples.Len() != len(im.Videos) {
		return fmt.Errorf("the dataset's samples (%s) do not match its %d videos", kind(ds["samples"]), len(im.Videos))
	}
	for i, s := range *samples {
		t, ok := s.(*types.Tuple)
		if !ok || t.Len() != 2 {
			return fmt.Errorf("samples[%d] is %s, not a (path, label) pair", i, kind(s))
		}
		p, ok1 := t.Get(0).(string)
		lab, ok2 := t.Get(1).(int)
		if !ok1 || !ok2 || p != im.Videos[i].Path || lab < 0 || lab >= len(classes) {
			return fmt.Errorf("samples[%d] = (%v, %v) does not match video %q among %d classes", i, t.Get(0), t.Get(1), im.Videos[i].Path, len(classes))
		}
		im.Videos[i].Label = int64(lab)
	}
	im.Classes, im.LabelsFrom = classes, "samples"
	return nil
}

// labelsFromFolders derives classes from the Kinetics layout when the file
// holds no dataset: the folder under the common split folder.
func (im *TorchvisionCache) labelsFromFolders() {
	im.LabelsFrom = "folders"
	paths := im.paths()
	prefix := commonDir(paths)
	if im.Config.Root != "" {
		prefix = strings.TrimSuffix(im.Config.Root, "/") + "/" + im.Config.Split // os.path.join(root, split)
	}
	index := map[string]int64{}
	names := make([]string, len(paths))
	for i, p := range paths {
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
	for i, n := range names {
		im.Videos[i].Label = index[n]
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
