package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vidcache/vidcache/cachefmt/vocab"
)

func TestBuildIncremental(t *testing.T) {
	home := t.TempDir()
	root := sample(t)
	first := buildJ(t, home, root, "--created-unix", "1")
	if first.Videos != 16 || first.Probed != 16 || first.Reused != 0 || first.Failed != 2 || !first.Written {
		t.Fatalf("first build: %+v", first)
	}
	if first.Failures["open_failed"] != 2 || first.Clips == 0 {
		t.Errorf("first build: %+v", first)
	}
	if first.DB != filepath.Join(home, "index.db") || !strings.HasPrefix(first.Cache, filepath.Join(home, "caches")+"/") {
		t.Errorf("default paths: cache %s db %s", first.Cache, first.DB)
	}
	before, err := os.Stat(first.Cache)
	if err != nil {
		t.Fatal(err)
	}

	again := buildJ(t, home, root, "--created-unix", "2")
	if again.Probed != 0 || again.Reused != 16 || again.Written || again.Cache != first.Cache {
		t.Errorf("no-change rebuild: %+v", again)
	}
	after, _ := os.Stat(first.Cache)
	if !after.ModTime().Equal(before.ModTime()) {
		t.Error("no-change rebuild rewrote the cache")
	}

	clips := buildJ(t, home, root, "--frames-per-clip", "8", "--frame-rate", "30000/1001")
	if clips.Probed != 0 || !clips.Written || clips.Cache == first.Cache || clips.Clips == first.Clips {
		t.Errorf("clip-option change: %+v", clips)
	}

	exact := buildJ(t, home, root, "--target", "torchvision-pyav", "--mode", "exact")
	if exact.Probed != 16 {
		t.Errorf("a different mode must re-probe: %+v", exact)
	}

	r := vc(t, home, "inspect", first.Cache)
	if r.code != 0 || !strings.Contains(r.stdout, "totals: 16 videos (2 without timestamps)") ||
		!strings.Contains(r.stdout, `"playing guitar"`) {
		t.Errorf("inspect: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = vc(t, home, "inspect", "--json", first.Cache)
	var rep struct {
		Globals  []string `json:"globals"`
		Vidcache struct {
			Videos int `json:"videos"`
		} `json:"vidcache"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Vidcache.Videos != 16 {
		t.Errorf("inspect --json: %v %s", err, r.stdout)
	}
}

func TestBuildPrintsPath(t *testing.T) {
	home := t.TempDir()
	out := filepath.Join(t.TempDir(), "my cache.pt")
	r := vc(t, home, "build", sample(t), "--out", out, "--quiet")
	if r.code != 0 || r.stdout != out+"\n" || r.stderr != "" {
		t.Fatalf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	r = vc(t, home, "build", sample(t), "--out", out)
	if !strings.Contains(r.stderr, "16 videos in 5 classes: 0 probed, 16 reused, 2 failed") ||
		!strings.Contains(r.stderr, "not-a-video.mp4: open_failed") {
		t.Errorf("summary: %s", r.stderr)
	}
}

// TestUnreadableFile: a file the user may not read is recorded with its
// cause and the build goes on. Tests run as root, who reads everything, so
// the build runs as nobody (uid 65534) from a copy of this test binary.
func TestUnreadableFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch to another user")
	}
	base, err := os.MkdirTemp("", "vidcache-unreadable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755)
	exe := filepath.Join(base, "vidcache.test")
	copyFile(t, os.Args[0], exe, 0o755)
	root := copySample(t, base)
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			if fi.IsDir() {
				os.Chmod(p, 0o755)
			} else {
				os.Chmod(p, 0o644)
			}
		}
		return nil
	})
	secret := filepath.Join(root, "train", "abseiling", "h264-30fps.mp4")
	os.Chmod(secret, 0)
	home := filepath.Join(base, "home")
	os.Mkdir(home, 0o777)
	os.Chmod(home, 0o777)

	cmd := exec.Command(exe, "build", root, "--json", "--jobs", "1")
	cmd.Env = append(os.Environ(), "VIDCACHE_TEST_MAIN=1", "VIDCACHE_HOME="+home)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("build as nobody: %v %s", err, out)
	}
	var res struct {
		Videos int
		Failed []struct{ Path, Status, Error string } `json:"failed_videos"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range res.Failed {
		if f.Path == secret {
			found = vocab.Status(f.Status) == vocab.StatusOpenFailed && strings.Contains(f.Error, "Permission denied")
		}
	}
	if res.Videos != 16 || !found {
		t.Errorf("unreadable file not recorded as open_failed/Permission denied: %+v", res)
	}
}

// TestDiskFull: when the cache cannot be written for lack of space, the
// error names the file and the cause, the previous cache is untouched, and
// the index stays consistent; with space again the build completes.
func TestDiskFull(t *testing.T) {
	fs := smallFS(t)
	home := t.TempDir()
	root := copySample(t, t.TempDir())
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
