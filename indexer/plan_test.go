package indexer

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/cachefmt/vocab"
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
