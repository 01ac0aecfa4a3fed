package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/vidcache/vidcache/indexer"
)

// Flags and paths every command shares, defined once.

// dbFlag defines --db, the index a command reads or writes.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", "", "index file (default $VIDCACHE_HOME/index.db)")
}

// jsonFlag defines --json; shape says what is printed ("one JSON object",
// "a JSON array, one object per file").
func jsonFlag(fs *flag.FlagSet, shape string) *bool {
	return fs.Bool("json", false, "print "+shape+" instead of text")
}

// probeFlags are the options of commands that probe videos.
type probeFlags struct {
	jobs    int
	timeout time.Duration
}

// register defines --jobs and --timeout; when says when they apply ("" or
// " (with --ensure)").
func (p *probeFlags) register(fs *flag.FlagSet, when string) {
	fs.IntVar(&p.jobs, "jobs", runtime.NumCPU(), "videos probed in parallel"+when)
	fs.DurationVar(&p.timeout, "timeout", 60*time.Second, "time limit for probing one video"+when)
}

// homeDirs are the places under $VIDCACHE_HOME.
type homeDirs struct {
	Home   string // $VIDCACHE_HOME, or the user cache folder + /vidcache
	Index  string // the default index: Home/index.db
	Caches string // where default-named caches go: Home/caches
}

// Shard is the default index of shard i of n: Home/shard-I-of-N.db.
func (h homeDirs) Shard(i, n int) string {
	return filepath.Join(h.Home, fmt.Sprintf("shard-%d-of-%d.db", i, n))
}

// dirs resolves $VIDCACHE_HOME (else $XDG_CACHE_HOME/vidcache, else the
// user cache folder's vidcache).
func dirs(e *env) (homeDirs, error) {
	h := e.getenv("VIDCACHE_HOME")
	if h == "" {
		if x := e.getenv("XDG_CACHE_HOME"); x != "" {
			h = filepath.Join(x, "vidcache")
		} else {
			d, err := os.UserCacheDir()
			if err != nil {
				return homeDirs{}, fmt.Errorf("no VIDCACHE_HOME and no user cache folder: %w", err)
			}
			h = filepath.Join(d, "vidcache")
		}
	}
	return homeDirs{Home: h, Index: filepath.Join(h, "index.db"), Caches: filepath.Join(h, "caches")}, nil
}

// indexPath is db, or the default index when db is empty.
func indexPath(e *env, db string) (string, error) {
	if db != "" {
		return db, nil
	}
	d, err := dirs(e)
	return d.Index, err
}

// openIndex opens db, or the default index when db is empty, and notes it
// in the home's registry of indexes (see indexer.NoteIndex): gc keeps every
// cache any of them registered.
func openIndex(ctx context.Context, e *env, db string) (*indexer.Index, error) {
	p, err := indexPath(e, db)
	if err != nil {
		return nil, err
	}
	ix, err := indexer.OpenIndex(ctx, p)
	if err != nil {
		return nil, err
	}
	if d, err := dirs(e); err == nil {
		if err := indexer.NoteIndex(d.Home, p); err != nil {
			ix.Close()
			return nil, err
		}
	}
	return ix, nil
}

// openIndexReadOnly opens db (or the default index) for a command that only
// reads it, without writing (a read-only file or mount works; see
// indexer.OpenIndexReadOnly). An index that does not exist yet, or has an
// older schema, is opened as openIndex does (created, upgraded).
func openIndexReadOnly(ctx context.Context, e *env, db string) (*indexer.Index, error) {
	p, err := indexPath(e, db)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(p); err != nil {
		return openIndex(ctx, e, db)
	}
	ix, err := indexer.OpenIndexReadOnly(ctx, p)
	if errors.Is(err, indexer.ErrOldSchema) {
		return openIndex(ctx, e, db)
	}
	return ix, err
}
