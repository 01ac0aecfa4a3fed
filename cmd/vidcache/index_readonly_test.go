package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadOnlyIndex: on a read-only mount, the commands that only read the
// index (status, path without --ensure, list, verify --root, report) work.
func TestReadOnlyIndex(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("needs root for a read-only bind mount")
		}
		t.Skip("needs root for a read-only bind mount")
	}
	home := t.TempDir()
	root := copySample(t, t.TempDir())
	r := vc(t, home, "build", root)
	if r.code != exitOK {
		t.Fatal(r.stderr)
	}
	cache := strings.TrimSpace(r.stdout)
	ro := t.TempDir()
	if out, err := exec.Command("mount", "--bind", home, ro).CombinedOutput(); err != nil {
		t.Skipf("bind mount: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", ro).Run() })
	if out, err := exec.Command("mount", "-o", "remount,bind,ro", ro).CombinedOutput(); err != nil {
		t.Fatalf("remount read-only: %v %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(ro, "probe"), nil, 0o644); err == nil {
		t.Fatal("the mount is writable")
	}
	roCache := filepath.Join(ro, "caches", filepath.Base(cache))
	for _, args := range [][]string{
		{"status", root},
		{"path", root},
		{"list"},
		{"verify", roCache, "--root", root},
		{"report", roCache, "--json"},
	} {
		if r := vc(t, ro, args...); r.code != exitOK {
			t.Errorf("%v on a read-only index: exit %d: %s", args, r.code, r.stderr)
		}
	}
}
