package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

type buildJSON struct {
	Cache    string         `json:"cache"`
	DB       string         `json:"db"`
	Videos   int            `json:"videos"`
	Probed   int            `json:"probed"`
	Reused   int            `json:"reused"`
	Failed   int            `json:"failed"`
	Clips    int64          `json:"clips"`
	Seconds  float64        `json:"seconds"`
	Written  bool           `json:"written"`
	Failures map[string]int `json:"failures"`
}

func buildJ(t *testing.T, home string, args ...string) buildJSON {
	t.Helper()
	r := vc(t, home, append([]string{"build", "--json", "--jobs", "2"}, args...)...)
	if r.code != 0 {
		t.Fatalf("build %v: exit %d\n%s", args, r.code, r.stderr)
	}
	var b buildJSON
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil {
		t.Fatalf("build --json printed %q: %v", r.stdout, err)
	}
	return b
}

func TestBuildIncremental(t *testing.T) {
	home := t.TempDir()
	root := sample(t)
	first := buildJ(t, home, root, "--created-unix", "1")
	if first.Videos != 16 || first.Probed != 16 || first.Reused != 0 || first.Failed != 2 || !first.Written {
		t.Fatalf("first build: %+v", first)
	}
	if first.Failures["open_failed"] != 2 || first.Clips == 0 {
		t.Errorf("first build: %+v", first)
	}
	if first.DB != filepath.Join(home, "index.db") || !strings.HasPrefix(first.Cache, filepath.Join(home, "caches")+"/") {
		t.Errorf("default paths: cache %s db %s", first.Cache, first.DB)
	}
	before, err := os.Stat(first.Cache)
	if err != nil {
		t.Fatal(err)
	}

	again := buildJ(t, home, root, "--created-unix", "2")
	if again.Probed != 0 || again.Reused != 16 || again.Written || again.Cache != first.Cache {
		t.Errorf("no-change rebuild: %+v", again)
	}
	after, _ := os.Stat(first.Cache)
	if !after.ModTime().Equal(before.ModTime()) {
		t.Error("no-change rebuild rewrote the cache")
	}

	clips := buildJ(t, home, root, "--frames-per-clip", "8", "--frame-rate", "30000/1001")
	if clips.Probed != 0 || !clips.Written || clips.Cache == first.Cache || clips.Clips == first.Clips {
		t.Errorf("clip-option change: %+v", clips)
	}

	exact := buildJ(t, home, root, "--target", "torchvision-pyav", "--mode", "exact")
	if exact.Probed != 16 {
		t.Errorf("a different mode must re-probe: %+v", exact)
	}

	r := vc(t, home, "inspect", first.Cache)
	if r.code != 0 || !strings.Contains(r.stdout, "totals: 16 videos (2 without timestamps)") ||
		!strings.Contains(r.stdout, `"playing guitar"`) {
		t.Errorf("inspect: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = vc(t, home, "inspect", "--json", first.Cache)
	var rep struct {
		Globals  []string `json:"globals"`
		Vidcache struct {
			Videos int `json:"videos"`
		} `json:"vidcache"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Vidcache.Videos != 16 {
		t.Errorf("inspect --json: %v %s", err, r.stdout)
	}
}

func TestBuildPrintsPath(t *testing.T) {
	home := t.TempDir()
	out := filepath.Join(t.TempDir(), "my cache.pt")
	r := vc(t, home, "build", sample(t), "--out", out, "--quiet")
	if r.code != 0 || r.stdout != out+"\n" || r.stderr != "" {
		t.Fatalf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	r = vc(t, home, "build", sample(t), "--out", out)
	if !strings.Contains(r.stderr, "16 videos in 5 classes: 0 probed, 16 reused, 2 failed") ||
		!strings.Contains(r.stderr, "not-a-video.mp4: open_failed") {
		t.Errorf("summary: %s", r.stderr)
	}
}

func TestExitCodes(t *testing.T) {
	home := t.TempDir()
	missing := filepath.Join(t.TempDir(), "nope")
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, exitUsage, ""},
		{[]string{"frobnicate"}, exitUsage, "unknown command"},
		{[]string{"build"}, exitUsage, "ROOT"},
		{[]string{"build", "a", "b"}, exitUsage, "ROOT"},
		{[]string{"build", sample(t), "--frame-rate", "fast"}, exitUsage, "--frame-rate"},
		{[]string{"build", sample(t), "--frames-per-clip", "0"}, exitUsage, "frames per clip"},
		{[]string{"build", sample(t), "--mode", "slow"}, exitUsage, "--mode"},
		{[]string{"build", missing}, exitError, missing},
		{[]string{"inspect", missing}, exitUsage, missing},
		{[]string{"version"}, exitOK, ""},
	} {
		r := vc(t, home, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr+r.stdout, c.msg) {
			t.Errorf("%v: exit %d (want %d), output %q (want %q)", c.args, r.code, c.code, r.stderr+r.stdout, c.msg)
		}
	}
}

func TestAuditExitCodes(t *testing.T) {
	home := t.TempDir()
	fx := "../../cachefmt/testdata/audit/"
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
		{[]string{fx + "os-system.pkl", "main.go"}, exitUsage, "main.go: unreadable: neither a zip nor a pickle"},
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

func TestVerify(t *testing.T) {
	home := t.TempDir()
	// A private copy of the dataset, so it can be changed.
	root := filepath.Join(t.TempDir(), "ds")
	if err := os.CopyFS(root, os.DirFS(sample(t))); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "c.pt")
	if r := vc(t, home, "build", root, "--out", out, "--quiet", "--frames-per-clip", "4"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := vc(t, home, "verify", out, "--root", root); r.code != 0 || !strings.Contains(r.stdout, "OK (zip, audit, format, consistency, dataset; 16 videos)") {
		t.Fatalf("fresh cache: exit %d %s", r.code, r.stdout)
	}
	good, _ := os.ReadFile(out)
	broken := func(name string, edit func([]byte) []byte) string {
		p := filepath.Join(t.TempDir(), name)
		os.WriteFile(p, edit(append([]byte(nil), good...)), 0o644)
		return p
	}
	// Flip one byte of the timestamps record: CRC mismatch.
	crc := broken("crc.pt", func(b []byte) []byte {
		i := bytes.Index(b, []byte("vidcache/data/0"))
		b[i+200] ^= 1
		return b
	})
	if r := vc(t, home, "verify", crc); r.code != 4 || !strings.Contains(r.stdout, "corrupt") {
		t.Errorf("CRC damage: exit %d %s", r.code, r.stdout)
	}
	if r := vc(t, home, "verify", "../../cachefmt/testdata/audit/harmless.pt"); r.code != 6 {
		t.Errorf("not a vidcache file: exit %d %s", r.code, r.stdout)
	}
	if r := vc(t, home, "verify", "../../cachefmt/testdata/audit/numpy-array.pt"); r.code != 5 {
		t.Errorf("unsafe file: exit %d %s", r.code, r.stdout)
	}
	if r := vc(t, home, "verify", "main.go"); r.code != 2 {
		t.Errorf("not a zip: exit %d %s", r.code, r.stdout)
	}
	// Stale: a video replaced, then one removed.
	v := filepath.Join(root, "train", "abseiling", "h264-25fps.mp4")
	b, _ := os.ReadFile(v)
	os.WriteFile(v, append(b, 0), 0o644)
	if r := vc(t, home, "verify", out, "--root", root); r.code != 3 || !strings.Contains(r.stdout, "h264-25fps.mp4: changed since indexed") {
		t.Errorf("changed video: exit %d %s", r.code, r.stdout)
	}
	os.Remove(v)
	if r := vc(t, home, "verify", out, "--root", root, "--json"); r.code != 3 || !strings.Contains(r.stdout, `"class":"stale"`) {
		t.Errorf("removed video: exit %d %s", r.code, r.stdout)
	}
}

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

// TestHelpListsExitCodes: the exit-code table in `vidcache help` is the one
// the commands use, and the README shows the same table.
func TestHelpListsExitCodes(t *testing.T) {
	var out bytes.Buffer
	if code := runWith(context.Background(), &env{stdout: &out, stderr: &out, getenv: func(string) string { return "" }}, []string{"help"}); code != exitOK {
		t.Fatalf("help: exit %d", code)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range exitTable {
		if !strings.Contains(out.String(), fmt.Sprintf("  %-4d %s", x.code, x.meaning)) {
			t.Errorf("help lacks exit code %d", x.code)
		}
		if !strings.Contains(string(readme), fmt.Sprintf("| %d |", x.code)) {
			t.Errorf("README's table lacks exit code %d", x.code)
		}
	}
}
