package indexer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/vidcache/vidcache/cachefmt"
)

// CacheRecord is a cache file registered in the index.
type CacheRecord struct {
	Path        string
	Root        string
	Split       string
	Config      string // JSON
	Digest      string // SHA-256 of the content, created_unix excluded (draft.digest), built or imported
	Videos      int
	Clips       int64
	Size        int64
	CreatedUnix int64
	Failed      int // failed videos (vocab.Status.Failed); -1: not recorded (older index)
}

const cacheColumns = `path, root, split, config, digest, videos, clips, size, created_unix, failed`

func (c *CacheRecord) fields() []any {
	return []any{&c.Path, &c.Root, &c.Split, &c.Config, &c.Digest, &c.Videos, &c.Clips, &c.Size, &c.CreatedUnix, &c.Failed}
}

// Caches lists every registered cache.
func (ix *Index) Caches(ctx context.Context) ([]*CacheRecord, error) {
	rows, err := ix.db.QueryContext(ctx, `SELECT `+cacheColumns+` FROM caches ORDER BY path`)
	if err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	defer rows.Close()
	var out []*CacheRecord
	for rows.Next() {
		c := &CacheRecord{}
		if err := rows.Scan(c.fields()...); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Cache returns the record of the cache at path, or nil.
func (ix *Index) Cache(ctx context.Context, path string) (*CacheRecord, error) {
	c := &CacheRecord{}
	err := ix.db.QueryRowContext(ctx, `SELECT `+cacheColumns+` FROM caches WHERE path = ?`, path).Scan(c.fields()...)
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
		_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO caches (`+cacheColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.Path, c.Root, c.Split, c.Config, c.Digest, c.Videos, c.Clips, c.Size, c.CreatedUnix, c.Failed)
		return err
	})
}

// DeleteCache unregisters a cache.
func (ix *Index) DeleteCache(ctx context.Context, path string) error {
	return ix.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM caches WHERE path = ?`, path)
		return err
	})
}

// FindCache is the newest registered cache of cfg's dataset and way of
// reading (root, split, extensions, target, mode, root_as) whose file still
// exists, whatever its clip options: torchvision recomputes clips from the
// metadata, so any of them serves. Nil when there is none.
func FindCache(ctx context.Context, ix *Index, cfg cachefmt.Config) (*CacheRecord, *cachefmt.Config, error) {
	recs, err := ix.Caches(ctx)
	if err != nil {
		return nil, nil, err
	}
	var best *CacheRecord
	var bestCfg cachefmt.Config
	for _, rec := range recs {
		c, err := cachefmt.ParseKey([]byte(rec.Config))
		if err != nil || c.Root != cfg.Root || c.Split != cfg.Split || !slices.Equal(c.Extensions, cfg.Extensions) ||
			c.Target != cfg.Target || c.Mode != cfg.Mode || c.RootAs != cfg.RootAs {
			continue
		}
		if _, err := os.Stat(rec.Path); err != nil {
			continue
		}
		if best == nil || rec.CreatedUnix > best.CreatedUnix {
			best, bestCfg = rec, c
		}
	}
	if best == nil {
		return nil, nil, nil
	}
	return best, &bestCfg, nil
}
