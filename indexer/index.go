package indexer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/vidcache/vidcache/decoder"
	"github.com/vidcache/vidcache/migrations"
)

// Index is the SQLite file that remembers every probed video and every cache
// written. It runs in WAL mode with a busy timeout and IMMEDIATE write
// transactions, so several vidcache processes can share it.
type Index struct {
	db   *sql.DB
	path string
}

// OpenIndex opens (creating if needed) the index at path and brings its
// schema up to date.
func OpenIndex(ctx context.Context, path string) (*Index, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "30000")
	q.Set("_txlock", "immediate")
	q.Set("_synchronous", "NORMAL")
	q.Set("_cache_size", "-256")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	// Connecting switches the file to WAL mode, which needs a lock SQLite
	// does not wait for: processes opening a new index together can get
	// SQLITE_BUSY there despite the busy timeout. Retry for as long as the
	// busy timeout would have waited.
	deadline := time.Now().Add(30 * time.Second)
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		db, err := openDB(ctx, dsn)
		if err == nil {
			return &Index{db: db, path: path}, nil
		}
		if !isBusy(err) || time.Now().Add(delay).After(deadline) {
			return nil, fmt.Errorf("open index %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("open index %s: %w", path, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// openDB connects and brings the schema up to date.
func openDB(ctx context.Context, dsn string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := migrations.Apply(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// isBusy: SQLite said the database is busy or locked.
func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// Path is the index file's path.
func (ix *Index) Path() string { return ix.path }

// DB exposes the connection pool (for tests and maintenance commands).
func (ix *Index) DB() *sql.DB { return ix.db }

// Close closes the index.
func (ix *Index) Close() error { return ix.db.Close() }

// Row is one video's record in the index.
type Row struct {
	Path    string
	Size    int64
	MtimeNs int64
	Inode   uint64
	Status  string
	Error   string
	FPS     *float64
	TBNum   int
	TBDen   int
	Codec   string
	Width   int
	Height  int
	Frames  int
	Pts     []byte // encoded; see encodePts
	Mode    string
	FFmpeg  string
	Probed  int64
	Hash    string // SHA-256 of the content, when known (--rehash)
	// PtsHash is FNV-1a of Pts, stored with it; HasPtsHash is false for rows
	// from an index made before it existed.
	PtsHash    uint64
	HasPtsHash bool
}

// fresh reports whether r still describes e as probed in mode with ffmpeg.
func (r *Row) fresh(e *Entry, mode decoder.Mode, ffmpeg string) bool {
	return r.sameFile(e) && r.sameProbe(mode, ffmpeg)
}

// sameFile: size, mtime (ns) and inode unchanged.
func (r *Row) sameFile(e *Entry) bool {
	return r.Size == e.Size && r.MtimeNs == e.MtimeNs && r.Inode == e.Inode
}

// sameProbe: probed the way this build would probe.
func (r *Row) sameProbe(mode decoder.Mode, ffmpeg string) bool {
	return r.Mode == string(mode) && r.FFmpeg == ffmpeg
}

// rowColumns are the videos table's columns; the blob lives in video_pts.
const rowColumns = `path, size, mtime_ns, inode, status, error, fps, tb_num, tb_den, codec, width, height, frames, mode, ffmpeg, probed_unix, hash, pts_hash`

// scanRow reads one videos row joined with its video_pts blob.
func scanRow(sc interface{ Scan(...any) error }) (*Row, error) {
	r := &Row{}
	var fps sql.NullFloat64
	var inode int64
	var ptsHash sql.NullInt64
	err := sc.Scan(&r.Path, &r.Size, &r.MtimeNs, &inode, &r.Status, &r.Error, &fps, &r.TBNum, &r.TBDen,
		&r.Codec, &r.Width, &r.Height, &r.Frames, &r.Mode, &r.FFmpeg, &r.Probed, &r.Hash, &ptsHash, &r.Pts)
	if err != nil {
		return nil, err
	}
	r.Inode = uint64(inode)
	r.PtsHash, r.HasPtsHash = uint64(ptsHash.Int64), ptsHash.Valid
	if fps.Valid {
		v := fps.Float64
		r.FPS = &v
	}
	return r, nil
}

// prefixRange gives [lo, hi) bounds selecting every string with prefix p
// under SQLite's byte-wise BINARY collation.
func prefixRange(p string) (lo, hi string) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return p, string(b[:i+1])
		}
	}
	return p, "\xff\xff\xff\xff\xff\xff\xff\xff"
}

// RowsUnder loads every row of probe kind mode whose path starts with
// prefix, keyed by path, with its timestamp blob.
func (ix *Index) RowsUnder(ctx context.Context, prefix string, mode decoder.Mode) (map[string]*Row, error) {
	out := make(map[string]*Row)
	err := ix.eachRow(ctx, prefix, string(mode), func(r *Row) { out[r.Path] = r })
	return out, err
}

// AllRows loads every row of every probe kind, with its timestamp blob.
func (ix *Index) AllRows(ctx context.Context) ([]*Row, error) {
	var out []*Row
	err := ix.eachRow(ctx, "", "", func(r *Row) { out = append(out, r) })
	return out, err
}

// eachRow calls fn with every row under prefix, of probe kind mode ("": all).
func (ix *Index) eachRow(ctx context.Context, prefix, mode string, fn func(*Row)) error {
	lo, hi := prefixRange(prefix)
	q := `SELECT v.` + strings.ReplaceAll(rowColumns, ", ", ", v.") + `, p.pts FROM videos v JOIN video_pts p ON p.path = v.path AND p.mode = v.mode
		WHERE v.path >= ? AND v.path < ? AND (? = '' OR v.mode = ?) ORDER BY v.path, v.mode`
	rows, err := ix.db.QueryContext(ctx, q, lo, hi, mode, mode)
	if err != nil {
		return fmt.Errorf("read index: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return fmt.Errorf("read index: %w", err)
		}
		fn(r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read index: %w", err)
	}
	return nil
}

// eachMeta calls fn, in path order, with what a plan needs of each row of
// probe kind mode whose path starts with prefix (no stream details, no blob): the path as raw
// bytes and a Row without Path, both valid only during the call. The few
// distinct status, mode and FFmpeg strings are shared, so nothing is
// allocated per row but non-empty errors and hashes.
func (ix *Index) eachMeta(ctx context.Context, prefix string, mode decoder.Mode, fn func(path []byte, r *Row) error) error {
	lo, hi := prefixRange(prefix)
	rows, err := ix.db.QueryContext(ctx, `SELECT path, size, mtime_ns, inode, status, error, fps, frames, mode, ffmpeg, hash, pts_hash
		FROM videos WHERE path >= ? AND path < ? AND mode = ? ORDER BY path`, lo, hi, string(mode))
	if err != nil {
		return fmt.Errorf("read index: %w", err)
	}
	defer rows.Close()
	interned := map[string]string{}
	intern := func(b sql.RawBytes) string {
		if s, ok := interned[string(b)]; ok {
			return s
		}
		s := string(b)
		interned[s] = s
		return s
	}
	var path, status, rowMode, ffmpeg sql.RawBytes
	var r Row
	for rows.Next() {
		var fps sql.NullFloat64
		var inode int64
		var ptsHash sql.NullInt64
		if err := rows.Scan(&path, &r.Size, &r.MtimeNs, &inode, &status, &r.Error, &fps, &r.Frames, &rowMode, &ffmpeg, &r.Hash, &ptsHash); err != nil {
			return fmt.Errorf("read index: %w", err)
		}
		r.Status, r.Mode, r.FFmpeg = intern(status), intern(rowMode), intern(ffmpeg)
		r.Inode = uint64(inode)
		r.PtsHash, r.HasPtsHash = uint64(ptsHash.Int64), ptsHash.Valid
		r.FPS = nil
		if fps.Valid {
			v := fps.Float64
			r.FPS = &v
		}
		if err := fn(path, &r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read index: %w", err)
	}
	return nil
}

// PutRows writes rows in one transaction (insert or replace by path and mode).
func (ix *Index) PutRows(ctx context.Context, rs []*Row) error {
	if len(rs) == 0 {
		return nil
	}
	return ix.tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO videos (`+rowColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		pst, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO video_pts (path, mode, pts) VALUES (?, ?, ?)`)
		if err != nil {
			return err
		}
		defer pst.Close()
		for _, r := range rs {
			var fps any
			if r.FPS != nil {
				fps = *r.FPS
			}
			if _, err := st.ExecContext(ctx, r.Path, r.Size, r.MtimeNs, int64(r.Inode), r.Status, r.Error, fps,
				r.TBNum, r.TBDen, r.Codec, r.Width, r.Height, r.Frames, r.Mode, r.FFmpeg, r.Probed, r.Hash, int64(ptsHash(r.Pts))); err != nil {
				return fmt.Errorf("store %s: %w", r.Path, err)
			}
			pts := r.Pts
			if pts == nil {
				pts = []byte{}
			}
			if _, err := pst.ExecContext(ctx, r.Path, r.Mode, pts); err != nil {
				return fmt.Errorf("store %s: %w", r.Path, err)
			}
		}
		return nil
	})
}

// ptsHash is FNV-1a (64-bit) of an encoded pts blob.
func ptsHash(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// TouchRows updates the stat fields and content hash of existing rows,
// leaving their probe results as they are.
func (ix *Index) TouchRows(ctx context.Context, rs []*Row) error {
	if len(rs) == 0 {
		return nil
	}
	return ix.tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `UPDATE videos SET size = ?, mtime_ns = ?, inode = ?, hash = ? WHERE path = ? AND mode = ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, r := range rs {
			if _, err := st.ExecContext(ctx, r.Size, r.MtimeNs, int64(r.Inode), r.Hash, r.Path, r.Mode); err != nil {
				return fmt.Errorf("update %s: %w", r.Path, err)
			}
		}
		return nil
	})
}

// DeleteRows forgets paths, every probe kind of them, in one transaction.
func (ix *Index) DeleteRows(ctx context.Context, paths []string) error {
	if len(paths) == 0 {
		return nil
	}
	return ix.tx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"videos", "video_pts"} {
			st, err := tx.PrepareContext(ctx, `DELETE FROM `+table+` WHERE path = ?`)
			if err != nil {
				return err
			}
			for _, p := range paths {
				if _, err := st.ExecContext(ctx, p); err != nil {
					st.Close()
					return err
				}
			}
			st.Close()
		}
		return nil
	})
}

// tx runs fn in a write transaction. The commit uses a context that is not
// cancelled, so work handed to tx before Ctrl-C is kept.
func (ix *Index) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := ix.db.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return fmt.Errorf("index %s: begin: %w", ix.path, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return fmt.Errorf("index %s: %w", ix.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("index %s: commit: %w", ix.path, err)
	}
	return nil
}

// AllPaths lists every video path in the index.
func (ix *Index) AllPaths(ctx context.Context) ([]string, error) {
	rows, err := ix.db.QueryContext(ctx, `SELECT DISTINCT path FROM videos ORDER BY path`)
	if err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Caches lists every registered cache.
func (ix *Index) Caches(ctx context.Context) ([]*CacheRecord, error) {
	rows, err := ix.db.QueryContext(ctx, `SELECT path, root, split, config, digest, videos, clips, size, created_unix FROM caches ORDER BY path`)
	if err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	defer rows.Close()
	var out []*CacheRecord
	for rows.Next() {
		c := &CacheRecord{}
		if err := rows.Scan(&c.Path, &c.Root, &c.Split, &c.Config, &c.Digest, &c.Videos, &c.Clips, &c.Size, &c.CreatedUnix); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteCache unregisters a cache.
func (ix *Index) DeleteCache(ctx context.Context, path string) error {
	return ix.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM caches WHERE path = ?`, path)
		return err
	})
}

// CacheRecord is a cache file registered in the index.
type CacheRecord struct {
	Path        string
	Root        string
	Split       string
	Config      string // JSON
	Digest      string
	Videos      int
	Clips       int64
	Size        int64
	CreatedUnix int64
}

// Cache returns the record of the cache at path, or nil.
func (ix *Index) Cache(ctx context.Context, path string) (*CacheRecord, error) {
	c := &CacheRecord{}
	err := ix.db.QueryRowContext(ctx, `SELECT path, root, split, config, digest, videos, clips, size, created_unix
		FROM caches WHERE path = ?`, path).Scan(&c.Path, &c.Root, &c.Split, &c.Config, &c.Digest, &c.Videos, &c.Clips, &c.Size, &c.CreatedUnix)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read cache record: %w", err)
	}
	return c, nil
}

// PutCache registers a written cache.
func (ix *Index) PutCache(ctx context.Context, c *CacheRecord) error {
	return ix.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO caches (path, root, split, config, digest, videos, clips, size, created_unix)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.Path, c.Root, c.Split, c.Config, c.Digest, c.Videos, c.Clips, c.Size, c.CreatedUnix)
		return err
	})
}

func nowUnix() int64 { return time.Now().Unix() }

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.TrimSpace(s)
}
