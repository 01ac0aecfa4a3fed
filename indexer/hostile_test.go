package indexer

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vidcache/vidcache/cachefmt"

	"github.com/vidcache/vidcache/cachefmt/clips"
	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// TestSpecialFiles: FIFOs, sockets, devices and dangling symlinks named like
// videos are recorded (never opened, so nothing blocks), a folder named like
// a video is not a video, and the build goes on.
func TestSpecialFiles(t *testing.T) {
	root := copySample(t)
	cls := filepath.Join(root, "train", "juggling")
	if err := syscall.Mkfifo(filepath.Join(cls, "fifo.mp4"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", filepath.Join(cls, "socket.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	os.Symlink("/dev/zero", filepath.Join(cls, "device.mp4"))
	os.Symlink("nowhere.mp4", filepath.Join(cls, "dangling.mp4"))
	os.Mkdir(filepath.Join(cls, "folder.mp4"), 0o755)

	ix := openIx(t)
	done := make(chan *BuildResult, 1)
	go func() {
		res, _ := build(t, ix, root, nil)
		done <- res
	}()
	var res *BuildResult
	select {
	case res = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("build blocked on a special file")
	}
	want := map[string]vocab.Status{
		"fifo.mp4": vocab.StatusNotRegular, "socket.mp4": vocab.StatusNotRegular, "device.mp4": vocab.StatusNotRegular, "dangling.mp4": vocab.StatusMissing,
	}
	got := map[string]vocab.Status{}
	for _, f := range res.FailedAt {
		got[filepath.Base(f.Path)] = f.Status
		if f.Error == "" {
			t.Errorf("%s: no cause recorded", f.Path)
		}
	}
	for name, status := range want {
		if got[name] != status {
			t.Errorf("%s: status %q, want %q (all: %v)", name, got[name], status, got)
		}
	}
	if res.Videos != 20 || res.Failures[string(vocab.StatusNotRegular)] != 3 || res.Failures[string(vocab.StatusMissing)] != 1 {
		t.Errorf("result %+v", res)
	}
	// Unchanged special files are not re-recorded; the second build reuses all.
	if res2, probed := build(t, ix, root, nil); len(probed) != 0 || res2.Reused != 20 || res2.Written {
		t.Errorf("second build: probed %v, %+v", probed, res2)
	}
}

// TestFileVanishesBetweenScanAndProbe: a file removed after the scan is
// recorded as failing to open, and one replaced during its probe is stored
// as stale so the next build probes it again.
func TestFileVanishesBetweenScanAndProbe(t *testing.T) {
	root := copySample(t)
	ix := openIx(t)
	ctx := context.Background()
	p, err := newPlan(ctx, ix, BuildOptions{Config: cachefmt.Config{Root: root, Spec: clips.Spec{FramesPerClip: 4, StepBetweenClips: 1}}, Out: filepath.Join(t.TempDir(), "c.pt")})
	if err != nil {
		t.Fatal(err)
	}
	gone := filepath.Join(root, "train", "abseiling", "h264-30fps.mp4")
	os.Remove(gone)
	var rows []*Row
	_, _, err = p.run(ctx, p.todo, func(_ int, r *Row) { rows = append(rows, r) })
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Path == gone {
			if r.Status != vocab.StatusOpenFailed || !strings.Contains(r.Error, "No such file") || r.MtimeNs != -1 {
				t.Errorf("vanished file stored as %+v", r)
			}
			return
		}
	}
	t.Fatal("no row for the vanished file")
}
