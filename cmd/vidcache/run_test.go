package main

import (
	"bytes"
	"context"
	"encoding/json"
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
		{[]string{"build", sample(t), "--frame-rate", "fast"}, exitUsage, `flag -frame-rate: "fast" is not a rate`},
		{[]string{"build", sample(t), "--frames-per-clip", "0"}, exitUsage, "frames per clip"},
		{[]string{"build", sample(t), "--mode", "slow"}, exitUsage, `flag -mode: unknown mode "slow"`},
		{[]string{"build", sample(t), "--mode", "exact"}, exitUsage, "--mode: exact reads PyAV timestamps"},
		{[]string{"build", missing}, exitUsage, "dataset root " + missing},
		{[]string{"build", filepath.Join(sample(t), "train")}, exitUsage, "did you mean " + sample(t) + "?"},
		{[]string{"build", sample(t), "--split", "test"}, exitUsage, "its folders are extra, train, val: choose one with --split"},
		{[]string{"build", sample(t), "--extensions", "mkv"}, exitError, "no videos with extension mkv in " + sample(t) + "/train: nothing to cache (--allow-empty"},
		{[]string{"biuld", sample(t)}, exitUsage, `unknown command "biuld"; did you mean "build"?`},
		{[]string{"stat"}, exitUsage, `did you mean "status"?`},
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

// TestBadFlagIsShort: a bad flag gets its error and a pointer to -h, not the
// whole usage; -h prints the usage on stdout and exits 0.
func TestBadFlagIsShort(t *testing.T) {
	home := t.TempDir()
	r := vc(t, home, "build", "--bogus", sample(t))
	if r.code != exitUsage || r.stderr != "flag provided but not defined: -bogus\nsee 'vidcache build -h'\n" {
		t.Errorf("bad flag: exit %d, stderr %q", r.code, r.stderr)
	}
	r = vc(t, home, "build", "-h")
	if r.code != exitOK || !strings.HasPrefix(r.stdout, "usage: vidcache build") || !strings.Contains(r.stdout, "-cpuprofile FILE") || r.stderr != "" {
		t.Errorf("-h: exit %d, stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	r = vc(t, home, "help")
	if !strings.Contains(r.stdout, "  version ") {
		t.Errorf("help lists no version command:\n%s", r.stdout)
	}
}

// TestEmptyAndLogs: --allow-empty writes the empty cache; warnings are
// "vidcache: warning:" lines, or JSON objects with --log-format json.
func TestEmptyAndLogs(t *testing.T) {
	home := t.TempDir()
	r := vc(t, home, "build", sample(t), "--extensions", "mkv", "--allow-empty")
	if r.code != exitOK || !strings.Contains(r.stderr, `vidcache: warning: class "abseiling" has no file with extension mkv`) || strings.Contains(r.stderr, "level=") {
		t.Errorf("allow-empty: exit %d\n%s", r.code, r.stderr)
	}
	r = vc(t, home, "build", sample(t), "--extensions", "mkv", "--allow-empty", "--log-format", "json")
	first, _, _ := strings.Cut(r.stderr, "\n")
	var rec map[string]any
	if err := json.Unmarshal([]byte(first), &rec); err != nil || rec["level"] != "WARN" {
		t.Errorf("json logs: %v\n%s", err, r.stderr)
	}
}
