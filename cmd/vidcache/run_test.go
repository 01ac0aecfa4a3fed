package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExitCodes(t *testing.T) {
	home := t.TempDir()
	missing := filepath.Join(t.TempDir(), "nope")
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, exitUsage, ""},
		{[]string{"frobnicate"}, exitUsage, "unknown command"},
		{[]string{"build"}, exitUsage, "ROOT"},
		{[]string{"build", "a", "b"}, exitUsage, "ROOT"},
		{[]string{"build", sample(t), "--frame-rate", "fast"}, exitUsage, "--frame-rate"},
		{[]string{"build", sample(t), "--frames-per-clip", "0"}, exitUsage, "frames per clip"},
		{[]string{"build", sample(t), "--mode", "slow"}, exitUsage, "--mode"},
		{[]string{"build", missing}, exitError, missing},
		{[]string{"inspect", missing}, exitUsage, missing},
		{[]string{"version"}, exitOK, ""},
	} {
		r := vc(t, home, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr+r.stdout, c.msg) {
			t.Errorf("%v: exit %d (want %d), output %q (want %q)", c.args, r.code, c.code, r.stderr+r.stdout, c.msg)
		}
	}
}

// TestHelpListsExitCodes: the exit-code table in `vidcache help` is the one
// the commands use, and the README shows the same table.
func TestHelpListsExitCodes(t *testing.T) {
	var out bytes.Buffer
	if code := runWith(context.Background(), &env{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}, []string{"help"}); code != exitOK {
		t.Fatalf("help: exit %d", code)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range exitTable {
		if !strings.Contains(out.String(), fmt.Sprintf("  %-4d %s", x.code, x.meaning)) {
			t.Errorf("help lacks exit code %d", x.code)
		}
		if !strings.Contains(string(readme), fmt.Sprintf("| %d |", x.code)) {
			t.Errorf("README's table lacks exit code %d", x.code)
		}
	}
}
