package cachefmt

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidcache/vidcache/cachefmt/torchpeer"
)

func globalsOf(r *AuditReport) string {
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
		r, err := Audit(filepath.Join("testdata/audit", name))
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
	c, _ := sampleCache()
	own := filepath.Join(t.TempDir(), "vidcache.pt")
	if err := WriteFile(own, c, Options{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	files = append(files, own)
	reports := map[string]*AuditReport{}
	for _, f := range files {
		r, err := Audit(f)
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
		if _, err := Audit(p); !errors.Is(err, ErrUnreadable) {
			t.Errorf("%s: %v, want ErrUnreadable", name, err)
		}
	}
}

// TestReasonKinds: Unsafe decides by a reason's kind, never by its text,
// and a reason is its text alone in JSON.
func TestReasonKinds(t *testing.T) {
	r := &AuditReport{Verdicts: []Verdict{{Torch: Torch2, Reasons: []Reason{
		{ReasonUnreadable, "unreadable: x"}, {ReasonRefused, "torch refuses it: y"}}}}}
	if r.Unsafe() {
		t.Error("unreadable and refused are not evidence")
	}
	r.Verdicts[0].Reasons = append(r.Verdicts[0].Reasons, Reason{ReasonGlobal, "unreadable: a global's text"})
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
