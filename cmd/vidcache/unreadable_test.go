package main

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

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
	root := filepath.Join(base, "ds")
	if err := os.CopyFS(root, os.DirFS(sample(t))); err != nil {
		t.Fatal(err)
	}
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
			found = f.Status == "open_failed" && strings.Contains(f.Error, "Permission denied")
		}
	}
	if res.Videos != 16 || !found {
		t.Errorf("unreadable file not recorded as open_failed/Permission denied: %+v", res)
	}
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	out.Close()
}
