package pickle_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/cachefmt/clips"
	"github.com/vidcache/vidcache/cachefmt/pickle"
	"github.com/vidcache/vidcache/cachefmt/torchpeer"
	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// writeCache writes a small vidcache cache, vidcache.pt in a temporary
// folder (cachefmt's sample: four videos, frame rates as BINFLOAT, which
// torch 1.13's weights-only loader refuses), and returns its path.
func writeCache(t testing.TB) string {
	t.Helper()
	fp := func(v float64) *float64 { return &v }
	pts := [][]int64{{0, 512, 1024, 1536}, {}, {-1001, 0, 1001, 2002, 1 << 40}, {7}}
	c := &cachefmt.Cache{
		Config: cachefmt.Config{
			Root: "/data/k400", Split: "train", Extensions: []string{"avi", "mp4"},
			Spec:   clips.Spec{FramesPerClip: 2, StepBetweenClips: 1, FrameRate: fp(7.5)},
			Target: vocab.TargetPyAV, Mode: vocab.ModeFast, FFmpeg: "7.1.5", ToolVersion: "test", CreatedUnix: 1700000000,
		},
		Classes: []string{"a", "b b", "empty", "ünï"},
		Videos: []cachefmt.Video{
			{Path: "/data/k400/train/a/x.mp4", NumFrames: 4, FPS: fp(25), Label: 0, ClipCount: 3},
			{Path: "/data/k400/train/a/broken.mp4", NumFrames: 0, FPS: nil, Label: 0, ClipCount: 0},
			{Path: "/data/k400/train/b b/y z.avi", NumFrames: 5, FPS: fp(30000.0 / 1001), Label: 1, ClipCount: 4},
			{Path: "/data/k400/train/ünï/日本.mp4", NumFrames: 1, FPS: fp(12.5), Label: 3, ClipCount: 0},
		},
		Pts: func(i int) ([]int64, error) { return pts[i], nil },
	}
	p := filepath.Join(t.TempDir(), "vidcache.pt")
	if err := cachefmt.WriteFile(p, c, cachefmt.Options{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	return p
}

func globalsOf(r *pickle.AuditReport) string {
	var g []string
	for _, f := range r.Globals {
		g = append(g, f.Op+" "+f.Global)
	}
	return strings.Join(g, ", ")
}

// TestAuditRawPickles: code-running pickles are found, however the global is named.
func TestAuditRawPickles(t *testing.T) {
	for name, want := range map[string]string{
		"os-system.pkl":         "GLOBAL posix.system",
		"builtins-eval.pkl":     "GLOBAL __builtin__.eval", // protocol 2 spells it the Python 2 way
		"stack-global-memo.pkl": "STACK_GLOBAL os.system",
	} {
		r, err := pickle.Audit(filepath.Join("testdata/audit", name))
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind != "pickle" || !strings.Contains(globalsOf(r), want) || r.SafeFor("torch-1.13") || r.SafeFor("torch-2.x") {
			t.Errorf("%s: kind %s globals [%s] verdicts %+v; want %s, unsafe", name, r.Kind, globalsOf(r), r.Verdicts, want)
		}
	}
}

// TestAuditMatchesTorch: for every torch file, the verdict for each generation
// equals what that torch's weights_only loader really does with it.
func TestAuditMatchesTorch(t *testing.T) {
	dir, _ := filepath.Abs("testdata/audit")
	files, _ := filepath.Glob(filepath.Join(dir, "*.pt"))
	own := writeCache(t)
	files = append(files, own)
	reports := map[string]*pickle.AuditReport{}
	for _, f := range files {
		r, err := pickle.Audit(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		reports[f] = r
	}
	// What the audit must say regardless of peers.
	expect := map[string][2]bool{ // {1.13 safe, 2.x safe}
		"harmless.pt": {true, true}, "harmless-legacy.pt": {true, true}, "vidcache.pt": {false, true},
		"numpy-array.pt": {false, false}, "os-system.pt": {false, false}, "os-system-legacy.pt": {false, false},
		"kinetics-dataset.pt": {false, false}, "nested-zip.pt": {false, false},
	}
	for f, r := range reports {
		e, ok := expect[filepath.Base(f)]
		if !ok {
			t.Errorf("no expectation for %s", f)
			continue
		}
		if r.SafeFor("torch-1.13") != e[0] || r.SafeFor("torch-2.x") != e[1] {
			t.Errorf("%s: verdicts %+v, want 1.13 %v 2.x %v (globals %s)", filepath.Base(f), r.Verdicts, e[0], e[1], globalsOf(r))
		}
	}
	if g := globalsOf(reports[filepath.Join(dir, "kinetics-dataset.pt")]); !strings.Contains(g, "torchvision.datasets.kinetics.Kinetics") {
		t.Errorf("dataset globals: %s", g)
	}
	if g := globalsOf(reports[filepath.Join(dir, "nested-zip.pt")]); !strings.Contains(g, "posix.system") {
		t.Errorf("nested zip globals: %s", g)
	}

	stacks := []struct {
		gen string
		get func(testing.TB) *torchpeer.Stack
	}{{"torch-1.13", torchpeer.Bookworm}, {"torch-2.x", torchpeer.Trixie}}
	for _, st := range stacks {
		t.Run(st.gen, func(t *testing.T) {
			var got map[string]string
			st.get(t).RunJSON(t, []string{dir, filepath.Dir(own)}, &got, "weights_only.py", files...)
			for f, r := range reports {
				loaded := got[f] == "ok"
				if filepath.Base(f) == "nested-zip.pt" {
					// torch reads only the outer data.pkl; the audit also
					// flags the torch file nested inside, on purpose.
					if !loaded {
						t.Errorf("%s: torch refused the outer pickle: %s", f, got[f])
					}
					continue
				}
				if loaded != r.SafeFor(st.gen) {
					t.Errorf("%s: torch says %q, audit says safe=%v", filepath.Base(f), got[f], r.SafeFor(st.gen))
				}
			}
		})
	}
}

func TestAuditUnreadable(t *testing.T) {
	dir := t.TempDir()
	for name, b := range map[string]string{
		"empty":     "",
		"text":      "hello",
		"truncated": "\x80\x02}q\x00(X\x05\x00\x00\x00ab",
		"badop":     "\x80\x02\xff.",
		"zip-junk":  "PK\x03\x04garbage",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(b), 0o644)
		if _, err := pickle.Audit(p); !errors.Is(err, pickle.ErrUnreadable) {
			t.Errorf("%s: %v, want ErrUnreadable", name, err)
		}
	}
}

// TestReasonKinds: Unsafe decides by a reason's kind, never by its text,
// and a reason is its text alone in JSON.
func TestReasonKinds(t *testing.T) {
	r := &pickle.AuditReport{Verdicts: []pickle.Verdict{{Torch: pickle.Torch2, Reasons: []pickle.Reason{
		{Kind: pickle.ReasonUnreadable, Text: "unreadable: x"}, {Kind: pickle.ReasonRefused, Text: "torch refuses it: y"}}}}}
	if r.Unsafe() {
		t.Error("unreadable and refused are not evidence")
	}
	r.Verdicts[0].Reasons = append(r.Verdicts[0].Reasons, pickle.Reason{Kind: pickle.ReasonGlobal, Text: "unreadable: a global's text"})
	if !r.Unsafe() {
		t.Error("a global reason is evidence whatever its text")
	}
	b, err := json.Marshal(r.Verdicts[0])
	if want := `{"torch":"torch-2.x","safe":false,"reasons":["unreadable: x","torch refuses it: y","unreadable: a global's text"]}`; err != nil || string(b) != want {
		t.Errorf("JSON %s %v, want %s", b, err, want)
	}
	if w := r.Verdicts[0].Why(); w != "unreadable: x; torch refuses it: y; unreadable: a global's text" {
		t.Errorf("Why %q", w)
	}
}
