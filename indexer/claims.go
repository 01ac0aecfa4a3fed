package indexer

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// Claims let every process that builds from one index share the work (the
// many ranks of a training job each running `vidcache path --ensure`): a
// process claims a batch of videos in a short write transaction before
// probing them, skips videos another live process claimed, and takes as
// done every video whose row became fresh meanwhile. A claim carries a
// lease the process renews while it lives; one whose lease ran out, or whose
// process is gone from this host, is taken over. The writing of a cache is
// claimed the same way, so one process writes it and the others find it
// registered and fresh.

// claimKind is what a claim reserves.
type claimKind string

const (
	claimVideo claimKind = "video"
	claimCache claimKind = "cache"
)

// Lease timing: a claim lives claimLease past its owner's last renewal;
// owners renew every claimRenew; waiting processes look again every
// claimPoll.
var (
	claimLease = 30 * time.Second
	claimRenew = 5 * time.Second
	claimPoll  = 200 * time.Millisecond
)

// claimant is this process in the claims table.
type claimant struct {
	owner, host string
	pid         int
}

var self = func() *claimant {
	host, _ := os.Hostname()
	var nonce [6]byte
	rand.Read(nonce[:])
	c := &claimant{host: host, pid: os.Getpid()}
	c.owner = fmt.Sprintf("%s:%d:%s", host, c.pid, hex.EncodeToString(nonce[:]))
	return c
}()

// holder is another process's claim.
type holder struct {
	owner, host string
	pid         int
	expiresNs   int64
}

// live: the holder's lease runs and, on this host, its process exists.
func (h *holder) live(now time.Time) bool {
	if h.expiresNs <= now.UnixNano() {
		return false
	}
	if h.host == self.host && h.pid > 0 {
		if err := syscall.Kill(h.pid, 0); errors.Is(err, syscall.ESRCH) {
			return false
		}
	}
	return true
}

func (h *holder) String() string { return fmt.Sprintf("pid %d on %s", h.pid, h.host) }

// claimOf reads the claim on (kind, mode, path), nil if none.
func claimOf(ctx context.Context, tx *sql.Tx, kind claimKind, mode, path string) (*holder, error) {
	h := &holder{}
	err := tx.QueryRowContext(ctx, `SELECT owner, host, pid, expires_ns FROM claims WHERE kind = ? AND mode = ? AND path = ?`,
		string(kind), mode, path).Scan(&h.owner, &h.host, &h.pid, &h.expiresNs)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return h, err
}

// renewClaims extends this process's claims until stop is closed, then
// deletes them.
func (ix *Index) renewClaims(ctx context.Context, stop <-chan struct{}) {
	t := time.NewTicker(claimRenew)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			ix.db.ExecContext(ctx, `UPDATE claims SET expires_ns = ? WHERE owner = ?`, time.Now().Add(claimLease).UnixNano(), self.owner)
		case <-stop:
			ix.db.ExecContext(context.WithoutCancel(ctx), `DELETE FROM claims WHERE owner = ?`, self.owner)
			return
		case <-ctx.Done():
			ix.db.ExecContext(context.WithoutCancel(ctx), `DELETE FROM claims WHERE owner = ?`, self.owner)
			return
		}
	}
}

// freshRows reads the rows of probe kind mode of those entries that are
// fresh (another process probed the file since this one planned), as
// eachMeta would give them, keyed by path.
func freshRows(ctx context.Context, tx *sql.Tx, es []*Entry, mode vocab.Mode, ffmpeg string) (map[string]*Row, error) {
	byPath := make(map[string]*Entry, len(es))
	args := []any{string(mode)}
	for _, e := range es {
		byPath[e.Path] = e
		args = append(args, e.Path)
	}
	rows, err := tx.QueryContext(ctx, `SELECT path, size, mtime_ns, inode, status, error, fps, frames, mode, origin, ffmpeg, hash, pts_hash
		FROM videos WHERE mode = ? AND path IN (`+placeholders(len(es))+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*Row{}
	for rows.Next() {
		r := &Row{}
		var fps sql.NullFloat64
		var inode int64
		var ptsHash sql.NullInt64
		if err := rows.Scan(&r.Path, &r.Size, &r.MtimeNs, &inode, &r.Status, &r.Error, &fps, &r.Frames, &r.Mode, &r.Origin, &r.FFmpeg, &r.Hash, &ptsHash); err != nil {
			return nil, err
		}
		r.setScanned(inode, ptsHash, fps)
		if e := byPath[r.Path]; e != nil && r.fresh(e, mode, ffmpeg) && r.HasPtsHash {
			out[r.Path] = r
		}
	}
	return out, rows.Err()
}

// claimsOf reads the video claims on those entries, keyed by path.
func claimsOf(ctx context.Context, tx *sql.Tx, es []*Entry, mode vocab.Mode) (map[string]*holder, error) {
	args := []any{string(claimVideo), string(mode)}
	for _, e := range es {
		args = append(args, e.Path)
	}
	rows, err := tx.QueryContext(ctx, `SELECT path, owner, host, pid, expires_ns FROM claims
		WHERE kind = ? AND mode = ? AND path IN (`+placeholders(len(es))+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*holder{}
	for rows.Next() {
		var p string
		h := &holder{}
		if err := rows.Scan(&p, &h.owner, &h.host, &h.pid, &h.expiresNs); err != nil {
			return nil, err
		}
		out[p] = h
	}
	return out, rows.Err()
}

// putClaims claims those paths for this process.
func putClaims(ctx context.Context, tx *sql.Tx, kind claimKind, mode string, paths []string, now time.Time) error {
	if len(paths) == 0 {
		return nil
	}
	args := make([]any, 0, 7*len(paths))
	exp := now.Add(claimLease).UnixNano()
	for _, p := range paths {
		args = append(args, string(kind), mode, p, self.owner, self.host, self.pid, exp)
	}
	q := `INSERT OR REPLACE INTO claims (kind, mode, path, owner, host, pid, expires_ns) VALUES ` +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", len(paths)), ", ")
	_, err := tx.ExecContext(ctx, q, args...)
	return err
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// videoQueue hands out a build's videos to probe, claimed in the index.
type videoQueue struct {
	ix      *Index
	todo    []*Entry
	mode    vocab.Mode
	ffmpeg  string
	batch   int
	pending []int // positions in todo: not yet claimed, done, or seen busy (those at the end)
	log     *slog.Logger
	waited  bool
}

func newVideoQueue(pr *prober, todo []*Entry) *videoQueue {
	q := &videoQueue{ix: pr.ix, todo: todo, mode: pr.mode, ffmpeg: pr.ffmpeg, log: pr.log,
		batch: max(32, min(512, 64*pr.jobs))}
	q.pending = make([]int, len(todo))
	for k := range q.pending {
		q.pending[k] = k
	}
	return q
}

// next claims the next batch: mine are videos to probe, ready are videos
// another process probed meanwhile (with their rows). It waits while every
// video left is claimed by another live process, and returns nothing when
// no video is left.
func (q *videoQueue) next(ctx context.Context) (mine []int, ready map[int]*Row, err error) {
	for len(q.pending) > 0 {
		var busy []int
		var first *holder
		ready = map[int]*Row{}
		examined := 0
		err = q.ix.tx(ctx, func(tx *sql.Tx) error {
			now := time.Now()
			cands := make([]*Entry, 0, min(len(q.pending), 4*q.batch))
			for _, k := range q.pending[:cap(cands)] {
				cands = append(cands, q.todo[k])
			}
			fresh, err := freshRows(ctx, tx, cands, q.mode, q.ffmpeg)
			if err != nil {
				return err
			}
			claims, err := claimsOf(ctx, tx, cands, q.mode)
			if err != nil {
				return err
			}
			var paths []string
			for examined < len(cands) && len(mine) < q.batch {
				k := q.pending[examined]
				examined++
				e := q.todo[k]
				if r := fresh[e.Path]; r != nil {
					ready[k] = r
					continue
				}
				if h := claims[e.Path]; h != nil && h.owner != self.owner && h.live(now) {
					busy = append(busy, k)
					if first == nil {
						first = h
					}
					continue
				}
				mine, paths = append(mine, k), append(paths, e.Path)
			}
			return putClaims(ctx, tx, claimVideo, string(q.mode), paths, now)
		})
		if err != nil {
			return nil, nil, err
		}
		q.pending = append(q.pending[examined:], busy...)
		if len(mine) > 0 || len(ready) > 0 {
			return mine, ready, nil
		}
		if !q.waited {
			q.waited = true
			q.log.Info(fmt.Sprintf("waiting for %d videos that other processes are probing (%s, …)", len(q.pending), first))
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(claimPoll):
		}
	}
	return nil, nil, nil
}

// claimCacheWrite claims the writing of the cache at path, waiting while
// another live process holds it; release deletes the claim.
func (ix *Index) claimCacheWrite(ctx context.Context, path string, log *slog.Logger) (release func(), err error) {
	waited := false
	for {
		var busy *holder
		err := ix.tx(ctx, func(tx *sql.Tx) error {
			now := time.Now()
			h, err := claimOf(ctx, tx, claimCache, "", path)
			if err != nil {
				return err
			}
			if h != nil && h.owner != self.owner && h.live(now) {
				busy = h
				return nil
			}
			return putClaims(ctx, tx, claimCache, "", []string{path}, now)
		})
		if err != nil {
			return nil, err
		}
		if busy == nil {
			stop, stopped := make(chan struct{}), make(chan struct{})
			go func() { ix.renewClaims(ctx, stop); close(stopped) }()
			return func() { close(stop); <-stopped }, nil
		}
		if !waited {
			waited = true
			log.Info(fmt.Sprintf("waiting for %s, which is writing %s", busy, path))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(claimPoll):
		}
	}
}
