package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/cachefmt/clips"
	"github.com/vidcache/vidcache/cachefmt/vocab"
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

// chromiumArgs are the options every headless run takes.
func chromiumArgs(t *testing.T) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + t.TempDir(),
		"--window-size=1200,1600"}
}

// render runs headless Chromium on file: its DOM after rendering, and a
// screenshot written to png.
func render(t *testing.T, file, png string) string {
	t.Helper()
	bin, args := chromium(t), chromiumArgs(t)
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
		{`data-testid="class-row"`, 5}, {`data-testid="failure"`, 2}, {`data-testid="duration-bar"`, 10}, {"<svg", 2},
		{`data-class="playing guitar" data-videos="4"`, 1}, {"1 new, 0 changed, 0 removed", 1},
		{"not-a-video.mp4</code></td><td>open_failed</td><td>open: Invalid data found when processing input", 1},
		{`<tr data-testid="cause"><td>open_failed</td><td>open: Invalid data found when processing input</td><td class="n">2</td></tr>`, 1},
		// A small dataset: every video, in one table.
		{`data-testid="videos-table"`, 1}, {`data-testid="video"`, 16}, {`data-testid="videos-note"`, 0},
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
		if v.Failed() {
			failed++
		}
		if v.Status.OK() && (v.Duration == nil || *v.Duration <= 0) {
			t.Errorf("%s: no duration", v.Path)
		}
	}
	if failed != 2 {
		t.Errorf("%d failed videos in the JSON report", failed)
	}
}

// synthIndex writes, without probing anything, what a build of a
// Kinetics-sized dataset leaves behind: an index (home/index.db) with one row
// per video and the cache for them, n videos over nClasses classes, every
// 200th one failed, durations from 0.3 s to about 20 s at 25, 30 or
// 29.97 fps. The dataset's class folders exist but are empty (its videos
// are gone). Returns the cache's path and the failed count.
func synthIndex(t *testing.T, home string, n, nClasses int) (string, int) {
	t.Helper()
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "k400")
	cfg := cachefmt.Config{Root: root, Split: "train", Spec: clips.Spec{FramesPerClip: 16, StepBetweenClips: 1}, Target: vocab.TargetTorchvision}
	if err := cfg.Normalize(); err != nil {
		t.Fatal(err)
	}
	c := &cachefmt.Cache{Config: cfg, Videos: make([]cachefmt.Video, n)}
	for k := 0; k < nClasses; k++ {
		c.Classes = append(c.Classes, fmt.Sprintf("class %03d <&>", k))
		if err := os.MkdirAll(filepath.Join(root, "train", c.Classes[k]), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	rows := make([]*indexer.Row, n)
	rates := []float64{25, 30, 30000.0 / 1001}
	rng := rand.New(rand.NewPCG(1, 2))
	failed := 0
	for i := range c.Videos {
		label := i * nClasses / n // videos in class order, as a walk lists them
		path := filepath.Join(root, "train", c.Classes[label], fmt.Sprintf("video-%07d.mp4", i))
		row := &indexer.Row{Path: path, Size: 1 << 20, MtimeNs: 1, Inode: uint64(i + 1), Status: vocab.StatusOK,
			Mode: vocab.ModeScan, FFmpeg: "9.0.2", Probed: 1}
		v := cachefmt.Video{Path: path, Label: int64(label)}
		if i%200 == 7 {
			failed++
			row.Status, row.Error = vocab.StatusOpenFailed, "open: Invalid data found when processing input"
		} else {
			fps := rates[rng.IntN(len(rates))]
			v.FPS, v.FPSInt = &fps, cachefmt.JSONInt(fps)
			v.NumFrames = int64(10 + rng.IntN(int(20*fps)))
			n, err := clips.ForVideo(int(v.NumFrames), v.FPS, cfg.Spec)
			if err != nil {
				t.Fatal(err)
			}
			v.ClipCount = int64(n)
			row.FPS, row.Frames = &fps, int(v.NumFrames)
		}
		c.Videos[i], rows[i] = v, row
	}
	cache := filepath.Join(home, "caches", "k400-train.pt")
	if err := os.MkdirAll(filepath.Dir(cache), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := cachefmt.WriteFile(cache, c, cachefmt.Options{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	ix, err := indexer.OpenIndex(ctx, filepath.Join(home, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := ix.PutRows(ctx, rows); err != nil {
		t.Fatal(err)
	}
	return cache, failed
}

// renderTimed renders file in headless Chromium (--dump-dom) and returns
// the DOM and the wall time.
func renderTimed(t *testing.T, file string) (string, time.Duration) {
	t.Helper()
	bin, args := chromium(t), append(chromiumArgs(t), "--dump-dom", "file://"+file)
	start := time.Now()
	dom, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	return string(dom), time.Since(start)
}

// TestReportAtScale: the report of a 250,000-video index (made directly,
// nothing probed) stays a page a browser opens at once: its size and the
// time headless Chromium takes to render it stay small.
func TestReportAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("250,000 videos: skipped with -short")
	}
	home := t.TempDir()
	start := time.Now()
	cache, failed := synthIndex(t, home, 250_000, 400)
	t.Logf("synthetic index and cache of 250,000 videos: %.1fs", time.Since(start).Seconds())
	html := filepath.Join(t.TempDir(), "report.html")
	start = time.Now()
	if r := vc(t, home, "report", "--out", html, cache); r.code != exitOK {
		t.Fatal(r.stderr)
	}
	gen := time.Since(start)
	fi, err := os.Stat(html)
	if err != nil {
		t.Fatal(err)
	}
	dom, took := renderTimed(t, html)
	empty := filepath.Join(t.TempDir(), "empty.html")
	os.WriteFile(empty, []byte("<!DOCTYPE html><title>x</title><p>x</p>"), 0o644)
	_, base := renderTimed(t, empty)
	t.Logf("report: %d bytes, written in %.2fs; Chromium --dump-dom %.2fs (an empty page: %.2fs); %d failed", fi.Size(), gen.Seconds(), took.Seconds(), base.Seconds(), failed)
	// The page listing every video was 64 MB here, and Chromium took 319 s
	// to render it (an empty page: 2.8 s).
	if fi.Size() > 1<<20 {
		t.Errorf("the report is %d bytes; want at most 1 MiB", fi.Size())
	}
	if took-base > 10*time.Second {
		t.Errorf("Chromium took %v to render the report, %v more than an empty page", took, took-base)
	}
	// Everything a reader needs is there: every class, every failure and its
	// cause, the longest and shortest videos, a sample, and where the rest is.
	var rep indexer.Report
	start = time.Now()
	r := vc(t, home, "report", "--json", cache)
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || len(rep.Videos) != 250_000 {
		t.Fatalf("json: %v, %d videos", err, len(rep.Videos))
	}
	longest, shortest := rep.Videos[0], rep.Videos[0]
	for _, v := range rep.Videos {
		if v.Duration == nil {
			continue
		}
		if longest.Duration == nil || *v.Duration > *longest.Duration {
			longest = v
		}
		if shortest.Duration == nil || *v.Duration < *shortest.Duration {
			shortest = v
		}
	}
	tables := func(id string) string {
		_, rest, ok := strings.Cut(dom, `data-testid="`+id+`"`)
		if !ok {
			t.Fatalf("no %s table", id)
		}
		table, _, _ := strings.Cut(rest, "</table>")
		return table
	}
	for _, want := range []struct {
		what  string
		count int
	}{
		{`data-testid="class-row"`, 400}, {`data-class="class 399 &lt;&amp;&gt;" data-videos="625"`, 1},
		{`data-testid="failure"`, failed}, {`data-testid="cause"`, 1},
		{`<td>open_failed</td><td>open: Invalid data found when processing input</td><td class="n">1250</td>`, 1},
		{`data-testid="video"`, 2*reportExtremes + reportSample}, {`data-testid="videos-note"`, 1},
		{`<div class="card" data-testid="videos"><b>250000</b>videos</div>`, 1},
		{"vidcache report --csv " + cache + " &gt; videos.csv", 1},
		{"0 new, 0 changed, 250000 removed", 1},
	} {
		if n := strings.Count(dom, want.what); n != want.count {
			t.Errorf("rendered DOM has %d of %q, want %d", n, want.what, want.count)
		}
	}
	// The first row of each: the longest (shortest) video, ties in dataset order.
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace
	for _, c := range []struct {
		id string
		v  indexer.ReportVideo
	}{{"longest", longest}, {"shortest", shortest}} {
		table := tables(c.id)
		_, first, _ := strings.Cut(table, `data-testid="video"`)
		first, _, _ = strings.Cut(first, "</tr>")
		if !strings.Contains(first, esc(c.v.Path)) || strings.Count(table, `data-testid="video"`) != reportExtremes {
			t.Errorf("the %s table does not start with %s (%.2f s):%s", c.id, c.v.Path, *c.v.Duration, first)
		}
	}
	r = vc(t, home, "report", "--csv", cache)
	if n := strings.Count(r.stdout, "\n"); r.code != exitOK || n != 250_001 {
		t.Errorf("csv: exit %d, %d lines", r.code, n)
	}
	t.Logf("--json and --csv of every video: %.2fs", time.Since(start).Seconds())
}
