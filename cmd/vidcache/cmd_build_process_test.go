package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vidcache/vidcache/indexer"
)

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
