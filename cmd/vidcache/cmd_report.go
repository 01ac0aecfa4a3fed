package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vidcache/vidcache/cachefmt/vocab"
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

// The page lists every video only for small datasets; above reportAllVideos
// it lists the longest, the shortest and an evenly spaced sample, so that a
// Kinetics-sized report stays a page a browser opens at once (--csv and
// --json always have every video). Failures and classes are always in full,
// up to reportMaxFailures failed videos (every cause is still counted).
const (
	reportAllVideos   = 1000
	reportExtremes    = 25
	reportSample      = 100
	reportMaxFailures = 5000
	reportMaxCauses   = 100
)

type reportPage struct {
	*indexer.Report
	Generated             string
	Total, Failed         int
	Clips                 int64
	Duration              string // of every video with frames
	ClassRows             []classRow
	DurationBars, FPSBars []bar
	DurH, FPSH            float64
	Causes                []failureCause
	MoreCauses            string // the causes beyond reportMaxCauses, summed
	FailedVideos          []indexer.ReportVideo
	FailedListed          int
	NewN, ChangedN, GoneN int
	New, Changed, Removed []string
	FrameRate             string
	VideoTables           []videoTable
	AllVideos             bool // VideoTables is one table of every video
	Listed                int  // videos in VideoTables
	CSVCommand            string
}

// classRow is one class of the per-class table.
type classRow struct {
	Name                      string
	Videos, Failed            int
	Clips                     int64
	Width                     string // the videos bar, in px
	Shortest, Median, Longest string // durations of its videos with frames
	Duration                  string // all of them
}

// failureCause counts the failed videos with one status and cause.
type failureCause struct {
	Status, Error string
	Count         int
}

// videoTable is one table of videos on the page.
type videoTable struct {
	ID, Title string
	Videos    []indexer.ReportVideo
}

func seconds(d float64) string { return strconv.FormatFloat(d, 'f', 1, 64) }

// span is a total duration for people: seconds, minutes or hours.
func span(s float64) string {
	switch {
	case s < 120:
		return strconv.FormatFloat(s, 'f', 0, 64) + " s"
	case s < 7200:
		return strconv.FormatFloat(s/60, 'f', 1, 64) + " min"
	}
	return strconv.FormatFloat(s/3600, 'f', 1, 64) + " h"
}

func writeReportHTML(w io.Writer, r *indexer.Report) error {
	p := &reportPage{Report: r, Generated: time.Now().Format("2006-01-02 15:04:05 MST"), Total: len(r.Videos), FrameRate: "native"}
	if r.Config.FrameRate != nil {
		p.FrameRate = strconv.FormatFloat(*r.Config.FrameRate, 'g', -1, 64) + " fps"
	}
	p.CSVCommand = "vidcache report --csv " + shellQuote(r.Cache) + " > videos.csv"
	index := map[string]int{}
	for i, c := range r.Classes {
		index[c] = i
	}
	classDurs := make([][]float64, len(r.Classes))
	p.ClassRows = make([]classRow, len(r.Classes))
	var durs, fpss []float64
	var total float64
	causes := map[failureCause]int{}
	var withDur []int // indexes of videos with a duration
	for i := range r.Videos {
		v := &r.Videos[i]
		k, ok := index[v.Class]
		if ok {
			p.ClassRows[k].Videos++
			p.ClassRows[k].Clips += v.Clips
		}
		p.Clips += v.Clips
		if v.Duration != nil {
			durs = append(durs, *v.Duration)
			total += *v.Duration
			withDur = append(withDur, i)
			if ok {
				classDurs[k] = append(classDurs[k], *v.Duration)
			}
		}
		if v.FPS != nil {
			fpss = append(fpss, *v.FPS)
		}
		if v.Failed() {
			p.Failed++
			if ok {
				p.ClassRows[k].Failed++
			}
			status := string(v.Status)
			if v.Status == vocab.StatusUnknown {
				status = "no frames" // no index row says why
			}
			causes[failureCause{Status: status, Error: strings.TrimSpace(v.Error)}]++
			if len(p.FailedVideos) < reportMaxFailures {
				p.FailedVideos = append(p.FailedVideos, *v)
			}
		}
	}
	p.Duration = span(total)
	p.classTable(r.Classes, classDurs)
	p.causeTable(causes)
	sort.Slice(p.FailedVideos, func(i, j int) bool { return p.FailedVideos[i].Path < p.FailedVideos[j].Path })
	p.FailedListed = len(p.FailedVideos)
	l, c := histogram(durs, 10, " s")
	p.DurationBars, p.DurH = barChart(l, c, nil, 360, "duration-bar"), float64(len(l))*22+4
	l, c = histogram(fpss, 8, " fps")
	p.FPSBars, p.FPSH = barChart(l, c, nil, 360, "fps-bar"), float64(len(l))*22+4
	if ch := r.Changes; ch != nil {
		p.NewN, p.ChangedN, p.GoneN = ch.Counts.New, ch.Counts.Changed, ch.Counts.Removed
		p.New, p.Changed, p.Removed = firstN(ch.New, 50), firstN(ch.Changed, 50), firstN(ch.Removed, 50)
	}
	p.videoTables(withDur)
	return reportTemplate.Execute(w, p)
}

// classTable fills the class rows (counted by writeReportHTML): names in
// label order, each bar scaled to the largest class, and each class's
// durations.
func (p *reportPage) classTable(classes []string, classDurs [][]float64) {
	most := 0
	for _, c := range p.ClassRows {
		most = max(most, c.Videos)
	}
	for k := range p.ClassRows {
		c := &p.ClassRows[k]
		c.Name = classes[k]
		if most > 0 {
			c.Width = strconv.FormatFloat(float64(c.Videos)/float64(most)*120, 'f', 1, 64)
		}
		if d := classDurs[k]; len(d) > 0 {
			sort.Float64s(d)
			var sum float64
			for _, x := range d {
				sum += x
			}
			c.Shortest, c.Median, c.Longest, c.Duration = seconds(d[0]), seconds(d[len(d)/2]), seconds(d[len(d)-1]), span(sum)
		}
	}
}

// causeTable lists the failures' causes: every cause counted, most
// frequent first, the first reportMaxCauses shown.
func (p *reportPage) causeTable(causes map[failureCause]int) {
	for c, n := range causes {
		c.Count = n
		p.Causes = append(p.Causes, c)
	}
	sort.Slice(p.Causes, func(i, j int) bool {
		a, b := p.Causes[i], p.Causes[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Status != b.Status {
			return a.Status < b.Status
		}
		return a.Error < b.Error
	})
	if len(p.Causes) > reportMaxCauses {
		n := 0
		for _, c := range p.Causes[reportMaxCauses:] {
			n += c.Count
		}
		p.MoreCauses = fmt.Sprintf("%d more causes, %d videos", len(p.Causes)-reportMaxCauses, n)
		p.Causes = p.Causes[:reportMaxCauses]
	}
}

// videoTables chooses the per-video tables: every video for a small
// dataset; otherwise the longest, the shortest (of those with frames) and an
// evenly spaced sample in dataset order.
func (p *reportPage) videoTables(withDur []int) {
	vs := p.Report.Videos
	if len(vs) <= reportAllVideos {
		p.AllVideos, p.Listed = true, len(vs)
		p.VideoTables = []videoTable{{ID: "videos-table", Title: "Every video", Videos: vs}}
		return
	}
	// Ties in dataset order.
	longest := slices.Clone(withDur)
	sort.SliceStable(longest, func(i, j int) bool { return *vs[longest[i]].Duration > *vs[longest[j]].Duration })
	sort.SliceStable(withDur, func(i, j int) bool { return *vs[withDur[i]].Duration < *vs[withDur[j]].Duration })
	pick := func(idx []int) []indexer.ReportVideo {
		out := make([]indexer.ReportVideo, len(idx))
		for k, i := range idx {
			out[k] = vs[i]
		}
		return out
	}
	n := min(reportExtremes, len(withDur))
	longest = longest[:n]
	sample := make([]int, reportSample)
	for k := range sample {
		sample[k] = (2*k + 1) * len(vs) / (2 * reportSample)
	}
	p.VideoTables = []videoTable{
		{ID: "longest", Title: fmt.Sprintf("The %d longest", n), Videos: pick(longest)},
		{ID: "shortest", Title: fmt.Sprintf("The %d shortest (of those with frames)", n), Videos: pick(withDur[:n])},
		{ID: "sample", Title: fmt.Sprintf("%d videos evenly spaced through the dataset's order", reportSample), Videos: pick(sample)},
	}
	p.Listed = 2*n + reportSample
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:,@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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
h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd} h3{font-size:1em;margin:1.4em 0 .4em}
.meta{color:#555} .cards{display:flex;gap:1em;flex-wrap:wrap;margin:1em 0}
.card{border:1px solid #ddd;border-radius:8px;padding:.6em 1em;min-width:8em}
.card b{display:block;font-size:1.6em} .bad b{color:#b3261e}
table{border-collapse:collapse;width:100%;font-size:13px} td,th{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f6f6f6} td.n{text-align:right;font-variant-numeric:tabular-nums}
td.bar{width:130px} td.bar i{display:block;height:10px;background:#3b6fd4;margin-top:4px}
svg text{font:12px system-ui,sans-serif}
code{font-size:12px}
</style></head><body>
<h1>{{.Config.Root}} — split <code>{{.Config.Split}}</code></h1>
<p class="meta">cache <code>{{.Cache}}</code> · target {{.Config.Target}}, mode {{.Config.Mode}} · {{.Config.FramesPerClip}} frames per clip, step {{.Config.StepBetweenClips}}, frame rate {{.FrameRate}} · report made {{.Generated}}</p>
<div class="cards">
<div class="card" data-testid="videos"><b>{{.Total}}</b>videos</div>
<div class="card" data-testid="classes"><b>{{len .Classes}}</b>classes</div>
<div class="card" data-testid="clips"><b>{{.Clips}}</b>clips</div>
<div class="card" data-testid="duration"><b>{{.Duration}}</b>of video</div>
<div class="card{{if .Failed}} bad{{end}}" data-testid="failed"><b>{{.Failed}}</b>without frames</div>
</div>

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
{{if .FailedVideos}}<table data-testid="causes"><tr><th>status</th><th>cause</th><th>videos</th></tr>
{{range .Causes}}<tr data-testid="cause"><td>{{.Status}}</td><td>{{.Error}}</td><td class="n">{{.Count}}</td></tr>
{{end}}{{if .MoreCauses}}<tr><td colspan="3">… {{.MoreCauses}}</td></tr>{{end}}</table>
<h3>{{if lt .FailedListed .Failed}}The first {{.FailedListed}} of {{.Failed}}, by path (every one: <code>{{.CSVCommand}}</code>){{else}}Every one, by path{{end}}</h3>
<table data-testid="failures"><tr><th>video</th><th>status</th><th>cause</th></tr>
{{range .FailedVideos}}<tr data-testid="failure"><td><code>{{.Path}}</code></td><td>{{if .Status}}{{.Status}}{{else}}no frames{{end}}</td><td>{{.Error}}</td></tr>
{{end}}</table>{{else}}<p>None: every video has frames.</p>{{end}}

<h2>Changes since the cache was built</h2>
{{if .Changes}}<p data-testid="changes">{{.NewN}} new, {{.ChangedN}} changed, {{.GoneN}} removed{{if .Changes.Fresh}} — the cache is fresh{{else}} — {{.Changes.Reason}}{{end}}.</p>
{{if .New}}<p>New:</p><ul>{{range .New}}<li><code>{{.}}</code></li>{{end}}</ul>{{end}}
{{if .Changed}}<p>Changed:</p><ul>{{range .Changed}}<li><code>{{.}}</code></li>{{end}}</ul>{{end}}
{{if .Removed}}<p>Removed:</p><ul>{{range .Removed}}<li><code>{{.}}</code></li>{{end}}</ul>{{end}}
{{else}}<p data-testid="changes">Not compared{{if .ChangesError}}: {{.ChangesError}}{{end}}.</p>{{end}}

<h2>Classes ({{len .Classes}})</h2>
<table data-testid="classes-table"><tr><th>class</th><th>videos</th><th></th><th>clips</th><th>without frames</th><th>shortest s</th><th>median s</th><th>longest s</th><th>in all</th></tr>
{{range .ClassRows}}<tr data-testid="class-row" data-class="{{.Name}}" data-videos="{{.Videos}}" data-clips="{{.Clips}}"><td>{{.Name}}</td><td class="n">{{.Videos}}</td><td class="bar"><i style="width:{{.Width}}px"></i></td><td class="n">{{.Clips}}</td><td class="n">{{.Failed}}</td><td class="n">{{.Shortest}}</td><td class="n">{{.Median}}</td><td class="n">{{.Longest}}</td><td class="n">{{.Duration}}</td></tr>
{{end}}</table>

<h2>{{if .AllVideos}}Every video{{else}}Videos ({{.Listed}} of {{.Total}}){{end}}</h2>
{{if not .AllVideos}}<p data-testid="videos-note">{{.Total}} videos are too many for one page: below are the longest, the shortest and a sample; the videos without frames are listed above. Every video, one row each: <code>{{.CSVCommand}}</code> (or <code>--json</code>).</p>{{end}}
{{range .VideoTables}}{{if not $.AllVideos}}<h3>{{.Title}}</h3>{{end}}
<table data-testid="{{.ID}}"><tr><th>video</th><th>class</th><th>frames</th><th>fps</th><th>seconds</th><th>clips</th><th>status</th></tr>
{{range .Videos}}<tr data-testid="video"><td><code>{{.Path}}</code></td><td>{{.Class}}</td><td class="n">{{.Frames}}</td><td class="n">{{num .FPS 3}}</td><td class="n">{{num .Duration 2}}</td><td class="n">{{.Clips}}</td><td>{{.Status}}</td></tr>
{{end}}</table>
{{end}}</body></html>
`))
