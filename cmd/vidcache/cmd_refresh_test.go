package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vidcache/vidcache/indexer"
)

// TestGC: gc forgets the index rows of vanished videos, unregisters caches
// whose file is gone, deletes unregistered files and stale temporaries in
// $VIDCACHE_HOME/caches, and keeps registered caches; --dry-run only lists.
func TestGC(t *testing.T) {
	home := t.TempDir()
	root := copySample(t, t.TempDir())
	r := vc(t, home, "build", root)
	if r.code != exitOK {
		t.Fatal(r.stderr)
	}
	cache := strings.TrimSpace(r.stdout)
	other := filepath.Join(t.TempDir(), "elsewhere.pt")
	if r := vc(t, home, "build", root, "--frames-per-clip", "8", "--out", other, "--quiet"); r.code != exitOK {
		t.Fatal(r.stderr)
	}
	caches := filepath.Join(home, "caches")
	stray := filepath.Join(caches, "stray.pt")
	tmp := filepath.Join(caches, "."+filepath.Base(cache)+".tmp-123")
	for _, p := range []string{stray, tmp} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gone := filepath.Join(root, "train", "abseiling", "h264-30fps.mp4")
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(other); err != nil {
		t.Fatal(err)
	}
	var dry indexer.GCReport
	r = vc(t, home, "gc", "--dry-run", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &dry); err != nil || !dry.DryRun {
		t.Fatalf("%v: %s %s", err, r.stdout, r.stderr)
	}
	for _, p := range []string{stray, tmp} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("--dry-run removed %s", p)
		}
	}
	var rep indexer.GCReport
	r = vc(t, home, "gc", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v: %s %s", err, r.stdout, r.stderr)
	}
	slices.Sort(rep.DeletedFiles)
	if !slices.Equal(rep.ForgottenVideos, []string{gone}) || !slices.Equal(rep.Unregistered, []string{other}) ||
		!slices.Equal(rep.DeletedFiles, []string{tmp, stray}) {
		t.Errorf("gc: %+v", rep)
	}
	if !slices.Equal(dry.ForgottenVideos, rep.ForgottenVideos) || !slices.Equal(dry.Unregistered, rep.Unregistered) {
		t.Errorf("--dry-run listed %+v, gc did %+v", dry, rep)
	}
	for _, p := range []string{stray, tmp} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("gc kept %s", p)
		}
	}
	if _, err := os.Stat(cache); err != nil {
		t.Errorf("gc deleted the registered cache: %v", err)
	}
}
