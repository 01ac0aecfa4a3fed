package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ranks runs n copies of the same command at once (the ranks of a training
// job), returning each one's stdout, stderr and error.
func ranks(t *testing.T, home string, n int, args ...string) (outs, errs [][]byte, fails []error) {
	t.Helper()
	outs, errs, fails = make([][]byte, n), make([][]byte, n), make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := vcProc(home, args...)
			var o, e bytes.Buffer
			cmd.Stdout, cmd.Stderr = &o, &e
			fails[i] = cmd.Run()
			outs[i], errs[i] = o.Bytes(), e.Bytes()
		}()
	}
	wg.Wait()
	return outs, errs, fails
}

// TestManyRanksShareTheWork: 8 processes run `path --ensure --json` (and
// then `build --json`) on the same stale dataset of 300 videos at once: the
// videos are probed about once in all (at most 330 probes), every process
// exits 0 with the same cache path, one cache is written, and the index
// passes integrity_check.
func TestManyRanksShareTheWork(t *testing.T) {
	const n, procs = 300, 8
	root := bigDataset(t, n)
	for _, cmdName := range []string{"path", "build"} {
		t.Run(cmdName, func(t *testing.T) {
			home := t.TempDir()
			args := []string{"path", "--ensure", "--json", root, "--target", "torchvision-pyav", "--mode", "exact"}
			if cmdName == "build" {
				args = []string{"build", "--json", root, "--target", "torchvision-pyav", "--mode", "exact", "--jobs", "2"}
			}
			outs, errs, fails := ranks(t, home, procs, args...)
			probes, written, caches := 0, 0, map[string]bool{}
			for i := range outs {
				if fails[i] != nil {
					t.Fatalf("rank %d: %v\n%s", i, fails[i], errs[i])
				}
				var b struct {
					Cache   string
					Probed  int
					Written bool
				}
				if cmdName == "path" {
					var r struct {
						Cache string
						Build *struct {
							Probed  int
							Written bool
						}
					}
					if err := json.Unmarshal(outs[i], &r); err != nil {
						t.Fatalf("rank %d: %v: %s", i, err, outs[i])
					}
					b.Cache = r.Cache
					if r.Build != nil {
						b.Probed, b.Written = r.Build.Probed, r.Build.Written
					}
				} else if err := json.Unmarshal(outs[i], &b); err != nil {
					t.Fatalf("rank %d: %v: %s", i, err, outs[i])
				}
				probes += b.Probed
				caches[b.Cache] = true
				if b.Written {
					written++
				}
			}
			t.Logf("%d processes: %d probes of %d videos, %d wrote the cache", procs, probes, n, written)
			if probes > n*11/10 {
				t.Errorf("%d probes for %d videos (want at most %d)", probes, n, n*11/10)
			}
			if len(caches) != 1 || written != 1 {
				t.Errorf("caches %v, written by %d processes; want one cache written once", caches, written)
			}
			integrityOK(t, filepath.Join(home, "index.db"))
			if claims := countClaims(t, filepath.Join(home, "index.db")); claims != 0 {
				t.Errorf("%d claims left behind", claims)
			}
		})
	}
}

// TestRankKilledMidway: of 4 processes building one dataset, one is
// SIGKILLed while it holds claims; the others take its videos over and
// finish with the same cache, every video is in the index, and the index
// passes integrity_check.
func TestRankKilledMidway(t *testing.T) {
	const n = 600
	root := bigDataset(t, n)
	home := t.TempDir()
	db := filepath.Join(home, "index.db")
	args := []string{"build", "--json", root, "--target", "torchvision-pyav", "--mode", "exact", "--created-unix", "7"}
	victim := vcProc(home, args...)
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once it holds claims and has committed something.
	for deadline := time.Now().Add(2 * time.Minute); committedRows(db) == 0 || countClaims(t, db) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			victim.Process.Kill()
			t.Fatal("the first build committed nothing in 2 minutes")
		}
	}
	var others []*exec.Cmd
	var outs []*bytes.Buffer
	for i := 0; i < 3; i++ {
		c := vcProc(home, args...)
		var o bytes.Buffer
		c.Stdout = &o
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		others, outs = append(others, c), append(outs, &o)
	}
	time.Sleep(100 * time.Millisecond)
	victim.Process.Signal(syscall.SIGKILL)
	victim.Wait()
	start := time.Now()
	var cache string
	for i, c := range others {
		if err := c.Wait(); err != nil {
			t.Fatalf("rank %d: %v", i, err)
		}
		var r struct{ Cache string }
		json.Unmarshal(outs[i].Bytes(), &r)
		if cache != "" && r.Cache != cache {
			t.Errorf("ranks disagree on the cache: %s, %s", cache, r.Cache)
		}
		cache = r.Cache
	}
	t.Logf("the survivors finished %v after the kill", time.Since(start))
	if rows := integrityOK(t, db); rows != n {
		t.Errorf("index holds %d videos, want %d", rows, n)
	}
	if _, err := os.Stat(cache); err != nil {
		t.Errorf("no cache: %v", err)
	}
	// The survivors' cache is what a clean build writes.
	refHome := t.TempDir()
	ref := filepath.Join(t.TempDir(), "ref.pt")
	if out, err := vcProc(refHome, append(args, "--out", ref)...).CombinedOutput(); err != nil {
		t.Fatalf("reference build: %v\n%s", err, out)
	}
	want, _ := os.ReadFile(ref)
	got, _ := os.ReadFile(cache)
	if !bytes.Equal(want, got) {
		t.Error("the survivors' cache differs from a clean build's")
	}
}

func countClaims(t *testing.T, db string) int { return countIn(db, "claims") }
