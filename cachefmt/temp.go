package cachefmt

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Temporaries. WriteFile writes a cache into ".<name>.tmp-<random>" beside
// it and holds an exclusive flock on that file until it is renamed or
// removed. A temporary nobody holds a lock on and that has not been written
// to for a minute (a writer locks it microseconds after creating it, so the
// age covers that moment) was left by a killed write: Stale reports it, and
// WriteFile removes the stale temporaries of the cache it has just
// installed. gc removes the others. A live write's
// temporary is never removed, whatever its age.

// tempPrefix is the prefix of the temporaries of the cache named base.
func tempPrefix(base string) string { return "." + base + ".tmp-" }

// IsTemp reports whether a file name is a cache temporary.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-")
}

// StaleAfter is how long a file must have been left unmodified, besides
// unlocked, before Stale reports it.
const StaleAfter = time.Minute

// Stale reports whether no writer holds the file at path and it has not
// been modified for StaleAfter: a temporary of a killed write, or a cache
// file that no write is installing. A file that cannot be opened is not
// stale (it may be someone else's).
func Stale(path string) bool {
	fi, err := os.Stat(path)
	if err != nil || time.Since(fi.ModTime()) < StaleAfter {
		return false
	}
	return unlocked(path)
}

// unlocked: no process holds the file's flock.
func unlocked(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return false
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return true
}

// removeStaleTemps removes the stale temporaries of the cache at path.
func removeStaleTemps(path string) {
	dir, base := filepath.Split(path)
	ents, err := os.ReadDir(filepath.Clean(dir))
	if err != nil {
		return
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), tempPrefix(base)) && Stale(p) {
			os.Remove(p) // best effort: the cache itself is installed
		}
	}
}

// fileMode is 0666 less the process umask: the mode os.Create would give,
// which os.CreateTemp's 0600 does not.
func fileMode() os.FileMode {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "Umask:"); ok {
				if m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
					return 0o666 &^ os.FileMode(m)
				}
			}
		}
	}
	return 0o644
}
