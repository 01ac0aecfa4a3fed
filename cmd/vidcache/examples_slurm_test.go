package main

import (
	"bytes"
	"context"
	"encoding/json"
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
	needSlurm(t)
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

// TestSlurmRanksExample submits examples/slurm/ranks.sbatch as a 3-task
// array whose tasks all call `path --ensure` on the sample with one shared
// index: every task prints the same cache, and the videos are probed about
// once in all.
func TestSlurmRanksExample(t *testing.T) {
	needSlurm(t)
	state := t.TempDir()
	submit, _ := filepath.Abs("../../examples/slurm/submit-ranks.sh")
	cmd := exec.Command("bash", submit, sample(t), state, "3")
	cmd.Dir = state
	cmd.Env = append(os.Environ(), "VIDCACHE="+os.Args[0], "VIDCACHE_TEST_MAIN=1",
		"SBATCH_EXTRA=--cpus-per-task=1 --mem=200M")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("submit: %v %s", err, out)
	}
	m := regexp.MustCompile(`ranks: job (\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("submit printed %q", out)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		q, _ := exec.Command("squeue", "-h", "-j", m[1]).Output()
		if strings.TrimSpace(string(q)) == "" {
			break
		}
		if time.Now().After(deadline) {
			exec.Command("scancel", m[1]).Run()
			t.Fatalf("job still queued after 3 minutes: %s", q)
		}
		time.Sleep(time.Second)
	}
	logs, _ := filepath.Glob(filepath.Join(state, "vidcache-ranks-"+m[1]+"_*.log"))
	if len(logs) != 3 {
		t.Fatalf("%d task logs: %v", len(logs), logs)
	}
	probes, caches := 0, map[string]bool{}
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		i := bytes.IndexByte(b, '{')
		var r struct {
			Cache string
			Build *struct{ Probed int }
		}
		if i < 0 || json.NewDecoder(bytes.NewReader(b[i:])).Decode(&r) != nil {
			t.Errorf("%s: no JSON report:\n%s", l, b)
			continue
		}
		caches[r.Cache] = true
		if r.Build != nil {
			probes += r.Build.Probed
		}
	}
	if len(caches) != 1 || probes > 17 {
		t.Errorf("tasks printed caches %v and probed %d times in all (16 videos)", caches, probes)
	}
	for c := range caches {
		if r, err := indexer.Verify(context.Background(), c, indexer.VerifyOptions{}); err != nil || !r.OK || r.Videos != 16 {
			t.Errorf("cache from the ranks: %+v %v", r, err)
		}
	}
}

// needSlurm skips the test without an idle Slurm node, unless CI is set.
func needSlurm(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("sinfo", "-h", "-o", "%T").Output(); err != nil || !strings.Contains(string(out), "idle") {
		if os.Getenv("CI") != "" {
			t.Fatalf("no idle Slurm node under CI (scripts/slurm.sh starts one): %v %s", err, out)
		}
		t.Skip("no Slurm here; scripts/slurm.sh starts one")
	}
}
