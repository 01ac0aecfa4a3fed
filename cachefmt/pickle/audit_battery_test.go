package pickle_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/cachefmt/pickle"
	"github.com/vidcache/vidcache/cachefmt/torchpeer"
)

// battery is what torchpeer/scripts/battery.py writes and proves.
type batteryFile struct {
	Name, Path, Marker, Kind string
}

type batteryProof struct {
	Torch   string `json:"torch"`
	Hostile map[string]struct {
		Ran    bool `json:"ran"`
		Loaded bool `json:"loaded"`
	} `json:"hostile"`
	Benign map[string]bool `json:"benign"`
}

// TestAuditBattery: the malicious-file battery (cachefmt/torchpeer/
// scripts/battery.py: raw pickles of every protocol and calling technique,
// payloads inside containers and before damage, Python 2 names, legacy files
// with the magic number pickled every way, zips with data.pkl spelled every
// way torch matches, nested zips and legacy files, legacy tars). Each file is
// loaded by torch 1.13 and 2.6 with weights_only=False in a forked child:
// those whose payload ran (it creates a marker file) are the code-running
// ones. Every hostile file must be called unsafe by audit, none may create
// its marker when audit reads it, and audit stays within its budget. Every
// benign file (torch.save of tensors, dicts, sets, OrderedDicts, state
// dicts, … in each torch, zip and legacy formats) is called safe for a
// generation exactly when that torch loads it with weights_only=True.
func TestAuditBattery(t *testing.T) {
	host, trixie := torchpeer.Bookworm(t), torchpeer.Trixie(t)
	dir := t.TempDir()
	var n struct{ Hostile int }
	host.RunJSON(t, []string{dir}, &n, "battery.py", "hostile", dir)
	if n.Hostile < 100 {
		t.Fatalf("the battery has only %d hostile files", n.Hostile)
	}
	stacks := map[string]*torchpeer.Stack{pickle.Torch113: host, pickle.Torch2: trixie}
	for gen, s := range stacks {
		var out struct{ Benign int }
		s.RunJSON(t, []string{dir}, &out, "battery.py", "benign", filepath.Join(dir, "benign-"+gen))
		if out.Benign < 10 {
			t.Fatalf("%s wrote %d benign files", gen, out.Benign)
		}
	}
	proofs := map[string]*batteryProof{}
	for gen, s := range stacks {
		p := &batteryProof{}
		s.RunJSON(t, []string{dir}, p, "battery.py", "prove", dir)
		proofs[gen] = p
	}

	b, err := os.ReadFile(filepath.Join(dir, "hostile.json"))
	if err != nil {
		t.Fatal(err)
	}
	var files []batteryFile
	if err := json.Unmarshal(b, &files); err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, f := range files {
		proven := proofs[pickle.Torch113].Hostile[f.Name].Ran || proofs[pickle.Torch2].Hostile[f.Name].Ran
		if proven {
			ran++
		} else if f.Kind != "nested" {
			t.Logf("%s: the payload ran in neither torch (1.13 loaded: %v, 2.6 loaded: %v)", f.Name,
				proofs[pickle.Torch113].Hostile[f.Name].Loaded, proofs[pickle.Torch2].Hostile[f.Name].Loaded)
		}
		start := time.Now()
		r, err := pickle.AuditContext(context.Background(), f.Path)
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("%s: audit took %v", f.Name, took)
		}
		if r == nil {
			t.Errorf("%s: no report (%v)", f.Name, err)
			continue
		}
		for _, g := range []string{pickle.Torch113, pickle.Torch2} {
			if r.SafeFor(g) {
				t.Errorf("%s (payload ran: %v): audit calls it safe for %s (err %v; globals %s)", f.Name, proven, g, err, globalsOf(r))
			}
		}
		if proven && err != nil && !r.Unsafe() {
			t.Errorf("%s: a code-running file reported only as unreadable: %v", f.Name, err)
		}
		// Also read by the cache reader and inspect's loader: refused, and
		// nothing runs.
		cachefmt.ReadFile(f.Path)
		if _, err := os.Stat(f.Marker); err == nil {
			t.Errorf("%s: reading it created its marker", f.Name)
		}
	}
	if ran < 80 {
		t.Errorf("only %d of %d hostile files proved to run code in a real torch", ran, len(files))
	}
	t.Logf("%d hostile files, %d proven to run code in torch 1.13 or 2.6", len(files), ran)

	// Benign files: safe exactly where that torch's weights_only loads them.
	checked := 0
	for gen, p := range proofs {
		for name, ok := range p.Benign {
			r, err := pickle.Audit(filepath.Join(dir, name))
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			checked++
			if r.SafeFor(gen) != ok {
				var why string
				for _, v := range r.Verdicts {
					if v.Torch == gen {
						why = v.Why()
					}
				}
				t.Errorf("%s: torch %s weights_only loads it: %v; audit says safe: %v (%s)", name, p.Torch, ok, r.SafeFor(gen), why)
			}
		}
	}
	if checked < 40 {
		t.Errorf("only %d benign checks", checked)
	}
}
