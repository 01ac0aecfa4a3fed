package cachefmt

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// lockedTemp creates a temporary of the cache at path held by a "live
// writer" (an open descriptor with the flock), released at the end.
func lockedTemp(t *testing.T, path, suffix string) string {
	t.Helper()
	p := filepath.Join(filepath.Dir(path), tempPrefix(filepath.Base(path))+suffix)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return p
}

// TestTemporaries: a successful write removes the temporaries killed writes
// of the same cache left behind, never a live writer's (locked, or created
// a moment ago and not locked yet), nor another cache's.
func TestTemporaries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.pt")
	stale := filepath.Join(dir, tempPrefix("c.pt")+"111")
	other := filepath.Join(dir, tempPrefix("d.pt")+"222")
	old := time.Now().Add(-2 * StaleAfter)
	fresh := filepath.Join(dir, tempPrefix("c.pt")+"444") // just created, not locked yet
	for _, p := range []string{stale, other, fresh} {
		if err := os.WriteFile(p, []byte("half a cache"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	live := lockedTemp(t, path, "333")
	for _, p := range []string{stale, other, live} {
		os.Chtimes(p, old, old)
	}
	if !Stale(stale) || Stale(live) || Stale(fresh) {
		t.Fatalf("Stale: stale %v, live %v, fresh %v", Stale(stale), Stale(live), Stale(fresh))
	}
	if err := WriteFile(path, &Cache{Config: Config{Target: vocab.TargetPyAV, Mode: vocab.ModeFast}}, Options{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{stale: false, live: true, other: true, fresh: true, path: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
}

// TestWriteFileUmask: the cache's mode is 0666 less the umask, as a file
// os.Create makes.
func TestWriteFileUmask(t *testing.T) {
	for _, c := range []struct{ umask, want int }{{0o027, 0o640}, {0o002, 0o664}, {0o077, 0o600}} {
		old := syscall.Umask(c.umask)
		path := filepath.Join(t.TempDir(), "c.pt")
		err := WriteFile(path, &Cache{Config: Config{Target: vocab.TargetPyAV, Mode: vocab.ModeFast}}, Options{NoSync: true})
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil || int(fi.Mode().Perm()) != c.want {
			t.Errorf("umask %03o: mode %v, want %03o", c.umask, fi.Mode().Perm(), c.want)
		}
	}
}
