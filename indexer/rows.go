package indexer

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// Row is one video's record in the index.
type Row struct {
	Path    string
	Size    int64
	MtimeNs int64
	Inode   uint64
	Status  vocab.Status
	Error   string
	FPS     *float64
	TBNum   int
	TBDen   int
	Codec   string
	Width   int
	Height  int
	Frames  int
	Pts     []byte     // encoded; see encodePts
	Mode    vocab.Mode // the probe kind: which way of reading the facts are for
	Origin  vocab.Origin
	FFmpeg  string // the FFmpeg that probed it; empty when imported
	Probed  int64
	Hash    string // SHA-256 of the content, when known (--rehash)
	// PtsHash is FNV-1a of Pts, stored with it; HasPtsHash is false for rows
	// from an index made before it existed.
	PtsHash    uint64
	HasPtsHash bool
}

// fresh reports whether r still describes e as probed in mode with ffmpeg.
func (r *Row) fresh(e *Entry, mode vocab.Mode, ffmpeg string) bool {
	return r.sameFile(e) && r.sameProbe(mode, ffmpeg)
}

// sameFile: size, mtime (ns) and inode unchanged.
func (r *Row) sameFile(e *Entry) bool {
	return r.Size == e.Size && r.MtimeNs == e.MtimeNs && r.Inode == e.Inode
}

// imported: recorded by import for mode.
func (r *Row) imported(mode vocab.Mode) bool {
	return r.Mode == mode && r.Origin == vocab.OriginImported
}

// sameProbe: probed the way this build would probe.
func (r *Row) sameProbe(mode vocab.Mode, ffmpeg string) bool {
	return r.Mode == mode && r.Origin == vocab.OriginProbed && r.FFmpeg == ffmpeg
}

// rowColumns are the videos table's columns; the blob lives in video_pts.
const rowColumns = `path, size, mtime_ns, inode, status, error, fps, tb_num, tb_den, codec, width, height, frames, mode, origin, ffmpeg, probed_unix, hash, pts_hash`

// setScanned fills the fields SQL hands back in other types: the inode
// (signed in SQLite), the pts hash and the frame rate (either may be NULL).
func (r *Row) setScanned(inode int64, ptsHash sql.NullInt64, fps sql.NullFloat64) {
	r.Inode = uint64(inode)
	r.PtsHash, r.HasPtsHash = uint64(ptsHash.Int64), ptsHash.Valid
	r.FPS = nil
	if fps.Valid {
		v := fps.Float64
		r.FPS = &v
	}
}

// scanRow reads one videos row joined with its video_pts blob.
func scanRow(sc interface{ Scan(...any) error }) (*Row, error) {
	r := &Row{}
	var fps sql.NullFloat64
	var inode int64
	var ptsHash sql.NullInt64
	err := sc.Scan(&r.Path, &r.Size, &r.MtimeNs, &inode, &r.Status, &r.Error, &fps, &r.TBNum, &r.TBDen,
		&r.Codec, &r.Width, &r.Height, &r.Frames, &r.Mode, &r.Origin, &r.FFmpeg, &r.Probed, &r.Hash, &ptsHash, &r.Pts)
	if err != nil {
		return nil, err
	}
	r.setScanned(inode, ptsHash, fps)
	return r, nil
}

// RowsUnder loads every row of probe kind mode whose path starts with
// prefix, keyed by path, with its timestamp blob.
func (ix *Index) RowsUnder(ctx context.Context, prefix string, mode vocab.Mode) (map[string]*Row, error) {
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
func (ix *Index) eachMeta(ctx context.Context, prefix string, mode vocab.Mode, fn func(path []byte, r *Row) error) error {
	lo, hi := prefixRange(prefix)
	rows, err := ix.db.QueryContext(ctx, `SELECT path, size, mtime_ns, inode, status, error, fps, frames, mode, origin, ffmpeg, hash, pts_hash
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
	var path, status, rowMode, origin, ffmpeg sql.RawBytes
	var r Row
	for rows.Next() {
		var fps sql.NullFloat64
		var inode int64
		var ptsHash sql.NullInt64
		if err := rows.Scan(&path, &r.Size, &r.MtimeNs, &inode, &status, &r.Error, &fps, &r.Frames, &rowMode, &origin, &ffmpeg, &r.Hash, &ptsHash); err != nil {
			return fmt.Errorf("read index: %w", err)
		}
		r.Status, r.Mode, r.Origin = vocab.Status(intern(status)), vocab.Mode(intern(rowMode)), vocab.Origin(intern(origin))
		r.FFmpeg = intern(ffmpeg)
		r.setScanned(inode, ptsHash, fps)
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
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
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
				r.TBNum, r.TBDen, r.Codec, r.Width, r.Height, r.Frames, r.Mode, r.Origin, r.FFmpeg, r.Probed, r.Hash, int64(ptsHash(r.Pts))); err != nil {
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

// rowsMode is the probe kind of the index rows a cache of cfg rests on: its
// mode, or for an imported cache the kind import recorded its videos as
// (exact for torchvision-pyav, scan for torchvision).
func rowsMode(cfg cachefmt.Config) vocab.Mode {
	switch {
	case cfg.Mode != vocab.ModeImported:
		return cfg.Mode
	case cfg.Target == vocab.TargetTorchvision:
		return vocab.ModeScan
	}
	return vocab.ModeExact
}
