package indexer

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestErrorsNameOptions: errors a setting would resolve name it as the
// library's option (split, allow_empty, out, cache_dir), never as a
// command-line flag, and Explain renders them with a program's own names.
func TestErrorsNameOptions(t *testing.T) {
	root := fakeDataset(t)
	flag := func(o string) string { return "<" + o + ">" }
	check := func(what string, err error, lib, explained string) {
		t.Helper()
		var x Explainer
		if !errors.As(err, &x) {
			t.Fatalf("%s: %T %v is no Explainer", what, err, err)
		}
		if msg := err.Error(); !strings.Contains(msg, lib) || strings.Contains(msg, "--") || strings.Contains(msg, "$VIDCACHE_HOME") {
			t.Errorf("%s: %q, want %q and no flag", what, msg, lib)
		}
		if msg := x.Explain(flag); !strings.Contains(msg, explained) {
			t.Errorf("%s explained: %q, want %q", what, msg, explained)
		}
	}

	_, err := Scan(context.Background(), root, "test", []string{"mp4"})
	var de *DatasetError
	if !errors.As(err, &de) {
		t.Fatalf("no split folder: %v", err)
	}
	check("no split folder", err, "its folders are train: choose one with split", "choose one with <split>")

	o := fakeOptions(root, filepath.Join(t.TempDir(), "c.pt"))
	o.Extensions = []string{"mkv"}
	_, err = Build(context.Background(), openIx(t), o)
	if !errors.Is(err, ErrEmpty) {
		t.Fatalf("empty split: %v, want ErrEmpty", err)
	}
	check("empty split", err, "no videos with extension mkv in "+filepath.Join(root, "train")+": nothing to cache (allow_empty writes an empty cache anyway)",
		"(<allow_empty> writes an empty cache anyway)")

	nfs := FileSystem{Name: "NFS", Magic: 0x6969, Shared: true}
	err = fmt.Errorf("wrapped: %w", &IndexFSError{Path: "/n/index.db", FS: nfs, Err: syscall.EIO})
	if !errors.Is(err, syscall.EIO) {
		t.Errorf("IndexFSError does not wrap its cause: %v", err)
	}
	check("index on a share", err, "(SQLite may not work on this file system: put the index on a local disk; caches can stay on the share with out or cache_dir)",
		"put the index on a local disk with <index>; caches can stay on the share with <out> or <cache_dir>)")
	err = &IndexFSError{Path: "/n/index.db", FS: nfs, Journal: "wal", Want: "DELETE"}
	check("index stuck in WAL", err, "it is in wal mode and could not be switched to DELETE while other processes use it (<nil>): stop them, or put the index on a local disk",
		"stop them, or put the index on a local disk with <index>")
}
