// Package torchpeer runs the real PyTorch/torchvision stacks that vidcache is
// tested against:
//
//   - Bookworm: Debian 12's /usr/bin/python3 with torch 1.13, torchvision 0.14,
//     PyAV 10 (FFmpeg 5.1).
//   - Trixie: a Debian 13 root made by scripts/peer.sh (torch 2.6,
//     torchvision 0.21, PyAV 14 on FFmpeg 7.1), entered with chroot inside a
//     private mount namespace in which the folders a test names are
//     bind-mounted at the same paths, so file paths mean the same on both sides.
//   - Sid: a Debian sid root made the same way (torch 2.14, torchvision 0.27,
//     torchcodec 0.14 on FFmpeg 9.0, Python 3.14), with a tmpfs on /dev/shm
//     for DataLoader workers.
//
// A test that needs a missing peer is skipped, unless CI is set, in which case
// it fails: CI must never pass by skipping the comparison it exists for.
// With -short (make unit) and CI unset, every peer test is skipped.
package torchpeer

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

//go:embed scripts/*.py
var scripts embed.FS

// Stack is one Python environment with torch and torchvision.
type Stack struct {
	Name string
	root string // chroot root; "" for the host's /usr/bin/python3
}

// DepsDir is where scripts/peer.sh and scripts/ffmpeg.sh keep their output,
// as scripts/deps.sh (the one definition) says.
func DepsDir() string {
	out, err := exec.Command("bash", depsScript(), "dir").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// depsScript is scripts/deps.sh of this checkout (tests run in a package folder).
func depsScript() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "scripts", "deps.sh")
}

func missing(t testing.TB, what string) {
	t.Helper()
	if testing.Short() && os.Getenv("CI") == "" {
		t.Skip("peer tests are skipped with -short (make unit)")
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("peer missing under CI: %s (run scripts/peer.sh ensure)", what)
	}
	t.Skipf("peer missing: %s (run `make peer`)", what)
}

// Bookworm returns the Debian 12 stack (torch 1.13 / torchvision 0.14).
func Bookworm(t testing.TB) *Stack {
	t.Helper()
	if testing.Short() {
		missing(t, "skipped with -short")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import torch, torchvision, av").Run(); err != nil {
		missing(t, "Debian 12 python3-torch/python3-torchvision/python3-av: "+err.Error())
	}
	return &Stack{Name: "torch1.13"}
}

// Trixie returns the Debian 13 stack (torch 2.6 / torchvision 0.21).
func Trixie(t testing.TB) *Stack {
	t.Helper()
	return chrootStack(t, "torch2.6", "trixie", "Debian 13")
}

// Sid returns the Debian sid stack (torch 2.14 / torchvision 0.27 / torchcodec 0.14).
func Sid(t testing.TB) *Stack {
	t.Helper()
	return chrootStack(t, "torch2.14", "sid", "Debian sid")
}

func chrootStack(t testing.TB, name, dir, what string) *Stack {
	t.Helper()
	if testing.Short() {
		missing(t, "skipped with -short")
	}
	root := filepath.Join(DepsDir(), "peer-"+dir)
	if _, err := os.Stat(filepath.Join(root, ".complete")); err != nil {
		missing(t, what+" root at "+root)
	}
	if os.Geteuid() != 0 {
		missing(t, "the "+what+" peer needs root for chroot")
	}
	return &Stack{Name: name, root: root}
}

// Both returns every stack, for tests that compare against each generation.
func Both(t testing.TB) []*Stack {
	t.Helper()
	return []*Stack{Bookworm(t), Trixie(t)}
}

// Run runs the embedded script name with args and returns its stdout. Each
// folder in share is made visible to the peer at the same path.
func (s *Stack) Run(t testing.TB, share []string, name string, args ...string) []byte {
	t.Helper()
	src, err := script(name)
	if err != nil {
		t.Fatalf("torchpeer: %v", err)
	}
	env := append(os.Environ(), "PYTHONWARNINGS=ignore", "PYTHONDONTWRITEBYTECODE=1")
	var cmd *exec.Cmd
	if s.root == "" {
		cmd = exec.Command("/usr/bin/python3", append([]string{"-"}, args...)...)
	} else {
		// A private mount namespace: the bind mounts vanish with the process.
		var sh strings.Builder
		sh.WriteString(`set -e; mount -t proc proc "$R/proc" 2>/dev/null || true; mount -t tmpfs shm "$R/dev/shm" 2>/dev/null || true; `)
		env = append(env, "R="+s.root)
		for i, dir := range share {
			real, err := filepath.EvalSymlinks(dir)
			if err != nil {
				t.Fatal(err)
			}
			if real, err = filepath.Abs(real); err != nil {
				t.Fatal(err)
			}
			v := fmt.Sprintf("S%d", i)
			env = append(env, v+"="+real)
			fmt.Fprintf(&sh, `mkdir -p "$R$%[1]s"; mount --bind "$%[1]s" "$R$%[1]s"; `, v)
		}
		sh.WriteString(`exec chroot "$R" /usr/bin/python3 - "$@"`)
		cmd = exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "sh", "-c", sh.String(), "sh"}, args...)...)
	}
	cmd.Env = env
	cmd.Stdin = bytes.NewReader(src)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("torchpeer %s %s %v: %v\n%s", s.Name, name, args, err, tail(stderr.String(), 3000))
	}
	return stdout.Bytes()
}

// RunJSON runs a script and decodes its stdout as JSON into out.
func (s *Stack) RunJSON(t testing.TB, share []string, out any, name string, args ...string) {
	t.Helper()
	b := s.Run(t, share, name, args...)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("torchpeer %s %s: bad JSON: %v\n%s", s.Name, name, err, tail(string(b), 2000))
	}
}

// script is the embedded script name, each "# include: FILE" line replaced
// by that script (shared helpers: the scripts reach the peers on stdin).
func script(name string) ([]byte, error) {
	src, err := scripts.ReadFile("scripts/" + name)
	if err != nil {
		return nil, fmt.Errorf("no script %s", name)
	}
	var out bytes.Buffer
	for _, line := range strings.SplitAfter(string(src), "\n") {
		if inc, ok := strings.CutPrefix(strings.TrimSpace(line), "# include: "); ok {
			b, err := scripts.ReadFile("scripts/" + inc)
			if err != nil {
				return nil, fmt.Errorf("%s includes %s: no such script", name, inc)
			}
			out.Write(b)
			continue
		}
		out.WriteString(line)
	}
	return out.Bytes(), nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
