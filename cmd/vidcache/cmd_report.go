package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/vidcache/vidcache/indexer"
)

func init() {
	register(command{name: "report", summary: "a cache's dataset as a self-contained HTML page (or --csv/--json per video)", run: runReport})
}

func runReport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "report", "report [--out FILE] [--csv | --json] [--no-index] CACHE")
	out := fs.String("out", "", "write to this file (default: stdout)")
	asCSV := fs.Bool("csv", false, "one CSV row per video instead of HTML")
	asJSON := jsonFlag(fs, "one JSON object (per-video rows and the changes)")
	db := dbFlag(fs)
	noIndex := fs.Bool("no-index", false, "do not read the index (no statuses, no changes)")
	file, err := parseOne(fs, args, "CACHE")
	if err != nil {
		return err
	}
	var ix *indexer.Index
	if !*noIndex {
		if ix, err = openIndexReadOnly(ctx, e, *db); err != nil {
			return err
		}
		defer ix.Close()
	}
	rep, err := indexer.MakeReport(ctx, file, ix)
	if err != nil {
		return withCode(exitUsage, err)
	}
	w := e.stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	switch {
	case *asJSON:
		return writeJSON(w, rep)
	case *asCSV:
		return writeReportCSV(w, rep)
	}
	return writeReportHTML(w, rep)
}

func writeReportCSV(w io.Writer, r *indexer.Report) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"path", "class", "frames", "fps", "duration_seconds", "clips", "status", "error"})
	for _, v := range r.Videos {
		cw.Write([]string{v.Path, v.Class, strconv.Itoa(v.Frames), fmtOpt(v.FPS), fmtOpt(v.Duration), strconv.FormatInt(v.Clips, 10), string(v.Status), v.Error})
	}
	cw.Flush()
	return cw.Error()
}

func fmtOpt(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'g', 8, 64)
}

// bar is one row of a horizontal bar chart.
type bar struct {
	Label        string
	Value        float64
	Width, Y     float64
	Value2       float64 // a second series (clips beside videos)
	Width2       float64
	Text, Text2  string
	TestID       string
	HasSecondary bool
	TextX        float64 // where the label after the bars goes
}

// barChart scales values to widths of at most maxW pixels.
func barChart(labels []string, a, b []float64, maxW float64, id string) []bar {
	var top, top2 float64
	for i := range labels {
		top = math.Max(top, a[i])
		if b != nil {
			top2 = math.Max(top2, b[i])
		}
	}
	var out []bar
	for i, l := range labels {
		x := bar{Label: l, Value: a[i], Y: float64(i) * 22, Text: strconv.FormatFloat(a[i], 'f', -1, 64), TestID: id}
		if top > 0 {
			x.Width = a[i] / top * maxW
		}
		if b != nil {
			x.HasSecondary, x.Value2, x.Text2 = true, b[i], strconv.FormatFloat(b[i], 'f', -1, 64)
			if top2 > 0 {
				x.Width2 = b[i] / top2 * maxW
			}
		}
		x.TextX = math.Max(x.Width, x.Width2)
		out = append(out, x)
	}
	return out
}

// histogram bins values into n equal bins between their min and max.
func histogram(vals []float64, n int, unit string) ([]string, []float64) {
	if len(vals) == 0 {
		return nil, nil
	}
	lo, hi := vals[0], vals[0]
	for _, v := range vals {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if hi == lo {
		return []string{strconv.FormatFloat(lo, 'g', 4, 64) + unit}, []float64{float64(len(vals))}
	}
	counts := make([]float64, n)
	for _, v := range vals {
		k := int((v - lo) / (hi - lo) * float64(n))
		counts[min(k, n-1)]++
	}
	labels := make([]string, n)
	for k := range labels {
		a, b := lo+(hi-lo)*float64(k)/float64(n), lo+(hi-lo)*float64(k+1)/float64(n)
		labels[k] = fmt.Sprintf("%.3g–%.3g%s", a, b, unit)
	}
	return labels, counts
}

type reportPage struct {
	*indexer.Report
	Generated             string
	Total, Failed         int
	Clips                 int64
	ClassBars             []bar
	DurationBars, FPSBars []bar
	ClassH, DurH, FPSH    float64
	FailedVideos          []indexer.ReportVideo
	NewN, ChangedN, GoneN int
	New, Changed, Removed []string
	FrameRate             string
}

func writeReportHTML(w io.Writer, r *indexer.Report) error {
	p := &reportPage{Report: r, Generated: time.Now().Format("2006-01-02 15:04:05 MST"), Total: len(r.Videos), FrameRate: "native"}
	if r.Config.FrameRate != nil {
		p.FrameRate = strconv.FormatFloat(*r.Config.FrameRate, 'g', -1, 64) + " fps"
	}
	perVideos := make([]float64, len(r.Classes))
	perClips := make([]float64, len(r.Classes))
	index := map[string]int{}
	for i, c := range r.Classes {
		index[c] = i
	}
	var durs, fpss []float64
	for _, v := range r.Videos {
		if i, ok := index[v.Class]; ok {
			perVideos[i]++
			perClips[i] += float64(v.Clips)
		}
		p.Clips += v.Clips
		if v.Duration != nil {
			durs = append(durs, *v.Duration)
		}
		if v.FPS != nil {
			fpss = append(fpss, *v.FPS)
		}
		if v.Frames == 0 || (v.Status != "" && v.Status != "ok") {
			p.Failed++
			p.FailedVideos = append(p.FailedVideos, v)
		}
	}
	sort.Slice(p.FailedVideos, func(i, j int) bool { return p.FailedVideos[i].Path < p.FailedVideos[j].Path })
	p.ClassBars = barChart(r.Classes, perVideos, perClips, 360, "class-bar")
	p.ClassH = float64(len(p.ClassBars))*22 + 4
	l, c := histogram(durs, 10, " s")
	p.DurationBars, p.DurH = barChart(l, c, nil, 360, "duration-bar"), float64(len(l))*22+4
	l, c = histogram(fpss, 8, " fps")
	p.FPSBars, p.FPSH = barChart(l, c, nil, 360, "fps-bar"), float64(len(l))*22+4
	if ch := r.Changes; ch != nil {
		p.NewN, p.ChangedN, p.GoneN = ch.Counts.New, ch.Counts.Changed, ch.Counts.Removed
		p.New, p.Changed, p.Removed = firstN(ch.New, 50), firstN(ch.Changed, 50), firstN(ch.Removed, 50)
	}
	return reportTemplate.Execute(w, p)
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	// num shows an optional number with prec decimals ("" for none).
	"num": func(p *float64, prec int) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', prec, 64)
	},
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>vidcache report: {{.Config.Root}} {{.Config.Split}}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1d1d1f;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
.meta{color:#555} .cards{display:flex;gap:1em;flex-wrap:wrap;margin:1em 0}
.card{border:1px solid #ddd;border-radius:8px;padding:.6em 1em;min-width:8em}
.card b{display:block;font-size:1.6em} .bad b{color:#b3261e}
table{border-collapse:collapse;width:100%;font-size:13px} td,th{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f6f6f6} td.n{text-align:right;font-variant-numeric:tabular-nums}
svg text{font:12px system-ui,sans-serif} .legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}
code{font-size:12px}
</style></head><body>
<h1>{{.Config.Root}} — split <code>{{.Config.Split}}</code></h1>
<p class="meta">cache <code>{{.Cache}}</code> · target {{.Config.Target}}, mode {{.Config.Mode}} · {{.Config.FramesPerClip}} frames per clip, step {{.Config.StepBetweenClips}}, frame rate {{.FrameRate}} · report made {{.Generated}}</p>
<div class="cards">
<div class="card" data-testid="videos"><b>{{.Total}}</b>videos</div>
<div class="card" data-testid="classes"><b>{{len .Classes}}</b>classes</div>
<div class="card" data-testid="clips"><b>{{.Clips}}</b>clips</div>
<div class="card{{if .Failed}} bad{{end}}" data-testid="failed"><b>{{.Failed}}</b>without frames</div>
</div>

<h2>Videos and clips per class</h2>
<p class="legend"><span style="background:#3b6fd4"></span>videos<span style="background:#9bb7ea"></span>clips (each bar scaled to its own maximum)</p>
<svg width="760" height="{{.ClassH}}" role="img" aria-label="videos and clips per class">
{{range .ClassBars}}<g data-testid="class-bar" data-class="{{.Label}}" data-videos="{{.Text}}" data-clips="{{.Text2}}" transform="translate(0,{{.Y}})">
<text x="230" y="14" text-anchor="end">{{.Label}}</text>
<rect x="240" y="2" width="{{.Width}}" height="8" fill="#3b6fd4"></rect>
<rect x="240" y="10" width="{{.Width2}}" height="8" fill="#9bb7ea"></rect>
<text x="{{.TextX}}" dx="246" y="14">{{.Text}} / {{.Text2}}</text></g>
{{end}}</svg>

<h2>Durations</h2>
{{if .DurationBars}}<svg width="760" height="{{.DurH}}" role="img" aria-label="duration histogram">
{{range .DurationBars}}<g data-testid="duration-bar" transform="translate(0,{{.Y}})"><text x="230" y="14" text-anchor="end">{{.Label}}</text>
<rect x="240" y="3" width="{{.Width}}" height="14" fill="#2e8b57"></rect><text x="{{.Width}}" dx="246" y="14">{{.Text}}</text></g>
{{end}}</svg>{{else}}<p>No video has a duration.</p>{{end}}

<h2>Frame rates</h2>
{{if .FPSBars}}<svg width="760" height="{{.FPSH}}" role="img" aria-label="frame-rate histogram">
{{range .FPSBars}}<g data-testid="fps-bar" transform="translate(0,{{.Y}})"><text x="230" y="14" text-anchor="end">{{.Label}}</text>
<rect x="240" y="3" width="{{.Width}}" height="14" fill="#c77c0e"></rect><text x="{{.Width}}" dx="246" y="14">{{.Text}}</text></g>
{{end}}</svg>{{else}}<p>No video has a frame rate.</p>{{end}}

<h2>Videos without frames ({{.Failed}})</h2>
{{if .FailedVideos}}<table data-testid="failures"><tr><th>video</th><th>status</th><th>cause</th></tr>
{{range .FailedVideos}}<tr data-testid="failure"><td><code>{{.Path}}</code></td><td>{{if .Status}}{{.Status}}{{else}}no frames{{end}}</td><td>{{.Error}}</td></tr>
{{end}}</table>{{else}}<p>None: every video has frames.</p>{{end}}

<h2>Changes since the cache was built</h2>
{{if .Changes}}<p data-testid="changes">{{.NewN}} new, {{.ChangedN}} changed, {{.GoneN}} removed{{if .Changes.Fresh}} — the cache is fresh{{else}} — {{.Changes.Reason}}{{end}}.</p>
{{if .New}}<p>New:</p><ul>{{range .New}}<li><code>{{.}}</code></li>{{end}}</ul>{{end}}
{{if .Changed}}<p>Changed:</p><ul>{{range .Changed}}<li><code>{{.}}</code></li>{{end}}</ul>{{end}}
{{if .Removed}}<p>Removed:</p><ul>{{range .Removed}}<li><code>{{.}}</code></li>{{end}}</ul>{{end}}
{{else}}<p data-testid="changes">Not compared{{if .ChangesError}}: {{.ChangesError}}{{end}}.</p>{{end}}

<h2>Every video</h2>
<table data-testid="videos-table"><tr><th>video</th><th>class</th><th>frames</th><th>fps</th><th>seconds</th><th>clips</th><th>status</th></tr>
{{range .Videos}}<tr><td><code>{{.Path}}</code></td><td>{{.Class}}</td><td class="n">{{.Frames}}</td><td class="n">{{num .FPS 3}}</td><td class="n">{{num .Duration 2}}</td><td class="n">{{.Clips}}</td><td>{{.Status}}</td></tr>
{{end}}</table>
</body></html>
`))
