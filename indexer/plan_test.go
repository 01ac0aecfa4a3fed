package indexer

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/cachefmt/clips"
	"github.com/vidcache/vidcache/cachefmt/vocab"
	"github.com/vidcache/vidcache/decoder"
)

// TestPlanDecide: what a plan does with one video, given its file and its
// index row — a table, no probing, no FFmpeg run.
func TestPlanDecide(t *testing.T) {
	const ff = "ffmpeg-9"
	file := Entry{Path: "/d/train/a/v.mp4", Size: 100, MtimeNs: 5, Inode: 7, Mode: 0o644}
	row := func(change func(r *Row)) *Row {
		r := &Row{Path: file.Path, Size: 100, MtimeNs: 5, Inode: 7, Status: vocab.StatusOK, Mode: vocab.ModeScan, Origin: vocab.OriginProbed, FFmpeg: ff, HasPtsHash: true}
		if change != nil {
			change(r)
		}
		return r
	}
	for _, c := range []struct {
		name    string
		entry   func(e *Entry)
		old     *Row
		opts    func(o *BuildOptions)
		hash    string
		want    uint8
		special bool // a bookkeeping row is stored
		touched bool // stat fields or hash refreshed without probing
	}{
		{name: "never indexed", old: nil, want: actProbeNew},
		{name: "fresh", old: row(nil), want: actReuse},
		{name: "resized", old: row(func(r *Row) { r.Size = 99 }), want: actProbe},
		{name: "touched", old: row(func(r *Row) { r.MtimeNs = 6 }), want: actProbe},
		{name: "replaced (inode)", old: row(func(r *Row) { r.Inode = 8 }), want: actProbe},
		{name: "replaced while probed", old: row(func(r *Row) { r.MtimeNs = -1 }), want: actProbe},
		{name: "other FFmpeg", old: row(func(r *Row) { r.FFmpeg = "ffmpeg-7" }), want: actProbe},
		{name: "other probe kind", old: row(func(r *Row) { r.Mode = vocab.ModeFast }), want: actProbe},
		{name: "imported row", old: row(func(r *Row) { r.Origin, r.FFmpeg = vocab.OriginImported, "" }), want: actProbe},
		{name: "imported row, trusted", old: row(func(r *Row) { r.Origin, r.FFmpeg = vocab.OriginImported, "" }), opts: func(o *BuildOptions) { o.TrustImported = true }, want: actReuse},
		{name: "rehash, same content", old: row(func(r *Row) { r.Hash = "h1"; r.MtimeNs = 1 }), opts: func(o *BuildOptions) { o.Rehash = true }, hash: "h1", want: actReuse, touched: true},
		{name: "rehash, new content", old: row(func(r *Row) { r.Hash = "h0" }), opts: func(o *BuildOptions) { o.Rehash = true }, hash: "h1", want: actProbe},
		{name: "rehash, unhashable", old: row(nil), opts: func(o *BuildOptions) { o.Rehash = true }, want: actProbe},
		{name: "dangling link", entry: func(e *Entry) { e.StatErr = errors.New("no such file") }, old: nil, want: actReuse, special: true},
		{name: "FIFO", entry: func(e *Entry) { e.Mode = fs.ModeNamedPipe }, old: nil, want: actReuse, special: true},
		{name: "FIFO, recorded", entry: func(e *Entry) { e.Mode = fs.ModeNamedPipe },
			old: row(func(r *Row) {
				r.Status, r.Error = vocab.StatusNotRegular, "/d/train/a/v.mp4 is not a regular file (p---------)"
			}), want: actReuse},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := file
			if c.entry != nil {
				c.entry(&e)
			}
			opts := BuildOptions{Config: cachefmt.Config{Root: "/d", Target: vocab.TargetTorchvision, Mode: vocab.ModeScan}}
			if c.opts != nil {
				c.opts(&opts)
			}
			pr := &prober{mode: opts.probeMode(), ffmpeg: ff, rehash: opts.Rehash, hashes: map[string]string{}}
			p := &plan{prober: pr, opts: opts, ds: &Dataset{Videos: []Entry{e}}, videos: newVideoSet(1), act: make([]uint8, 1)}
			if c.hash != "" {
				p.hashes[e.Path] = c.hash
			}
			p.decide(0, c.old)
			if p.act[0] != c.want || (len(p.special) > 0) != c.special || (len(p.touched) > 0) != c.touched {
				t.Errorf("act %d (want %d), special %d, touched %d", p.act[0], c.want, len(p.special), len(p.touched))
			}
			if wantReused := c.want == actReuse && !c.special; (p.reused == 1) != wantReused {
				t.Errorf("reused %d, want reused: %v", p.reused, wantReused)
			}
		})
	}
}

// fakeDataset is a dataset of files that are no videos, for a fake prober:
// a/1.mp4, a/bad.mp4 (its probe fails), b/3.mp4, b/4.mp4, and b/gone.mp4, a
// dangling link.
func fakeDataset(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "ds")
	for _, f := range []string{"a/1.mp4", "a/bad.mp4", "b/3.mp4", "b/4.mp4"} {
		p := filepath.Join(root, "train", f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("nowhere.mp4", filepath.Join(root, "train", "b", "gone.mp4")); err != nil {
		t.Fatal(err)
	}
	return root
}

// fakeProbe stands in for decoder.Probe: a file named bad* fails to decode,
// every other one has 10 frames at 30 fps. It counts its calls by file name
// and keeps the options it was given; during, when set, runs first (given
// which call for the file this is, from 1) and its error is the probe's (a
// cancelled context's).
type fakeProbe struct {
	mu     sync.Mutex
	calls  map[string]int
	opts   []decoder.Options
	during func(ctx context.Context, name string, call int) error
}

func (f *fakeProbe) probe(ctx context.Context, path string, o decoder.Options) (*decoder.Result, error) {
	name := filepath.Base(path)
	f.mu.Lock()
	f.calls[name]++
	call := f.calls[name]
	f.opts = append(f.opts, o)
	f.mu.Unlock()
	if f.during != nil {
		if err := f.during(ctx, name, call); err != nil {
			return nil, err
		}
	}
	if strings.HasPrefix(name, "bad") {
		return &decoder.Result{Status: vocab.StatusDecodeError, Err: "invalid data\nfound", Pts: []int64{}, BytesRead: 5}, nil
	}
	fps := 30.0
	return &decoder.Result{Status: vocab.StatusOK, Frames: 10, FPS: &fps, TBNum: 1, TBDen: 30, Codec: "h264", Width: 32, Height: 24,
		Pts: []int64{}, Native: true, BytesRead: 7}, nil
}

// fakePlan plans a build of root with fake's probes in place of FFmpeg's.
func fakePlan(t *testing.T, ctx context.Context, ix *Index, opts BuildOptions, fake *fakeProbe) *plan {
	t.Helper()
	p, err := newPlan(ctx, ix, opts)
	if err != nil {
		t.Fatal(err)
	}
	p.probe = fake.probe
	return p
}

func names(es []*Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, filepath.Base(e.Path))
	}
	return out
}

func fakeOptions(root string, out string) BuildOptions {
	return BuildOptions{Config: cachefmt.Config{Root: root, Spec: clips.Spec{FramesPerClip: 4, StepBetweenClips: 1}, CreatedUnix: 7},
		Jobs: 2, Timeout: 7 * time.Second, Out: out, NoSync: true}
}

// TestPlanRun drives whole plans — decide, probe, store, write — over a
// small dataset with a fake prober, no FFmpeg: the first build probes each
// regular file once with the build's probe options (mode, time limit, CPU
// slots), records the dangling link without probing it, and writes the
// cache; a failed probe is stored as a failure and reused; a file replaced
// while it was probed is stored stale and probed again by the next build,
// which reuses the rest; then everything is up to date.
func TestPlanRun(t *testing.T) {
	root := fakeDataset(t)
	ix := openIx(t)
	ctx := context.Background()
	opts := fakeOptions(root, filepath.Join(t.TempDir(), "c.pt"))
	fake := &fakeProbe{calls: map[string]int{}}
	replaced := filepath.Join(root, "train", "b", "4.mp4")
	fake.during = func(_ context.Context, name string, call int) error {
		if name == "4.mp4" && call == 1 {
			later := time.Now().Add(time.Hour)
			return os.Chtimes(replaced, later, later)
		}
		return nil
	}

	p := fakePlan(t, ctx, ix, opts, fake)
	if got := names(p.todo); !slices.Equal(got, []string{"1.mp4", "bad.mp4", "3.mp4", "4.mp4"}) || len(p.special) != 1 || p.reused != 0 {
		t.Fatalf("first plan: to probe %v, special %d, reused %d", got, len(p.special), p.reused)
	}
	res, err := p.build(ctx, ix)
	if err != nil {
		t.Fatal(err)
	}
	if res.Probed != 4 || res.Reused != 0 || res.Videos != 5 || !res.Written || res.Failed != 2 ||
		res.Failures[string(vocab.StatusDecodeError)] != 1 || res.Failures[string(vocab.StatusMissing)] != 1 {
		t.Errorf("first build: %+v", res)
	}
	if res.Native != 3 || res.FFmpeg != 1 || res.BytesRead != 3*7+5 {
		t.Errorf("first build read %+v", res.IOStats)
	}
	if !maps(fake.calls, map[string]int{"1.mp4": 1, "bad.mp4": 1, "3.mp4": 1, "4.mp4": 1}) {
		t.Errorf("probed %v", fake.calls)
	}
	for _, o := range fake.opts {
		if o.Mode != vocab.ModeScan || o.Timeout != 7*time.Second || cap(o.CPU) != 2 {
			t.Errorf("probe options %+v: want scan, 7s, 2 CPU slots", o)
		}
	}
	rows, err := ix.RowsUnder(ctx, filepath.Join(root, "train")+"/", vocab.ModeScan)
	if err != nil {
		t.Fatal(err)
	}
	row := func(rel string) *Row { return rows[filepath.Join(root, "train", rel)] }
	if r := row("a/1.mp4"); r == nil || r.Status != vocab.StatusOK || r.Frames != 10 || r.Origin != vocab.OriginProbed || r.FFmpeg != p.ffmpeg || r.MtimeNs <= 0 {
		t.Errorf("a/1.mp4 stored as %+v", r)
	}
	if r := row("a/bad.mp4"); r == nil || r.Status != vocab.StatusDecodeError || r.Error != "invalid data found" {
		t.Errorf("a/bad.mp4 stored as %+v", r)
	}
	if r := row("b/4.mp4"); r == nil || r.MtimeNs != -1 {
		t.Errorf("b/4.mp4, replaced while probed, stored as %+v", r)
	}
	if r := row("b/gone.mp4"); r == nil || r.Status != vocab.StatusMissing {
		t.Errorf("b/gone.mp4 stored as %+v", r)
	}

	// The next build probes only the file replaced during its probe; its
	// new probe gives the same answer, so the cache stands as written.
	p = fakePlan(t, ctx, ix, opts, fake)
	if got := names(p.todo); !slices.Equal(got, []string{"4.mp4"}) || len(p.special) != 0 || p.reused != 4 {
		t.Fatalf("second plan: to probe %v, special %d, reused %d", got, len(p.special), p.reused)
	}
	if res, err = p.build(ctx, ix); err != nil || res.Probed != 1 || res.Reused != 4 || res.Written || fake.calls["4.mp4"] != 2 {
		t.Errorf("second build: %v, %+v, probed %v", err, res, fake.calls)
	}

	// Then nothing is left to do.
	p = fakePlan(t, ctx, ix, opts, fake)
	if !p.upToDate() {
		t.Fatalf("third plan: to probe %v, special %d, touched %d, gone %v", names(p.todo), len(p.special), len(p.touched), p.gone)
	}
	if res, err = p.build(ctx, ix); err != nil || res.Probed != 0 || res.Reused != 5 || res.Written || len(fake.opts) != 5 {
		t.Errorf("third build: %v, %+v, probed %v", err, res, fake.calls)
	}
}

// TestPlanRunCancelled: a build whose context is cancelled while it probes
// returns the cancellation, keeps what it committed before, and writes no
// cache; the next build probes only the rest.
func TestPlanRunCancelled(t *testing.T) {
	root := fakeDataset(t)
	ix := openIx(t)
	opts := fakeOptions(root, filepath.Join(t.TempDir(), "c.pt"))
	opts.Jobs, opts.BatchSize = 1, 1 // each row committed as it comes
	first := filepath.Join(root, "train", "a", "1.mp4")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fake := &fakeProbe{calls: map[string]int{}}
	fake.during = func(ctx context.Context, name string, _ int) error {
		switch name {
		case "1.mp4":
			return nil
		case "bad.mp4":
			// Cancel once 1.mp4 is in the index.
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				if rows, err := ix.RowsUnder(context.Background(), first, vocab.ModeScan); err == nil && rows[first] != nil {
					break
				}
			}
			cancel()
		}
		<-ctx.Done()
		return ctx.Err()
	}
	p := fakePlan(t, ctx, ix, opts, fake)
	res, err := p.build(ctx, ix)
	if !errors.Is(err, context.Canceled) || res == nil || res.Probed != 1 || res.Written {
		t.Fatalf("cancelled build: %v, %+v", err, res)
	}
	if _, err := os.Stat(opts.Out); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("cancelled build left a cache: %v", err)
	}

	fake = &fakeProbe{calls: map[string]int{}}
	p = fakePlan(t, context.Background(), ix, opts, fake)
	if got := names(p.todo); !slices.Equal(got, []string{"bad.mp4", "3.mp4", "4.mp4"}) {
		t.Errorf("after the cancelled build, to probe %v", got)
	}
	if res, err := p.build(context.Background(), ix); err != nil || res.Probed != 3 || res.Reused != 2 || !res.Written || fake.calls["1.mp4"] != 0 {
		t.Errorf("next build: %v, %+v, probed %v", err, res, fake.calls)
	}
}

// TestCancelKeepsFinishedProbes: rows waiting in a batch when the build is
// cancelled are committed, not lost (found while reshaping the prober: the
// last flush ran with the cancelled context, which database/sql refuses).
func TestCancelKeepsFinishedProbes(t *testing.T) {
	root := fakeDataset(t)
	ix := openIx(t)
	opts := fakeOptions(root, filepath.Join(t.TempDir(), "c.pt"))
	opts.Jobs, opts.BatchSize = 1, 100 // 1.mp4 waits in the batch
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fake := &fakeProbe{calls: map[string]int{}}
	fake.during = func(ctx context.Context, name string, _ int) error {
		if name == "1.mp4" {
			return nil
		}
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}
	p := fakePlan(t, ctx, ix, opts, fake)
	if res, err := p.build(ctx, ix); !errors.Is(err, context.Canceled) || res == nil || res.Probed != 1 {
		t.Fatalf("cancelled build: %v, %+v", err, res)
	}
	first := filepath.Join(root, "train", "a", "1.mp4")
	if rows, err := ix.RowsUnder(context.Background(), first, vocab.ModeScan); err != nil || rows[first] == nil {
		t.Fatalf("1.mp4 finished before the cancel but is not in the index (%v)", err)
	}
}

func maps(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
