package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vidcache/vidcache/cachefmt/vocab"
	"github.com/vidcache/vidcache/indexer"
)

func TestImportCLI(t *testing.T) {
	home := t.TempDir()
	fx := "../../indexer/testdata/import/"
	out := filepath.Join(t.TempDir(), "safe.pt")
	r := vc(t, home, "import", fx+"malicious-extra.pt", "--out", out)
	if r.code != exitUsage || !strings.Contains(r.stderr, "posix.system") || !strings.Contains(r.stderr, "vidcache import: --force: refused: ") {
		t.Errorf("malicious import without --force: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused import wrote a file")
	}
	r = vc(t, home, "import", fx+"tv0.21-kinetics.pt", "--out", out, "--target", "torchvision")
	if r.code != exitUsage || !strings.Contains(r.stderr, "vidcache import: --target: refused: ") || !strings.Contains(r.stderr, "the torchvision target needs frame indices") {
		t.Errorf("timestamps imported for --target torchvision: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = vc(t, home, "import", fx+"malicious-extra.pt", "--out", out, "--force")
	if r.code != 0 || r.stdout != out+"\n" || !strings.Contains(r.stderr, "WARNING") || !strings.Contains(r.stderr, "posix.system") {
		t.Errorf("malicious import with --force: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := vc(t, home, "audit", out); r.code != 0 {
		t.Errorf("the imported cache is not safe: %s", r.stdout)
	}
	r = vc(t, home, "import", fx+"refuse-unknown-layout.pt", "--out", out+".2")
	if r.code != exitUsage || !strings.Contains(r.stderr, "refused") {
		t.Errorf("refusal: exit %d %q", r.code, r.stderr)
	}
	if _, err := os.Stat(out + ".2"); err == nil {
		t.Error("refused import wrote a file")
	}
}

// TestImportRegistered: an imported cache carries extensions derived from
// its videos, is registered (list shows it, gc keeps it even in
// $VIDCACHE_HOME/caches, refresh leaves it, verify --root checks it), and
// inspect says it was imported; a vidcache cache imports with its own clip
// options, frame rate and target.
func TestImportRegistered(t *testing.T) {
	home := t.TempDir()
	root := copySample(t, t.TempDir())
	out := filepath.Join(home, "caches", "imported.pt")
	fx := "../../indexer/testdata/import/tv0.21-reference-script.pt"
	r := vc(t, home, "import", fx, "--dataset-root", root, "--out", out, "--json")
	var res indexer.ImportResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != exitOK {
		t.Fatalf("%v: %s %s", err, r.stdout, r.stderr)
	}
	if !slices.Equal(res.Extensions, []string{"avi", "mp4"}) || res.Target != vocab.TargetPyAV || res.Indexed != 16 {
		t.Errorf("import: %+v", res)
	}
	var list []indexer.ListEntry
	json.Unmarshal([]byte(vc(t, home, "list", "--json").stdout), &list)
	if len(list) != 1 || list[0].Path != out || list[0].State != indexer.ListImported || list[0].Videos != 16 {
		t.Errorf("list: %+v", list)
	}
	if r := vc(t, home, "gc"); r.code != exitOK {
		t.Fatal(r.stderr)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("gc deleted the imported cache: %v", err)
	}
	if r := vc(t, home, "refresh", "--all", "--json"); !strings.Contains(r.stdout, `"state":"imported"`) {
		t.Errorf("refresh: %s %s", r.stdout, r.stderr)
	}
	if r := vc(t, home, "verify", "--root", root, out); r.code != exitOK {
		t.Errorf("verify --root: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := vc(t, home, "inspect", out); !strings.Contains(r.stdout, "imported from a torchvision cache by vidcache") || strings.Contains(r.stdout, "FFmpeg  ") {
		t.Errorf("inspect:\n%s", r.stdout)
	}
	// A vidcache cache, imported.
	built := filepath.Join(t.TempDir(), "built.pt")
	if r := vc(t, home, "build", root, "--frame-rate", "15", "--frames-per-clip", "8", "--extensions", "mp4", "--out", built, "--quiet"); r.code != exitOK {
		t.Fatal(r.stderr)
	}
	res = indexer.ImportResult{}
	r = vc(t, home, "import", built, "--out", filepath.Join(t.TempDir(), "again.pt"), "--no-index", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.FrameRate == nil || *res.FrameRate != 15 || res.FramesPerClip != 8 ||
		!slices.Equal(res.Extensions, []string{"mp4"}) || res.Target != vocab.TargetTorchvision || res.LabelsFrom != "cache" {
		t.Errorf("vidcache cache import: %v %s %s", err, r.stdout, r.stderr)
	}
}
