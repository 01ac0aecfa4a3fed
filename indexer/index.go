package indexer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/vidcache/vidcache/migrations"
)

// Index is the SQLite file that remembers every probed video and every cache
// written. It runs in WAL mode with a busy timeout and IMMEDIATE write
// transactions, so several vidcache processes can share it.
type Index struct {
	db   *sql.DB
	path string
	// FS is the file system holding the index; on a shared one (network,
	// cluster, FUSE) the index uses the rollback journal, not WAL (fs.go).
	FS FileSystem
}

// OpenIndex opens (creating if needed) the index at path and brings its
// schema up to date.
func OpenIndex(ctx context.Context, path string) (*Index, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	fsys, err := FileSystemOf(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	journal := "WAL"
	if fsys.Shared {
		journal = "DELETE"
	}
	q := url.Values{}
	q.Set("_journal_mode", journal)
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
			ix := &Index{db: db, path: path, FS: fsys}
			if err := ix.checkJournal(ctx, journal); err != nil {
				db.Close()
				return nil, err
			}
			return ix, nil
		}
		if !isBusy(err) || time.Now().Add(delay).After(deadline) {
			if fsys.Shared {
				return nil, &IndexFSError{Path: path, FS: fsys, Err: err}
			}
			return nil, fmt.Errorf("open index %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("open index %s: %w", path, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// checkJournal makes sure the index runs the journal mode its file system
// needs: an index left in WAL mode on a shared file system (by an older
// vidcache, or while it was on a local disk) is converted, which needs every
// other connection to it closed.
func (ix *Index) checkJournal(ctx context.Context, want string) error {
	var mode string
	if err := ix.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return fmt.Errorf("open index %s: journal mode: %w", ix.path, err)
	}
	if strings.EqualFold(mode, want) {
		return nil
	}
	if err := ix.db.QueryRowContext(ctx, `PRAGMA journal_mode = `+want).Scan(&mode); err != nil || !strings.EqualFold(mode, want) {
		return &IndexFSError{Path: ix.path, FS: ix.FS, Err: err, Journal: mode, Want: want}
	}
	return nil
}

// ErrOldSchema: the index's schema is not this binary's.
var ErrOldSchema = errors.New("its schema is not this vidcache's")

// OpenIndexReadOnly opens an existing index without writing to it: for
// commands that only read (status, path, verify, list, report, gc's look at
// other indexes). It works on a read-only file or mount, where SQLite cannot
// create its -shm file, by falling back to immutable mode. An index whose
// schema is older than this binary's is refused (a writing command upgrades
// it).
func OpenIndexReadOnly(ctx context.Context, path string) (*Index, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	var lastErr error
	for _, mode := range []string{"mode=ro&_busy_timeout=30000", "mode=ro&immutable=1"} {
		dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + mode
		db, err := sql.Open("sqlite3", dsn)
		if err != nil {
			return nil, fmt.Errorf("open index %s: %w", path, err)
		}
		v, err := migrations.Current(ctx, db)
		if err != nil {
			db.Close()
			lastErr = err
			continue
		}
		if v != migrations.Latest() {
			db.Close()
			return nil, fmt.Errorf("open index %s read-only: %w: version %d, this vidcache's %d (any writing command upgrades it)", path, ErrOldSchema, v, migrations.Latest())
		}
		return &Index{db: db, path: path}, nil
	}
	return nil, fmt.Errorf("open index %s read-only: %w", path, lastErr)
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

func nowUnix() int64 { return time.Now().Unix() }

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.TrimSpace(s)
}
