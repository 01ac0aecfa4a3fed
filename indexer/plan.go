package indexer

import (
	"context"
	_ "embed"
	"fmt"
	"sort"
	"time"

	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// What a plan does with each video of its dataset.
const (
	actNone     uint8 = iota // outside the shard
	actReuse                 // the index row stands
	actProbeNew              // never indexed
	actProbe                 // changed, or probed another way
)

// plan is one dataset compared with the index, before any probing. It is
// built on the prober that will probe its videos.
type plan struct {
	*prober
	opts    BuildOptions
	ds      *Dataset
	videos  *videoSet // by dataset index, updated as work is done
	act     []uint8   // by dataset index
	todo    []*Entry  // regular files to probe, in dataset order
	todoIdx []int     // their dataset indexes
	special []*Row    // rows to store for missing and non-regular files
	touched []*Row    // rows whose stat fields or hash are refreshed (rehash)
	gone    []string  // rows of files no longer in the split
	reused  int
	// shardVideos counts the videos of this build's shard (all when unsharded).
	shardVideos int
}

// newPlan scans the dataset and sorts its files into reusable and to-probe.
// It reads the index but writes nothing. The index rows are streamed and
// compared with the dataset's files one at a time, so memory holds only the
// per-video summary the cache needs.
func newPlan(ctx context.Context, ix *Index, opts BuildOptions) (*plan, error) {
	if err := opts.normalize(); err != nil {
		return nil, err
	}
	t0 := time.Now()
	ds, err := Scan(ctx, opts.Root, opts.Split, opts.Extensions)
	if err != nil {
		return nil, err
	}
	opts.Log.Debug("scanned the dataset", "dir", ds.Dir, "videos", len(ds.Videos), "classes", len(ds.Classes), "seconds", time.Since(t0).Seconds())
	t0 = time.Now()
	p := &plan{prober: newProber(ix, &opts), opts: opts, ds: ds, videos: newVideoSet(len(ds.Videos)), act: make([]uint8, len(ds.Videos))}
	if p.rehash {
		for i := range ds.Videos {
			if e := &ds.Videos[i]; e.Regular() && opts.inShard(e) {
				if err := p.hash(ctx, e); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := p.compare(ctx, ix); err != nil {
		return nil, err
	}
	for i := range ds.Videos {
		if p.act[i] == actProbe || p.act[i] == actProbeNew {
			p.todo = append(p.todo, &ds.Videos[i])
			p.todoIdx = append(p.todoIdx, i)
		}
	}
	opts.Log.Debug("compared with the index", "reused", p.reused, "to_probe", len(p.todo), "special", len(p.special), "removed", len(p.gone), "seconds", time.Since(t0).Seconds())
	return p, nil
}

// compare decides every dataset video against its index row (merge-joining
// the rows of the plan's probe kind under the split's folder with the
// dataset's paths), and lists the rows of files gone from the split.
func (p *plan) compare(ctx context.Context, ix *Index) error {
	join := newPathJoin(p.ds)
	seen := make([]bool, len(p.ds.Videos))
	err := ix.eachMeta(ctx, pyJoin(p.ds.Dir, ""), p.mode, func(path []byte, old *Row) error {
		i := join.find(path)
		if i < 0 {
			if p.opts.Shards <= 0 {
				p.gone = append(p.gone, string(path))
			}
			return nil
		}
		seen[i] = true
		p.decide(i, old)
		return nil
	})
	if err != nil {
		return err
	}
	for i := range p.ds.Videos {
		if !seen[i] {
			p.decide(i, nil)
		}
	}
	sort.Strings(p.gone)
	return nil
}

// trustImported: rows import recorded count as probe results — when asked,
// and always for an imported cache's own configuration (it rests on them).
func (p *plan) trustImported() bool {
	return p.opts.TrustImported || p.opts.Config.Mode == vocab.ModeImported
}

// decide compares dataset video i with its index row (nil when it has none;
// old is only valid during the call).
func (p *plan) decide(i int, old *Row) {
	e := &p.ds.Videos[i]
	if !p.opts.inShard(e) {
		return
	}
	p.shardVideos++
	mode, ffmpeg := p.mode, p.ffmpeg
	if !e.Regular() {
		r := specialRow(e, mode, ffmpeg)
		if old == nil || old.Status != r.Status || old.Error != r.Error || !old.fresh(e, mode, ffmpeg) {
			p.special = append(p.special, r)
			p.videos.set(i, r)
		} else {
			p.videos.set(i, old)
			p.reused++
		}
		p.act[i] = actReuse
		return
	}
	h, hashed := p.hashes[e.Path]
	switch {
	case old == nil:
		p.act[i] = actProbeNew
		return
	case p.rehash && !hashed, !old.sameProbe(mode, ffmpeg) && !(p.trustImported() && old.imported(mode)):
		p.act[i] = actProbe
		return
	case p.rehash:
		if old.Size != e.Size || (old.Hash != h && !(old.Hash == "" && old.sameFile(e))) {
			p.act[i] = actProbe
			return
		}
		if old.Hash != h || !old.sameFile(e) {
			t := *old
			t.Path, t.Hash, t.MtimeNs, t.Inode = e.Path, h, e.MtimeNs, e.Inode
			p.touched = append(p.touched, &t)
		}
	case !old.sameFile(e):
		p.act[i] = actProbe
		return
	}
	p.videos.set(i, old)
	p.act[i] = actReuse
	p.reused++
}

// stored takes the committed probe result of dataset video i; it reports
// whether the video was one this plan had to probe.
func (p *plan) stored(i int, r *Row) bool {
	if p.act[i] != actProbe && p.act[i] != actProbeNew {
		return false
	}
	p.videos.set(i, r)
	return true
}

// upToDate: nothing to probe, store or forget.
func (p *plan) upToDate() bool {
	return len(p.todo) == 0 && len(p.special) == 0 && len(p.touched) == 0 && len(p.gone) == 0
}

// record stores the plan's bookkeeping (special rows, refreshed stat fields
// and hashes, removals).
func (p *plan) record(ctx context.Context, ix *Index) error {
	if err := ix.PutRows(ctx, p.special); err != nil {
		return err
	}
	if err := ix.TouchRows(ctx, p.touched); err != nil {
		return err
	}
	return ix.DeleteRows(ctx, p.gone)
}

// specialRow records a file that is not probed: what torchvision would have
// made of it is no timestamps and fps None (av.open fails or, for a FIFO,
// blocks; vidcache never opens one).
func specialRow(e *Entry, mode vocab.Mode, ffmpeg string) *Row {
	r := &Row{Path: e.Path, Size: e.Size, MtimeNs: e.MtimeNs, Inode: e.Inode, Pts: []byte{}, Mode: mode, Origin: vocab.OriginProbed, FFmpeg: ffmpeg, Probed: nowUnix(),
		PtsHash: ptsHash(nil), HasPtsHash: true}
	if e.StatErr != nil {
		r.Status, r.Error = vocab.StatusMissing, oneLine(e.StatErr.Error())
	} else {
		r.Status, r.Error = vocab.StatusNotRegular, fmt.Sprintf("%s is not a regular file (%s)", e.Path, e.Mode.Type())
	}
	return r
}
