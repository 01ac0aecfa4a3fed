package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/indexer"
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

// TestLibraryErrorsNameFlags: the options library errors name (by the
// configuration's spelling) are shown as the flags that set them, also in a
// wrapped error; the messages are the ones the CLI always printed.
func TestLibraryErrorsNameFlags(t *testing.T) {
	nfs := indexer.FileSystem{Name: "NFS", Magic: 0x6969, Shared: true}
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("status: %w", &indexer.IndexFSError{Path: "/n/index.db", FS: nfs, Err: errors.New("disk I/O error")}),
			"status: open index /n/index.db on NFS (0x6969): disk I/O error (SQLite may not work on this file system: put the index on a local disk with --db or $VIDCACHE_HOME; caches can stay on the share with --out or --cache-dir)"},
		{&indexer.IndexFSError{Path: "/n/index.db", FS: nfs, Err: errors.New("database is locked"), Journal: "wal", Want: "DELETE"},
			"open index /n/index.db on NFS (0x6969): it is in wal mode and could not be switched to DELETE while other processes use it (database is locked): stop them, or put the index on a local disk with --db or $VIDCACHE_HOME"},
		{&indexer.EmptyError{Dir: "/d/train", Extensions: []string{"mkv", "webm"}},
			"no videos with extension mkv or webm in /d/train: nothing to cache (--allow-empty writes an empty cache anyway)"},
		{configErr(&cachefmt.OptionError{Option: "frames_per_clip", Err: errors.New("must be at least 1")}), "--frames-per-clip: must be at least 1"},
	} {
		if got := explain(c.err); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
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
