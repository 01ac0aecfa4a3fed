package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// smallFS mounts a 1 MB tmpfs for the test (root only).
func smallFS(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("cannot mount a small tmpfs under CI: %v %s", err, out)
		}
		t.Skipf("cannot mount a small tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// TestDiskFull: when the cache cannot be written for lack of space, the
// error names the file and the cause, the previous cache is untouched, and
// the index stays consistent; with space again the build completes.
func TestDiskFull(t *testing.T) {
	fs := smallFS(t)
	home := t.TempDir()
	root := filepath.Join(t.TempDir(), "ds")
	if err := os.CopyFS(root, os.DirFS(sample(t))); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(fs, "cache.pt")
	if r := vc(t, home, "build", root, "--out", out, "--quiet"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	old, _ := os.ReadFile(out)
	// Fill the file system, leaving less room than a new cache needs.
	filler, _ := os.Create(filepath.Join(fs, "filler"))
	filler.Write(make([]byte, 1<<20))
	filler.Close()
	b, _ := os.ReadFile(filepath.Join(root, "train/abseiling/h264-25fps.mp4"))
	os.WriteFile(filepath.Join(root, "train/abseiling/more.mp4"), b, 0o644)

	r := vc(t, home, "build", root, "--out", out, "--quiet")
	if r.code != exitError || !strings.Contains(r.stderr, out) || !strings.Contains(r.stderr, "no space left on device") {
		t.Errorf("disk full: exit %d stderr %q", r.code, r.stderr)
	}
	if now, _ := os.ReadFile(out); !bytes.Equal(now, old) {
		t.Error("the previous cache was changed")
	}
	if left, _ := filepath.Glob(filepath.Join(fs, ".cache.pt.tmp-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if n := integrityOK(t, filepath.Join(home, "index.db")); n != 17 {
		t.Errorf("index holds %d videos, want 17 (the new one committed)", n)
	}
	// The stale cache is reported as such.
	if r := vc(t, home, "status", root, "--out", out); !strings.Contains(r.stdout, "differs from the index") {
		t.Errorf("status after a failed write: %s", r.stdout)
	}
	os.Remove(filepath.Join(fs, "filler"))
	if r := vc(t, home, "build", root, "--out", out, "--json"); r.code != 0 || !strings.Contains(r.stdout, `"probed":0`) || !strings.Contains(r.stdout, `"written":true`) {
		t.Errorf("after freeing space: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
}
