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

// TestList: every registered cache with its dataset, target, mode, clip
// options, counts and state (fresh, stale after a change, missing after the
// file is removed); gc keeps what list shows and drops what is gone.
func TestList(t *testing.T) {
	home := t.TempDir()
	root := copySample(t, t.TempDir())
	if r := vc(t, home, "list"); r.code != exitOK || !strings.Contains(r.stderr, "no caches registered") {
		t.Errorf("empty: %+v", r)
	}
	for _, args := range [][]string{{}, {"--target", "torchvision-pyav", "--mode", "exact", "--frame-rate", "15"}} {
		if r := vc(t, home, append([]string{"build", root, "--quiet"}, args...)...); r.code != exitOK {
			t.Fatal(r.stderr)
		}
	}
	var list []indexer.ListEntry
	r := vc(t, home, "list", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 2 {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	byMode := map[vocab.Mode]indexer.ListEntry{}
	for _, c := range list {
		byMode[c.Mode] = c
		if c.State != indexer.ListFresh || c.Root != root || c.Split != "train" || c.Videos != 16 || c.Failed != 2 || c.Size <= 0 || c.CreatedUnix == 0 {
			t.Errorf("entry %+v", c)
		}
	}
	if tv, py := byMode[vocab.ModeScan], byMode[vocab.ModeExact]; tv.Target != vocab.TargetTorchvision || py.Target != vocab.TargetPyAV || py.FrameRate == nil || *py.FrameRate != 15 || tv.FramesPerClip != 16 {
		t.Errorf("configurations: %+v / %+v", tv, py)
	}
	if err := os.Remove(filepath.Join(root, "train", "abseiling", "h264-30fps.mp4")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(byMode["exact"].Path); err != nil {
		t.Fatal(err)
	}
	r = vc(t, home, "list")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "STATE") || !strings.Contains(r.stdout, "stale  ") || !strings.Contains(r.stdout, "missing  ") ||
		!strings.Contains(r.stdout, "16/1/native") || !strings.Contains(r.stdout, "16/1/15") {
		t.Errorf("text:\n%s", r.stdout)
	}
	if r := vc(t, home, "gc"); r.code != exitOK {
		t.Fatal(r.stderr)
	}
	list = nil
	json.Unmarshal([]byte(vc(t, home, "list", "--json").stdout), &list)
	if len(list) != 1 || list[0].Mode != vocab.ModeScan {
		t.Errorf("after gc: %+v", list)
	}
	if _, err := os.Stat(list[0].Path); err != nil {
		t.Errorf("gc removed a cache list shows: %v", err)
	}
}
