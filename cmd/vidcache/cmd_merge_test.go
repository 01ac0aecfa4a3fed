package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestShardedBuild: N shard processes in parallel, then merge, then a build
// on the merged index probes nothing and writes exactly the cache a single
// build writes. For N = 3 one shard is killed mid-way and re-run, and the
// merge is run twice.
func TestShardedBuild(t *testing.T) {
	root := bigDataset(t, 400)
	ref := filepath.Join(t.TempDir(), "ref.pt")
	refHome := t.TempDir()
	if out, err := vcProc(refHome, "build", root, "--out", ref, "--created-unix", "9", "--jobs", "2").CombinedOutput(); err != nil {
		t.Fatalf("single build: %v %s", err, out)
	}
	want, _ := os.ReadFile(ref)

	for _, n := range []int{1, 3, 8} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			home, dir := t.TempDir(), t.TempDir()
			shardDB := func(i int) string { return filepath.Join(dir, fmt.Sprintf("shard-%d.db", i)) }
			if n == 3 {
				// A shard that dies: killed just after it starts probing.
				cmd := vcProc(home, "build", root, "--shard", "1/3", "--db", shardDB(1), "--target", "torchvision-pyav", "--mode", "exact", "--jobs", "1")
				cmd.Start()
				time.Sleep(300 * time.Millisecond)
				cmd.Process.Signal(syscall.SIGKILL)
				cmd.Wait()
			}
			var wg sync.WaitGroup
			probed := make([]int, n)
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Half the shards take their index from the environment, as
					// Slurm array tasks and Kubernetes indexed jobs do.
					args := []string{"build", root, "--db", shardDB(i), "--jobs", "1", "--json"}
					cmd := vcProc(home)
					if i%2 == 0 {
						args = append(args, "--shard", fmt.Sprintf("%d/%d", i, n))
					} else {
						args = append(args, "--shard", fmt.Sprint(n), "--shard-index-env", "TASK_ID")
						cmd.Env = append(cmd.Env, fmt.Sprintf("TASK_ID=%d", i))
					}
					cmd.Args = append(cmd.Args, args...)
					out, err := cmd.Output()
					if err != nil {
						t.Errorf("shard %d/%d: %v", i, n, err)
						return
					}
					var r struct{ Probed, Videos int }
					json.Unmarshal(out, &r)
					probed[i] = r.Videos
				}()
			}
			wg.Wait()
			total := 0
			for _, p := range probed {
				total += p
			}
			if total != 400 {
				t.Fatalf("shards covered %d videos, want 400 (%v)", total, probed)
			}
			var dbs []string
			for i := 0; i < n; i++ {
				dbs = append(dbs, shardDB(i))
			}
			merged := filepath.Join(dir, "index.db")
			for range 2 { // idempotent
				if r := vc(t, home, append([]string{"merge", "--db", merged}, dbs...)...); r.code != 0 {
					t.Fatalf("merge: %s", r.stderr)
				}
			}
			out := filepath.Join(dir, "final.pt")
			r := vc(t, home, "build", root, "--db", merged, "--out", out, "--created-unix", "9", "--json")
			var b struct{ Probed, Reused int }
			json.Unmarshal([]byte(r.stdout), &b)
			if r.code != 0 || b.Probed != 0 || b.Reused != 400 {
				t.Fatalf("build on the merged index: exit %d %+v %s", r.code, b, r.stderr)
			}
			if got, _ := os.ReadFile(out); !bytes.Equal(got, want) {
				t.Error("the merged build's cache differs from a single build's")
			}
		})
	}
}

func TestShardFlags(t *testing.T) {
	home := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--shard", "3/3"}, "want 0 <= I < N"},
		{[]string{"--shard", "x/3"}, "want 0 <= I < N"},
		{[]string{"--shard", "1/4", "--shard-index-env", "TASK"}, "give only N"},
		{[]string{"--shard", "4", "--shard-index-env", "NOT_SET_ANYWHERE"}, "is not set"},
	} {
		r := vc(t, home, append([]string{"build", sample(t)}, c.args...)...)
		if r.code != exitUsage || !bytes.Contains([]byte(r.stderr), []byte(c.want)) {
			t.Errorf("%v: exit %d %q", c.args, r.code, r.stderr)
		}
	}
}
