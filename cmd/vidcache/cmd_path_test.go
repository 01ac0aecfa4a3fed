package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPathExitCodes(t *testing.T) {
	home := t.TempDir()
	root := copySample(t, t.TempDir())
	r := vc(t, home, "path", root, "--frame-rate", "15")
	if r.code != exitStale || r.stdout != "" || !strings.Contains(r.stderr, "no cache file") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("missing cache: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	r = vc(t, home, "path", "--ensure", root, "--frame-rate", "15")
	if r.code != 0 || !strings.HasSuffix(r.stdout, ".pt\n") {
		t.Fatalf("--ensure: exit %d %q %s", r.code, r.stdout, r.stderr)
	}
	cache := strings.TrimSpace(r.stdout)
	if r = vc(t, home, "path", root, "--frame-rate", "15"); r.code != 0 || strings.TrimSpace(r.stdout) != cache {
		t.Errorf("fresh: exit %d %q", r.code, r.stdout)
	}
	b, _ := os.ReadFile(filepath.Join(root, "train/abseiling/h264-25fps.mp4"))
	os.WriteFile(filepath.Join(root, "train/abseiling/extra.mp4"), b, 0o644)
	if r = vc(t, home, "path", root, "--frame-rate", "15"); r.code != exitStale || !strings.Contains(r.stderr, "stale: 1 new video") {
		t.Errorf("stale: exit %d stderr %q", r.code, r.stderr)
	}
	if r = vc(t, home, "status", root, "--frame-rate", "15", "--verbose"); r.code != exitStale || !strings.Contains(r.stdout, "new "+filepath.Join(root, "train/abseiling/extra.mp4")) {
		t.Errorf("status --verbose: %s", r.stdout)
	}
	if r = vc(t, home, "path", "--ensure", root, "--frame-rate", "15"); r.code != 0 || strings.TrimSpace(r.stdout) != cache {
		t.Errorf("--ensure after a change: exit %d %q %s", r.code, r.stdout, r.stderr)
	}
	if r = vc(t, home, "status", root, "--frame-rate", "15", "--failed"); !strings.Contains(r.stdout, "failed "+filepath.Join(root, "train/juggling/zero-bytes.mp4")+": open_failed") {
		t.Errorf("status --failed: %s", r.stdout)
	}
}

// TestPathEnsureReports: path --ensure leaves one line in the job log of
// what changed and what it probed and failed, the path alone on stdout;
// --strict fails on failed videos, --json reports both, --verbose speaks
// even when the cache is fresh.
func TestPathEnsureReports(t *testing.T) {
	home := t.TempDir()
	root := copySample(t, t.TempDir())
	r := vc(t, home, "path", "--ensure", root)
	if r.code != exitOK || strings.Count(r.stdout, "\n") != 1 || !strings.HasSuffix(r.stdout, ".pt\n") {
		t.Fatalf("first: exit %d stdout %q stderr %s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "vidcache: stale: 16 new videos; no cache file at") ||
		!strings.Contains(r.stderr, "vidcache: built "+strings.TrimSpace(r.stdout)+": 16 new, 0 changed, 0 removed; 16 videos: 16 probed, 0 reused, 2 failed (") ||
		!strings.Contains(r.stderr, "  failed "+filepath.Join(root, "train/juggling/zero-bytes.mp4")+": open_failed") {
		t.Errorf("first build's log:\n%s", r.stderr)
	}
	if r = vc(t, home, "path", "--ensure", root); r.code != exitOK || r.stderr != "" {
		t.Errorf("fresh: exit %d, stderr %q (want silence)", r.code, r.stderr)
	}
	// A video touched but not changed (and the symlink to it): probed again,
	// the cache's content stays what it was.
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(filepath.Join(root, "train/abseiling/h264-25fps.mp4"), later, later); err != nil {
		t.Fatal(err)
	}
	if r = vc(t, home, "path", "--ensure", root); r.code != exitOK || !strings.Contains(r.stderr, "vidcache: unchanged "+strings.TrimSpace(r.stdout)+": 0 new, 2 changed, 0 removed; 16 videos: 2 probed, 14 reused") {
		t.Errorf("touched: exit %d, stderr %q", r.code, r.stderr)
	}
	if r = vc(t, home, "path", "--ensure", "--verbose", root); !strings.Contains(r.stderr, "vidcache: fresh ") || !strings.Contains(r.stderr, "16 videos, 2 failed") {
		t.Errorf("fresh --verbose: %q", r.stderr)
	}
	b, _ := os.ReadFile(filepath.Join(root, "train/abseiling/h264-25fps.mp4"))
	os.WriteFile(filepath.Join(root, "train/abseiling/extra.mp4"), b, 0o644)
	os.Remove(filepath.Join(root, "train/abseiling/h264-30fps.mp4"))
	r = vc(t, home, "path", "--ensure", "--strict", root)
	if r.code != exitError || !strings.Contains(r.stderr, "vidcache: rebuilt "+strings.TrimSpace(r.stdout)+": 1 new, 0 changed, 1 removed; 16 videos: 1 probed, 15 reused, 2 failed") ||
		!strings.Contains(r.stderr, "--strict: 2 of 16 videos failed") || !strings.HasSuffix(r.stdout, ".pt\n") {
		t.Errorf("--strict after a change: exit %d\nstdout %q\n%s", r.code, r.stdout, r.stderr)
	}
	var rep pathReport
	r = vc(t, home, "path", "--ensure", "--json", root, "--frames-per-clip", "8")
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Fresh || rep.Build == nil || rep.Build.Probed != 0 || rep.Status.Counts.New != 0 || !strings.Contains(rep.Status.Reason(), "no cache file") {
		t.Errorf("--json: %v %s", err, r.stdout)
	}
}

// TestLookupByDataset: path and status find a dataset's cache whatever clip
// options it was built with (torchvision recomputes clips); clip options
// given explicitly are honoured, and a cache for them probes nothing.
func TestLookupByDataset(t *testing.T) {
	home := t.TempDir()
	root := copySample(t, t.TempDir())
	r := vc(t, home, "build", root, "--frame-rate", "15", "--frames-per-clip", "8")
	if r.code != exitOK {
		t.Fatal(r.stderr)
	}
	cache := strings.TrimSpace(r.stdout)
	if r = vc(t, home, "path", root); r.code != exitOK || strings.TrimSpace(r.stdout) != cache {
		t.Errorf("path without clip options: exit %d %q %s", r.code, r.stdout, r.stderr)
	}
	if r = vc(t, home, "status", root); r.code != exitOK || !strings.HasPrefix(r.stdout, cache+"\nfresh") {
		t.Errorf("status without clip options: exit %d %q", r.code, r.stdout)
	}
	if r = vc(t, home, "path", root, "--target", "torchvision-pyav"); r.code != exitStale {
		t.Errorf("another target found a cache: exit %d %q", r.code, r.stdout)
	}
	if r = vc(t, home, "path", root, "--frames-per-clip", "4"); r.code != exitStale || !strings.Contains(r.stderr, "no cache file") {
		t.Errorf("explicit clip options: exit %d %q", r.code, r.stderr)
	}
	var rep pathReport
	r = vc(t, home, "path", "--ensure", "--json", root, "--frames-per-clip", "4")
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Build == nil || rep.Build.Probed != 0 || rep.Cache == cache {
		t.Errorf("--ensure with other clip options: %v %s", err, r.stdout)
	}
	// A change: path --ensure without clip options rebuilds the newest
	// cache of the dataset, in place.
	b, _ := os.ReadFile(filepath.Join(root, "train/abseiling/h264-25fps.mp4"))
	os.WriteFile(filepath.Join(root, "train/abseiling/extra.mp4"), b, 0o644)
	rep = pathReport{}
	r = vc(t, home, "path", "--ensure", "--json", root)
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Build == nil || rep.Build.Probed != 1 || rep.Cache != rep.Status.Cache {
		t.Errorf("--ensure after a change: %v %s", err, r.stdout)
	}
}
