package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	_ "github.com/mattn/go-sqlite3"

	"github.com/vidcache/vidcache/indexer"
)

// fuseLoopback mounts a FUSE passthrough of a new folder (served by this
// test process) and returns the mount point and the folder behind it.
// Mounting needs root and /dev/fuse: without them the test is skipped,
// unless CI is set.
func fuseLoopback(t *testing.T) (mnt, backing string) {
	t.Helper()
	backing, mnt = t.TempDir(), t.TempDir()
	root, err := fs.NewLoopbackRoot(backing)
	if err != nil {
		t.Fatal(err)
	}
	server, err := fs.Mount(mnt, root, &fs.Options{MountOptions: fuse.MountOptions{DirectMount: true, Name: "vidcache-test", FsName: "loopback"}})
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("cannot mount a FUSE passthrough under CI: %v", err)
		}
		t.Skipf("cannot mount a FUSE passthrough: %v", err)
	}
	t.Cleanup(func() { server.Unmount() })
	return mnt, backing
}

func journalMode(t *testing.T, db string) string {
	t.Helper()
	c, err := sql.Open("sqlite3", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var mode string
	if err := c.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	return mode
}

// TestIndexOnFUSE: an index on a FUSE mount is detected (statfs) and run
// with the rollback journal, never left in WAL mode — also one that was in
// WAL mode before — while the same index on a local disk runs WAL.
func TestIndexOnFUSE(t *testing.T) {
	mnt, backing := fuseLoopback(t)
	fsys, err := indexer.FileSystemOf(mnt)
	if err != nil || !fsys.Shared || fsys.Name != "FUSE" {
		t.Fatalf("the mount is %+v (%v), want a shared FUSE file system", fsys, err)
	}
	if local, _ := indexer.FileSystemOf(backing); local.Shared {
		t.Fatalf("the backing folder is %+v", local)
	}
	root := copySample(t, t.TempDir())
	home := filepath.Join(mnt, "home")
	if out, err := vcProc(home, "build", root, "--frame-rate", "15").CombinedOutput(); err != nil {
		t.Fatalf("build with the index on FUSE: %v\n%s", err, out)
	}
	db := filepath.Join(backing, "home", "index.db")
	if m := journalMode(t, db); m != "delete" {
		t.Errorf("index on FUSE: journal mode %q, want delete", m)
	}
	if _, err := os.Stat(db + "-wal"); err == nil {
		t.Error("a -wal file next to the index on FUSE")
	}

	// An index left in WAL mode (made on the local disk behind the mount)
	// is converted when opened through the mount.
	walHome := filepath.Join(backing, "walhome")
	ix, err := indexer.OpenIndex(context.Background(), filepath.Join(walHome, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	ix.Close()
	if m := journalMode(t, filepath.Join(walHome, "index.db")); m != "wal" {
		t.Fatalf("local index: journal mode %q, want wal", m)
	}
	if out, err := vcProc(filepath.Join(mnt, "walhome"), "build", root, "--frame-rate", "15").CombinedOutput(); err != nil {
		t.Fatalf("build with a WAL index on FUSE: %v\n%s", err, out)
	}
	if m := journalMode(t, filepath.Join(walHome, "index.db")); m != "delete" {
		t.Errorf("WAL index opened through FUSE: journal mode %q, want delete", m)
	}
	// Read-only commands keep working on it.
	if out, err := vcProc(filepath.Join(mnt, "walhome"), "status", root, "--frame-rate", "15").CombinedOutput(); err != nil {
		t.Errorf("status: %v\n%s", err, out)
	}
}
