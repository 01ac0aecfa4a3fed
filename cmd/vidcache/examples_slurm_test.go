package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vidcache/vidcache/indexer"
)

// TestSlurmExample submits examples/slurm (a 3-task array and the dependent
// merge) to the single-node Slurm that scripts/slurm.sh starts, with this
// test binary standing in for vidcache, and checks the cache it makes.
func TestSlurmExample(t *testing.T) {
	if out, err := exec.Command("sinfo", "-h", "-o", "%T").Output(); err != nil || !strings.Contains(string(out), "idle") {
		if os.Getenv("CI") != "" {
			t.Fatalf("no idle Slurm node under CI (scripts/slurm.sh starts one): %v %s", err, out)
		}
		t.Skip("no Slurm here; scripts/slurm.sh starts one")
	}
	state := t.TempDir()
	submit, _ := filepath.Abs("../../examples/slurm/submit.sh")
	cmd := exec.Command("bash", submit, sample(t), state, "3")
	cmd.Dir = state
	cmd.Env = append(os.Environ(), "VIDCACHE="+os.Args[0], "VIDCACHE_TEST_MAIN=1", "VIDCACHE_HOME="+t.TempDir(),
		"SBATCH_EXTRA=--cpus-per-task=1 --mem=200M")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("submit: %v %s", err, out)
	}
	m := regexp.MustCompile(`job (\d+), merge: job (\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("submit printed %q", out)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		q, _ := exec.Command("squeue", "-h", "-j", m[1]+","+m[2]).Output()
		if strings.TrimSpace(string(q)) == "" {
			break
		}
		if time.Now().After(deadline) {
			exec.Command("scancel", m[1], m[2]).Run()
			t.Fatalf("jobs still queued after 3 minutes: %s", q)
		}
		time.Sleep(time.Second)
	}
	logs, _ := filepath.Glob(filepath.Join(state, "vidcache-merge-*.log"))
	var mergeLog []byte
	if len(logs) == 1 {
		mergeLog, _ = os.ReadFile(logs[0])
	}
	if !strings.Contains(string(mergeLog), "0 probed, 16 reused") || !strings.Contains(string(mergeLog), "OK (zip, audit") {
		t.Errorf("merge job log:\n%s", mergeLog)
	}
	if r, err := indexer.Verify(context.Background(), filepath.Join(state, "cache.pt"), indexer.VerifyOptions{}); err != nil || !r.OK || r.Videos != 16 {
		t.Errorf("cache from Slurm: %+v %v", r, err)
	}
	for i := 0; i < 3; i++ {
		if _, err := os.Stat(filepath.Join(state, "shard-"+string(rune('0'+i))+"-of-3.db")); err != nil {
			t.Errorf("shard %d index: %v", i, err)
		}
	}
}
