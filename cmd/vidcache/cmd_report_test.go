package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidcache/vidcache/indexer"
)

// chromium returns the headless browser the report test renders with:
// skipped when missing, unless CI is set.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium missing under CI (apt-get install chromium)")
	}
	t.Skip("chromium missing (apt-get install chromium)")
	return ""
}

// render runs headless Chromium on file: its DOM after rendering, and a
// screenshot written to png.
func render(t *testing.T, file, png string) string {
	t.Helper()
	bin := chromium(t)
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + t.TempDir(),
		"--window-size=1200,1600"}
	dom, err := exec.Command(bin, append(args, "--dump-dom", "file://"+file)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	if out, err := exec.Command(bin, append(args, "--screenshot="+png, "file://"+file)...).CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, out)
	}
	return string(dom)
}

// TestReport: the HTML report, rendered by a real browser, shows every
// class's bar, the failures with their causes and the change since the
// build; --csv and --json give one row per video.
func TestReport(t *testing.T) {
	home := t.TempDir()
	root := copySample(t, t.TempDir())
	r := vc(t, home, "build", root, "--quiet")
	if r.code != exitOK {
		t.Fatal(r.stderr)
	}
	cache := strings.TrimSpace(r.stdout)
	b, _ := os.ReadFile(filepath.Join(root, "train/abseiling/h264-25fps.mp4"))
	os.WriteFile(filepath.Join(root, "train/abseiling/added.mp4"), b, 0o644)

	html := filepath.Join(t.TempDir(), "report.html")
	if r := vc(t, home, "report", "--out", html, cache); r.code != exitOK {
		t.Fatal(r.stderr)
	}
	src, _ := os.ReadFile(html)
	if strings.Contains(string(src), "http://") || strings.Contains(string(src), "https://") || strings.Contains(string(src), "<script") {
		t.Error("the report is not self-contained")
	}
	png := filepath.Join(t.TempDir(), "report.png")
	dom := render(t, html, png)
	for _, want := range []struct {
		what  string
		count int
	}{
		{`data-testid="class-bar"`, 5}, {`data-testid="failure"`, 2}, {`data-testid="duration-bar"`, 10}, {"<svg", 3},
		{`data-class="playing guitar" data-videos="4"`, 1}, {"1 new, 0 changed, 0 removed", 1},
		{"not-a-video.mp4</code></td><td>open_failed</td><td>open: Invalid data found when processing input", 1},
	} {
		if n := strings.Count(dom, want.what); n != want.count {
			t.Errorf("rendered DOM has %d of %q, want %d", n, want.what, want.count)
		}
	}
	if fi, err := os.Stat(png); err != nil || fi.Size() < 10000 {
		t.Errorf("screenshot: %v", err)
	}

	r = vc(t, home, "report", "--csv", cache)
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(rows) != 17 || rows[0][0] != "path" || rows[0][6] != "status" {
		t.Fatalf("csv: %v %d rows", err, len(rows))
	}
	var rep indexer.Report
	r = vc(t, home, "report", "--json", cache)
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || len(rep.Videos) != 16 || rep.Changes == nil || rep.Changes.Counts.New != 1 {
		t.Fatalf("json: %v", err)
	}
	failed := 0
	for _, v := range rep.Videos {
		if v.Status != "ok" {
			failed++
		}
		if v.Status == "ok" && (v.Duration == nil || *v.Duration <= 0) {
			t.Errorf("%s: no duration", v.Path)
		}
	}
	if failed != 2 {
		t.Errorf("%d failed videos in the JSON report", failed)
	}
}
