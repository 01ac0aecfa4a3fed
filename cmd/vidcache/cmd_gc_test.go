package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vidcache/vidcache/cachefmt"
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
	old := time.Now().Add(-2 * cachefmt.StaleAfter) // left by an old, killed write
	for _, p := range []string{stray, tmp} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old)
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

// TestGCDuringBuilds: gc run over and over while builds write their caches
// into $VIDCACHE_HOME/caches never takes a running build's temporary.
func TestGCDuringBuilds(t *testing.T) {
	home := t.TempDir()
	var roots []string
	for i := 0; i < 3; i++ {
		roots = append(roots, bigDataset(t, 1500))
	}
	done := make(chan struct{})
	gcErr := make(chan string, 1)
	go func() {
		defer close(gcErr)
		for {
			select {
			case <-done:
				return
			default:
			}
			if out, err := vcProc(home, "gc").CombinedOutput(); err != nil {
				select {
				case gcErr <- err.Error() + ": " + string(out):
				default:
				}
			}
		}
	}()
	errs := make(chan string, len(roots))
	for i, root := range roots {
		go func() {
			out, err := vcProc(home, "build", root, "--frames-per-clip", strconv.Itoa(4+i), "--quiet").CombinedOutput()
			if err != nil {
				errs <- fmt.Sprintf("build %d: %v\n%s", i, err, out)
				return
			}
			errs <- ""
		}()
	}
	for range roots {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
	close(done)
	if e := <-gcErr; e != "" {
		t.Logf("a gc failed (allowed while builds hold the index): %s", e)
	}
	if r := vc(t, home, "list", "--json"); strings.Count(r.stdout, `"state":"fresh"`) != 3 {
		t.Errorf("after the builds: %s", r.stdout)
	}
}

// TestGCKeepsOtherIndexesCaches: a cache in $VIDCACHE_HOME/caches that
// another index registered (build --db) survives a plain gc; while that
// index cannot be read, gc deletes no unregistered cache at all; once the
// index is gone, the cache is nobody's and gc removes it.
func TestGCKeepsOtherIndexesCaches(t *testing.T) {
	home := t.TempDir()
	root := copySample(t, t.TempDir())
	project := filepath.Join(t.TempDir(), "project.db")
	r := vc(t, home, "build", root, "--db", project)
	if r.code != exitOK {
		t.Fatal(r.stderr)
	}
	cache := strings.TrimSpace(r.stdout)
	if filepath.Dir(cache) != filepath.Join(home, "caches") {
		t.Fatalf("cache %s not in the home", cache)
	}
	stray := filepath.Join(home, "caches", "stray.pt")
	os.WriteFile(stray, []byte("x"), 0o644)
	old := time.Now().Add(-2 * cachefmt.StaleAfter)
	age := func() {
		for _, p := range []string{cache, stray} {
			os.Chtimes(p, old, old)
		}
	}
	gc := func() indexer.GCReport {
		t.Helper()
		age()
		var rep indexer.GCReport
		r := vc(t, home, "gc", "--json")
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("%v: %s %s", err, r.stdout, r.stderr)
		}
		return rep
	}
	if rep := gc(); !slices.Equal(rep.DeletedFiles, []string{stray}) {
		t.Errorf("gc with the project index readable: %+v", rep)
	}
	if _, err := os.Stat(cache); err != nil {
		t.Fatalf("gc deleted the project index's cache: %v", err)
	}
	os.WriteFile(stray, []byte("x"), 0o644)
	good, err := os.ReadFile(project)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(project + "-wal")
	os.Remove(project + "-shm")
	if err := os.WriteFile(project, []byte("not an index"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := gc()
	slices.Sort(rep.Kept)
	if len(rep.DeletedFiles) != 0 || !slices.Equal(rep.Kept, []string{cache, stray}) || len(rep.KeptBecause) != 1 {
		t.Errorf("gc with the project index unreadable: %+v", rep)
	}
	_ = good
	os.Remove(project)
	rep = gc()
	slices.Sort(rep.DeletedFiles)
	if !slices.Equal(rep.DeletedFiles, []string{cache, stray}) {
		t.Errorf("gc after the project index was removed: %+v", rep)
	}
}
