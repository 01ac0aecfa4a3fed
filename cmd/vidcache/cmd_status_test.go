package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidcache/vidcache/cachefmt/vocab"
	"github.com/vidcache/vidcache/indexer"
)

// TestStatus: status reports fresh after a build and names what changed
// after the dataset changes, probing nothing, in text and --json; --failed
// lists the videos without timestamps with their causes; another target
// has no cache yet.
func TestStatus(t *testing.T) {
	home := t.TempDir()
	root := copySample(t, t.TempDir())
	if r := vc(t, home, "build", root, "--quiet"); r.code != exitOK {
		t.Fatal(r.stderr)
	}
	r := vc(t, home, "status", root, "--failed")
	if r.code != exitOK || !strings.Contains(r.stdout, "\nfresh; 16 videos; cache file matches the index\n") ||
		strings.Count(r.stdout, "  failed ") != 2 || !strings.Contains(r.stdout, "not-a-video.mp4: open_failed: open: Invalid data") {
		t.Errorf("fresh: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	added := filepath.Join(root, "train", "juggling", "added.mp4")
	b, err := os.ReadFile(filepath.Join(root, "train", "juggling", "nested", "z.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(added, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "train", "abseiling", "h264-30fps.mp4")); err != nil {
		t.Fatal(err)
	}
	r = vc(t, home, "status", root, "--json", "--verbose")
	var s indexer.StatusReport
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if s.Fresh || len(s.New) != 1 || s.New[0] != added || len(s.Removed) != 1 || s.Videos != 16 || s.Target != vocab.TargetTorchvision || s.Mode != vocab.ModeScan {
		t.Errorf("after a change: %+v", s)
	}
	r = vc(t, home, "status", root, "--json")
	if r.code != exitStale || strings.Contains(r.stdout, `"new":[`) || !strings.Contains(r.stdout, `"counts":{"new":1,"changed":0,"removed":1}`) {
		t.Errorf("--json without --verbose: exit %d %s", r.code, r.stdout)
	}
	r = vc(t, home, "status", root, "--verbose")
	if !strings.Contains(r.stdout, "stale: 1 new video; 1 removed video") || !strings.Contains(r.stdout, "  new "+added) {
		t.Errorf("verbose:\n%s", r.stdout)
	}
	r = vc(t, home, "status", root, "--target", "torchvision-pyav")
	if !strings.Contains(r.stdout, "no cache file at ") || !strings.Contains(r.stdout, "-pyav-fast-") {
		t.Errorf("other target:\n%s", r.stdout)
	}
}
