package main

// Test helpers shared by the command tests: running vidcache in-process
// (vc) and as a process (vcProc), the bundled sample, generated datasets,
// and index checks.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidcache/vidcache/indexer"
)

type result struct {
	code           int
	stdout, stderr string
}

// vc runs the CLI in-process with VIDCACHE_HOME set to home.
func vc(t *testing.T, home string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string {
		if k == "VIDCACHE_HOME" {
			return home
		}
		return ""
	}}
	code := runWith(context.Background(), e, args)
	return result{code, out.String(), errb.String()}
}

func sample(t *testing.T) string {
	abs, err := filepath.Abs("../../testdata/sample")
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func buildJ(t *testing.T, home string, args ...string) indexer.BuildResult {
	t.Helper()
	r := vc(t, home, append([]string{"build", "--json", "--jobs", "2"}, args...)...)
	if r.code != 0 {
		t.Fatalf("build %v: exit %d\n%s", args, r.code, r.stderr)
	}
	var b indexer.BuildResult
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil {
		t.Fatalf("build --json printed %q: %v", r.stdout, err)
	}
	return b
}

func vcProc(home string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "VIDCACHE_TEST_MAIN=1", "VIDCACHE_HOME="+home)
	return cmd
}

// bigDataset hard-links the sample's clean videos into n files over 20 classes.
func bigDataset(t *testing.T, n int) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "big")
	src := filepath.Join(sample(t), "train")
	files := []string{"abseiling/h264-25fps.mp4", "abseiling/h264-30fps.mp4", "playing guitar/mpeg4-bframes.avi", "playing guitar/mpeg4-lavc.mp4", "juggling/audio-first.mp4"}
	for i := 0; i < n; i++ {
		dir := filepath.Join(root, "train", fmt.Sprintf("class%02d", i%20))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		f := files[i%len(files)]
		if err := os.Link(filepath.Join(src, f), filepath.Join(dir, fmt.Sprintf("v%05d%s", i, filepath.Ext(f)))); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// committedRows counts the videos a running build has committed so far; 0
// while the index does not exist yet or cannot be read.
func committedRows(db string) int { return countIn(db, "videos") }

// countIn counts the rows of an index table; 0 while the index does not
// exist yet or cannot be read.
func countIn(db, table string) int {
	if _, err := os.Stat(db); err != nil {
		return 0
	}
	ix, err := indexer.OpenIndex(context.Background(), db)
	if err != nil {
		return 0
	}
	defer ix.Close()
	var n int
	ix.DB().QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n)
	return n
}

func integrityOK(t *testing.T, db string) int {
	t.Helper()
	ix, err := indexer.OpenIndex(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	var res string
	if err := ix.DB().QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check: %q %v", res, err)
	}
	var n int
	ix.DB().QueryRow(`SELECT COUNT(*) FROM videos`).Scan(&n)
	return n
}

// smallFS mounts a 1 MB tmpfs for the test (root only).
func smallFS(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("cannot mount a small tmpfs under CI: %v %s", err, out)
		}
		t.Skipf("cannot mount a small tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	out.Close()
}

// copySample copies the bundled sample to dir/ds, a dataset a test may
// change, and returns its path.
func copySample(t *testing.T, dir string) string {
	t.Helper()
	root := filepath.Join(dir, "ds")
	if err := os.CopyFS(root, os.DirFS(sample(t))); err != nil {
		t.Fatal(err)
	}
	return root
}
