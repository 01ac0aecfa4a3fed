package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestAuditExitCodes(t *testing.T) {
	home := t.TempDir()
	fx := "../../cachefmt/pickle/testdata/audit/"
	out := filepath.Join(t.TempDir(), "c.pt")
	if r := vc(t, home, "build", sample(t), "--out", out, "--quiet"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	for _, c := range []struct {
		files []string
		code  int
		want  string
	}{
		{[]string{out, fx + "harmless.pt"}, exitOK, "UNSAFE for torch-1.13 (opcode BINFLOAT not allowed), safe for torch-2.x"},
		{[]string{out, fx + "kinetics-dataset.pt"}, exitError, "GLOBAL torchvision.datasets.kinetics.Kinetics"},
		{[]string{fx + "os-system.pkl", "main.go"}, exitUsage, "main.go: unreadable: neither a zip, a tar, nor a pickle"},
	} {
		r := vc(t, home, append([]string{"audit"}, c.files...)...)
		if r.code != c.code || !strings.Contains(r.stdout, c.want) {
			t.Errorf("audit %v: exit %d (want %d)\n%s", c.files, r.code, c.code, r.stdout)
		}
	}
	r := vc(t, home, "audit", "--json", fx+"os-system.pt")
	var rep []struct {
		File     string `json:"file"`
		Verdicts []struct {
			Torch string `json:"torch"`
			Safe  bool   `json:"safe"`
		} `json:"verdicts"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || len(rep) != 1 || len(rep[0].Verdicts) != 2 || rep[0].Verdicts[1].Safe {
		t.Errorf("audit --json: %v %s", err, r.stdout)
	}
}
