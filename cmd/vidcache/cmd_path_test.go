package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
