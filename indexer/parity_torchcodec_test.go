package indexer_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/cachefmt/torchpeer"
	"github.com/vidcache/vidcache/cachefmt/vocab"
	"github.com/vidcache/vidcache/indexer"
)

// The clip configurations checked against torchvision 0.27.
var torchcodecConfigs = []config{{16, 1, "native"}, {8, 4, "15"}, {32, 16, "30000/1001"}}

type kinetics27Out struct {
	Torch       string `json:"torch"`
	Torchvision string `json:"torchvision"`
	Configs     []struct {
		Spec        string         `json:"spec"`
		Torchvision kineticsView27 `json:"torchvision"`
		Cache       kineticsView27 `json:"cache"`
		Frames      []struct {
			Idx      int    `json:"idx"`
			Shape    []int  `json:"shape"`
			Equal    bool   `json:"equal"`
			Label    [2]int `json:"label"`
			VideoIdx [2]int `json:"video_idx"`
		} `json:"frames"`
		Decoded [][]int `json:"decoded"`
	} `json:"configs"`
}

type kineticsView27 struct {
	kineticsView
	FPSTypes []string `json:"fps_types"`
	Storages int      `json:"storages"`
}

type torchcodecVerdict struct {
	Path      string   `json:"path"`
	Raises    bool     `json:"raises"`
	Error     string   `json:"error"`
	NumFrames int      `json:"num_frames"`
	FPS       *float64 `json:"average_fps"`
	FPSType   string   `json:"fps_type"`
}

// buildTorchcodec builds root's default-target caches, one per config, and
// returns the torchvision-0.27 script's CONFIG arguments and the results.
func buildTorchcodec(t *testing.T, root, tmp string, configs []config) ([]string, []*indexer.BuildResult) {
	t.Helper()
	ix := newIndex(t, tmp)
	var specs []string
	var results []*indexer.BuildResult
	for i, c := range configs {
		out := filepath.Join(tmp, fmt.Sprintf("cache%d.pt", i))
		res, err := indexer.Build(context.Background(), ix, indexer.BuildOptions{Config: cachefmt.Config{Root: root, Spec: c.spec()}, Jobs: 2, Out: out, NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && res.Probed != 0 {
			t.Errorf("config %v re-probed %d videos", c, res.Probed)
		}
		specs = append(specs, fmt.Sprintf("%d:%d:%s:%s", c.fpc, c.step, c.pyRate(), out))
		results = append(results, res)
	}
	return specs, results
}

// checkAgainstTorchvision027 is the torchvision 0.27 parity check for one tree:
//   - every video vidcache marks failed is one torchcodec raises on, and the
//     other way round (asked of torchcodec directly);
//   - on the full tree, Kinetics builds from the cache (torchvision itself
//     would raise) and the failed videos have no clips;
//   - on a copy without the failed videos, Kinetics from the cache equals
//     Kinetics computed by torchvision 0.27: paths, pts, fps (== and type),
//     samples, clips, clip locations, and for sampled clips the decoded
//     frames, labels and video indexes.
func checkAgainstTorchvision027(t *testing.T, root string, configs []config) {
	sid := torchpeer.Sid(t)
	tmp := t.TempDir()
	specs, results := buildTorchcodec(t, root, tmp, configs)
	res := results[0]

	// Who raises: torchcodec itself, for every video of the tree.
	file, err := cachefmt.ReadFile(res.Cache)
	if err != nil {
		t.Fatal(err)
	}
	f := columnsOf(file)
	var verdicts []torchcodecVerdict
	sid.RunJSON(t, []string{root}, &verdicts, "torchcodec_raises.py", f.Paths...)
	failed := map[string]string{}
	for _, fv := range res.FailedAt {
		failed[fv.Path] = string(fv.Status) + ": " + fv.Error
	}
	if len(verdicts) != len(f.Paths) {
		t.Fatalf("torchcodec judged %d of %d videos", len(verdicts), len(f.Paths))
	}
	// By position: JSON cannot carry the non-UTF-8 paths' bytes.
	for i, v := range verdicts {
		v.Path = f.Paths[i]
		why, vcFailed := failed[v.Path]
		switch {
		case v.Raises && !vcFailed:
			t.Errorf("%s: torchcodec raises (%s), vidcache has %d frames", v.Path, v.Error, len(f.Pts[i]))
		case !v.Raises && vcFailed:
			t.Errorf("%s: vidcache failed (%s), torchcodec reads %d frames", v.Path, why, v.NumFrames)
		case !v.Raises:
			if len(f.Pts[i]) != v.NumFrames || !reflect.DeepEqual(f.FPS[i], v.FPS) || f.FPSInt[i] != (v.FPSType == "int") {
				t.Errorf("%s: vidcache %d frames at %v (int %v), torchcodec %d at %v (%s)", v.Path, len(f.Pts[i]), fmtFPS(f.FPS[i:i+1]), f.FPSInt[i], v.NumFrames, fmtFPS([]*float64{v.FPS}), v.FPSType)
			}
		}
	}

	if len(failed) > 0 {
		t.Run("full-tree", func(t *testing.T) {
			var out kinetics27Out
			sid.RunJSON(t, []string{root, tmp}, &out, "kinetics27.py", append([]string{root, "train", "cache"}, specs...)...)
			for _, c := range out.Configs {
				for i, p := range f.Paths {
					if _, bad := failed[p]; bad && i < len(c.Cache.Clips) && len(c.Cache.Clips[i]) != 0 {
						t.Errorf("%s: failed video %s has %d clips", c.Spec, p, len(c.Cache.Clips[i]))
					}
				}
				if len(c.Cache.VideoPaths) != res.Videos {
					t.Errorf("%s: %d videos in the dataset, %d in the build", c.Spec, len(c.Cache.VideoPaths), res.Videos)
				}
			}
		})
	}

	t.Run("clean-tree", func(t *testing.T) {
		clean := root
		if len(failed) > 0 {
			clean = copyTree(t, root)
			var gone []string
			for p := range failed {
				q := filepath.Join(clean, p[len(root):])
				if err := os.Remove(q); err != nil {
					t.Fatal(err)
				}
				gone = append(gone, filepath.Base(p))
			}
			sort.Strings(gone)
			t.Logf("without %v (torchvision 0.27 raises on them)", gone)
		}
		ctmp := t.TempDir()
		specs, _ := buildTorchcodec(t, clean, ctmp, configs)
		var out kinetics27Out
		sid.RunJSON(t, []string{clean, ctmp}, &out, "kinetics27.py", append([]string{clean, "train", "compare"}, specs...)...)
		if out.Torchvision != "0.27.0" && len(out.Torchvision) < 4 {
			t.Fatalf("peer torchvision %q", out.Torchvision)
		}
		if len(out.Configs) != len(specs) {
			t.Fatalf("peer returned %d configs", len(out.Configs))
		}
		for _, c := range out.Configs {
			compareViews(t, c.Spec, c.Torchvision.kineticsView, c.Cache.kineticsView)
			if !reflect.DeepEqual(c.Torchvision.FPSTypes, c.Cache.FPSTypes) {
				t.Errorf("%s: fps types differ:\n tv %v\n vc %v", c.Spec, c.Torchvision.FPSTypes, c.Cache.FPSTypes)
			}
			if c.Cache.Storages > 1 {
				t.Errorf("%s: video_pts use %d storages, want one shared arange", c.Spec, c.Cache.Storages)
			}
			if len(c.Frames) == 0 {
				t.Errorf("%s: no clip decoded", c.Spec)
			}
			for _, fr := range c.Frames {
				if !fr.Equal || fr.Label[0] != fr.Label[1] || fr.VideoIdx[0] != fr.VideoIdx[1] {
					t.Errorf("%s: clip %d: frames equal %v, labels %v, video indexes %v", c.Spec, fr.Idx, fr.Equal, fr.Label, fr.VideoIdx)
				}
			}
		}
	})
}

// TestTorchvision027Parity: the default target against torchvision 0.27 /
// torchcodec 0.14 on the sample, damaged and hostile trees.
func TestTorchvision027Parity(t *testing.T) {
	t.Run("sample", func(t *testing.T) { checkAgainstTorchvision027(t, copyTree(t, sampleRoot(t)), torchcodecConfigs) })
	short := []config{{4, 1, "native"}, {4, 2, "15"}, {2, 1, "30000/1001"}}
	t.Run("damaged", func(t *testing.T) { checkAgainstTorchvision027(t, makeDamaged(t), short) })
	t.Run("hostile", func(t *testing.T) { checkAgainstTorchvision027(t, makeHostile(t), short) })
}

// TestCodecsParity: one clip per codec the minimal FFmpeg build must handle
// (testdata/codecs: AV1 through libdav1d, HEVC, VP9, VP8, 10-bit H.264), in
// every target and mode, against all three torchvision stacks. Exact mode
// decodes: without libdav1d the AV1 clip has no timestamps there.
func TestCodecsParity(t *testing.T) {
	root, err := filepath.Abs("../testdata/codecs")
	if err != nil {
		t.Fatal(err)
	}
	configs := []config{{4, 1, "native"}, {8, 4, "15"}}
	for _, mode := range []vocab.Mode{vocab.ModeFast, vocab.ModeExact} {
		t.Run("pyav-"+string(mode), func(t *testing.T) { checkAgainstTorchvision(t, root, mode, configs, nil) })
	}
	t.Run("torchvision", func(t *testing.T) { checkAgainstTorchvision027(t, copyTree(t, root), configs) })
}
