package decoder

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestMain keeps the stderr of fuzzing workers. `go test -fuzz` discards it,
// so a worker that dies inside FFmpeg or in the Go runtime (a signal, an
// allocation the system refuses) leaves only "exit status 2". With
// VIDCACHE_FUZZ_STDERR=DIR each worker writes its stderr, the runtime's
// crash report included, to DIR/worker-PID.log; `make fuzz` prints the
// non-empty ones when a run fails.
func TestMain(m *testing.M) {
	dir := os.Getenv("VIDCACHE_FUZZ_STDERR")
	worker := slices.ContainsFunc(os.Args[1:], func(a string) bool {
		return strings.HasPrefix(a, "-test.fuzzworker")
	})
	if dir != "" && worker {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("worker-%d.log", os.Getpid())))
		if err == nil {
			err = syscall.Dup2(int(f.Fd()), 2)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "VIDCACHE_FUZZ_STDERR:", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}
