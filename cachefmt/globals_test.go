package cachefmt

import (
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/vidcache/vidcache/cachefmt/pickle"
)

// TestLoadNamesAuditsGlobals: inspect and import (Load) list the same
// globals as audit for every fixture they read — including the ones
// gopickle resolves without asking (collections.OrderedDict) — so import's
// allowlist decision and inspect's list match audit's.
func TestLoadNamesAuditsGlobals(t *testing.T) {
	a, _ := filepath.Glob("../indexer/testdata/import/*.pt")
	b, _ := filepath.Glob("pickle/testdata/audit/*.p*")
	checked := 0
	for _, f := range append(a, b...) {
		l, err := Load(f)
		if err != nil {
			continue
		}
		r, _ := pickle.Audit(f)
		var fromAudit []string
		for _, g := range r.Globals {
			if g.Entry == "" || !slices.Contains(fromAudit, g.Global) {
				fromAudit = append(fromAudit, g.Global)
			}
		}
		if filepath.Base(f) == "nested-zip.pt" {
			continue // audit also scans the nested file, which torch never unpickles
		}
		got := slices.Clone(l.Globals)
		sort.Strings(got)
		sort.Strings(fromAudit)
		fromAudit = slices.Compact(fromAudit)
		if !slices.Equal(got, fromAudit) {
			t.Errorf("%s: Load names %v, audit %v", f, got, fromAudit)
		}
		checked++
	}
	if checked < 15 {
		t.Errorf("only %d files compared", checked)
	}
}
