package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vidcache/vidcache/indexer"
)

// TestMain lets the test binary act as the vidcache command, so the tests
// below can run, signal and kill real processes.
func TestMain(m *testing.M) {
	if os.Getenv("VIDCACHE_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func vcProc(home string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "VIDCACHE_TEST_MAIN=1", "VIDCACHE_HOME="+home)
	return cmd
}

// bigDataset hard-links the sample's clean videos into n files over 20 classes.
func bigDataset(t *testing.T, n int) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "big")
	src := filepath.Join(sample(t), "train")
	files := []string{"abseiling/h264-25fps.mp4", "abseiling/h264-30fps.mp4", "playing guitar/mpeg4-bframes.avi", "playing guitar/mpeg4-lavc.mp4", "juggling/audio-first.mp4"}
	for i := 0; i < n; i++ {
		dir := filepath.Join(root, "train", fmt.Sprintf("class%02d", i%20))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		f := files[i%len(files)]
		if err := os.Link(filepath.Join(src, f), filepath.Join(dir, fmt.Sprintf("v%05d%s", i, filepath.Ext(f)))); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// committedRows counts the videos a running build has committed so far; 0
// while the index does not exist yet or cannot be read.
func committedRows(db string) int {
	if _, err := os.Stat(db); err != nil {
		return 0
	}
	ix, err := indexer.OpenIndex(context.Background(), db)
	if err != nil {
		return 0
	}
	defer ix.Close()
	var n int
	ix.DB().QueryRow(`SELECT COUNT(*) FROM videos`).Scan(&n)
	return n
}

func integrityOK(t *testing.T, db string) int {
	t.Helper()
	ix, err := indexer.OpenIndex(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	var res string
	if err := ix.DB().QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check: %q %v", res, err)
	}
	var n int
	ix.DB().QueryRow(`SELECT COUNT(*) FROM videos`).Scan(&n)
	return n
}

// TestKillAndResume SIGKILLs builds at 20 random points across runs (probing,
// committing, writing the cache), checks the index and the cache path after
// each kill, then finishes: nothing committed is probed again and the cache
// is byte-identical to an uninterrupted build's.
func TestKillAndResume(t *testing.T) {
	const n = 1500
	root := bigDataset(t, n)
	args := func(home, out string) []string {
		return []string{"build", root, "--target", "torchvision-pyav", "--mode", "exact", "--jobs", "2", "--out", out, "--created-unix", "42", "--json"}
	}
	// The reference: one clean build.
	refHome := t.TempDir()
	ref := filepath.Join(t.TempDir(), "ref.pt")
	start := time.Now()
	if out, err := vcProc(refHome, args(refHome, ref)...).CombinedOutput(); err != nil {
		t.Fatalf("clean build: %v\n%s", err, out)
	}
	full := time.Since(start)
	t.Logf("clean build of %d videos: %v", n, full)

	home := t.TempDir()
	db := filepath.Join(home, "index.db")
	out := filepath.Join(t.TempDir(), "c.pt")
	committed := 0
	midway := false
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	t.Logf("kill points seeded with %d", seed)
	for i := 0; i < 20; i++ {
		frac := 0.02 + 0.5*rng.Float64()
		cmd := vcProc(home, args(home, out)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(frac * float64(full)))
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		rows := integrityOK(t, db)
		if rows < committed {
			t.Fatalf("kill %d: index lost rows (%d -> %d)", i, committed, rows)
		}
		committed = rows
		midway = midway || (rows > 0 && rows < n)
		if _, err := os.Stat(out); err == nil {
			if r, err := indexer.Verify(context.Background(), out, indexer.VerifyOptions{}); err != nil || !r.OK {
				t.Fatalf("kill %d left a bad cache: %+v %v", i, r, err)
			}
		}
	}
	if !midway {
		t.Fatalf("no kill landed mid-build (clean build took %v); the test proves nothing", full)
	}
	res := vcProc(home, args(home, out)...)
	b, err := res.Output()
	if err != nil {
		t.Fatalf("resumed build: %v", err)
	}
	var r struct{ Probed, Reused int }
	json.Unmarshal(b, &r)
	if r.Probed+r.Reused != n || r.Reused < committed {
		t.Errorf("resumed build probed %d, reused %d; %d were committed before", r.Probed, r.Reused, committed)
	}
	integrityOK(t, db)
	want, _ := os.ReadFile(ref)
	got, _ := os.ReadFile(out)
	if !bytes.Equal(want, got) {
		t.Error("the resumed build's cache differs from a clean build's")
	}
}

// TestInterruptStopsQuickly: SIGINT mid-build exits within a second with
// code 130, keeping the finished videos.
func TestInterruptStopsQuickly(t *testing.T) {
	root := bigDataset(t, 3000)
	home := t.TempDir()
	cmd := vcProc(home, "build", root, "--target", "torchvision-pyav", "--mode", "exact", "--jobs", "2")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once the first batch is committed, not after a fixed time:
	// on a loaded machine the walk alone can take longer than any sleep.
	db := filepath.Join(home, "index.db")
	for deadline := time.Now().Add(2 * time.Minute); committedRows(db) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("nothing committed after 2 minutes\n%s", stderr.String())
		}
	}
	sent := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	took := time.Since(sent)
	code := cmd.ProcessState.ExitCode()
	if code != exitInterrupt || took > time.Second {
		t.Errorf("after SIGINT: exit %d (%v) in %v\n%s", code, err, took, stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr: %s", stderr.String())
	}
	if rows := integrityOK(t, db); rows == 0 || rows == 3000 {
		t.Errorf("%d rows kept after the interrupt; want the finished part", rows)
	}
}

// TestConcurrentBuilds: two processes on one index, same and different
// datasets, both finish; no "database is locked".
func TestConcurrentBuilds(t *testing.T) {
	a, b := bigDataset(t, 600), bigDataset(t, 600)
	home := t.TempDir()
	outDir := t.TempDir()
	runs := [][]string{
		{"build", a, "--jobs", "1", "--out", filepath.Join(outDir, "a1.pt")},
		{"build", a, "--jobs", "1", "--out", filepath.Join(outDir, "a2.pt"), "--frames-per-clip", "8"},
		{"build", b, "--jobs", "1", "--out", filepath.Join(outDir, "b.pt")},
	}
	var wg sync.WaitGroup
	outs := make([][]byte, len(runs))
	errs := make([]error, len(runs))
	for i, args := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = vcProc(home, args...).CombinedOutput()
		}()
	}
	wg.Wait()
	for i := range runs {
		if errs[i] != nil || bytes.Contains(outs[i], []byte("locked")) {
			t.Errorf("build %v: %v\n%s", runs[i], errs[i], outs[i])
		}
	}
	for _, f := range []string{"a1.pt", "a2.pt", "b.pt"} {
		r, err := indexer.Verify(context.Background(), filepath.Join(outDir, f), indexer.VerifyOptions{})
		if err != nil || !r.OK || r.Videos != 600 {
			t.Errorf("%s: %+v %v", f, r, err)
		}
	}
	if rows := integrityOK(t, filepath.Join(home, "index.db")); rows != 1200 {
		t.Errorf("index holds %d videos, want 1200", rows)
	}
}

func TestPathExitCodes(t *testing.T) {
	home := t.TempDir()
	root := filepath.Join(t.TempDir(), "ds")
	if err := os.CopyFS(root, os.DirFS(sample(t))); err != nil {
		t.Fatal(err)
	}
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
	if r = vc(t, home, "status", root, "--frame-rate", "15", "--verbose"); r.code != 0 || !strings.Contains(r.stdout, "new "+filepath.Join(root, "train/abseiling/extra.mp4")) {
		t.Errorf("status --verbose: %s", r.stdout)
	}
	if r = vc(t, home, "path", "--ensure", root, "--frame-rate", "15"); r.code != 0 || strings.TrimSpace(r.stdout) != cache {
		t.Errorf("--ensure after a change: exit %d %q %s", r.code, r.stdout, r.stderr)
	}
	if r = vc(t, home, "status", root, "--frame-rate", "15", "--failed"); !strings.Contains(r.stdout, "failed "+filepath.Join(root, "train/juggling/zero-bytes.mp4")+": open_failed") {
		t.Errorf("status --failed: %s", r.stdout)
	}
}
