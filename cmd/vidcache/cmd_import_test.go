package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportCLI(t *testing.T) {
	home := t.TempDir()
	fx := "../../indexer/testdata/import/"
	out := filepath.Join(t.TempDir(), "safe.pt")
	r := vc(t, home, "import", fx+"malicious-extra.pt", "--out", out)
	if r.code != 0 || r.stdout != out+"\n" || !strings.Contains(r.stderr, "warning:") || !strings.Contains(r.stderr, "posix.system") {
		t.Errorf("malicious import: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := vc(t, home, "audit", out); r.code != 0 {
		t.Errorf("the imported cache is not safe: %s", r.stdout)
	}
	r = vc(t, home, "import", fx+"refuse-unknown-layout.pt", "--out", out+".2")
	if r.code != exitUsage || !strings.Contains(r.stderr, "refused") {
		t.Errorf("refusal: exit %d %q", r.code, r.stderr)
	}
	if _, err := os.Stat(out + ".2"); err == nil {
		t.Error("refused import wrote a file")
	}
}
