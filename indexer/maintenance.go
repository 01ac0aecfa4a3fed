package indexer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vidcache/vidcache/cachefmt"
	"github.com/vidcache/vidcache/cachefmt/vocab"
)

// RefreshOptions configure Refresh.
type RefreshOptions struct {
	Roots     []string // only caches of these dataset roots; empty: all
	Jobs      int
	Timeout   time.Duration
	Progress  Progress
	CreatedAt int64
	NoSync    bool
}

// RefreshState is what Refresh did with one cache.
type RefreshState string

const (
	RefreshFresh   RefreshState = "fresh"   // already up to date
	RefreshRebuilt RefreshState = "rebuilt" // stale, and rewritten
	RefreshFailed  RefreshState = "failed"  // stale, and could not be rebuilt (Error says why)
	// RefreshImported: converted by import, not rebuilt (a build of the
	// dataset writes a vidcache-made cache in its place).
	RefreshImported RefreshState = "imported"
)

func (s RefreshState) String() string { return string(s) }

// RefreshResult is one registered cache's outcome.
type RefreshResult struct {
	Cache  string       `json:"cache"`
	Root   string       `json:"root"`
	State  RefreshState `json:"state"`
	Probed int          `json:"probed"`
	Videos int          `json:"videos"`
	Error  string       `json:"error,omitempty"`
}

// Refresh regenerates every registered cache (of opts.Roots, if given) that
// is stale. All their new and changed files are probed in one pass, each
// file once, however many caches share it.
func Refresh(ctx context.Context, ix *Index, opts RefreshOptions) ([]RefreshResult, error) {
	plans, results, err := refreshPlans(ctx, ix, opts)
	if err != nil {
		return results, err
	}
	probed, err := probeTogether(ctx, ix, plans)
	if err != nil {
		return results, err
	}
	for _, p := range plans {
		rr, err := p.refresh(ctx, ix, probed[p])
		results = append(results, rr)
		if err != nil {
			return results, err
		}
	}
	return results, nil
}

// refreshPlans plans the registered caches to refresh (of opts.Roots, if
// given). The results are those of the caches it leaves: imported ones, and
// those that cannot be planned.
func refreshPlans(ctx context.Context, ix *Index, opts RefreshOptions) ([]*plan, []RefreshResult, error) {
	recs, err := ix.Caches(ctx)
	if err != nil {
		return nil, nil, err
	}
	roots := map[string]bool{}
	for _, r := range opts.Roots {
		abs, err := filepath.Abs(r)
		if err != nil {
			return nil, nil, err
		}
		roots[abs] = true
	}
	var plans []*plan
	var results []RefreshResult
	for _, rec := range recs {
		k, err := cachefmt.ParseKey([]byte(rec.Config))
		if err != nil {
			results = append(results, RefreshResult{Cache: rec.Path, Root: rec.Root, State: RefreshFailed, Error: "unreadable configuration: " + err.Error()})
			continue
		}
		if len(roots) > 0 && !roots[k.Root] {
			continue
		}
		if k.Mode == vocab.ModeImported {
			results = append(results, RefreshResult{Cache: rec.Path, Root: k.Root, State: RefreshImported, Videos: rec.Videos})
			continue
		}
		k.CreatedUnix = opts.CreatedAt
		bo := BuildOptions{Config: k, Out: rec.Path, Jobs: opts.Jobs, Timeout: opts.Timeout, NoSync: opts.NoSync, Progress: opts.Progress}
		p, err := newPlan(ctx, ix, bo)
		if err != nil {
			if ctx.Err() != nil {
				return nil, results, ctx.Err()
			}
			results = append(results, RefreshResult{Cache: rec.Path, Root: k.Root, State: RefreshFailed, Error: err.Error()})
			continue
		}
		plans = append(plans, p)
	}
	return plans, results, nil
}

// probeTogether stores the plans' bookkeeping rows and probes their videos:
// one pass per probe kind over the union of the plans' files, each file once
// however many plans have it, by the prober of the kind's first plan. Each
// row goes to every plan that had the file to probe; it returns how many
// rows each plan took. (Refresh plans never rehash: the passes need no
// content hashes.)
func probeTogether(ctx context.Context, ix *Index, plans []*plan) (map[*plan]int, error) {
	byMode := map[vocab.Mode][]*plan{}
	for _, p := range plans {
		if err := p.record(ctx, ix); err != nil {
			return nil, err
		}
		byMode[p.mode] = append(byMode[p.mode], p)
	}
	probed := map[*plan]int{}
	for _, ps := range byMode {
		var todo []*Entry
		seen := map[string]bool{}
		for _, p := range ps {
			for _, e := range p.todo {
				if !seen[e.Path] {
					seen[e.Path] = true
					todo = append(todo, e)
				}
			}
		}
		if len(todo) == 0 {
			continue
		}
		indexes := make([]map[string]int, len(ps))
		for j, p := range ps {
			indexes[j] = p.ds.index()
		}
		_, _, err := ps[0].run(ctx, todo, func(_ int, r *Row) {
			for j, p := range ps {
				if i, ok := indexes[j][r.Path]; ok && p.stored(i, r) {
					probed[p]++
				}
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return probed, nil
}

// refresh writes the plan's cache if it is stale, once its videos are
// probed (probed of them by the pass of probeTogether), and says what came
// of it. The error is only a cancellation; a failure is in the result.
func (p *plan) refresh(ctx context.Context, ix *Index, probed int) (RefreshResult, error) {
	res := p.result()
	err := p.write(ctx, ix, res)
	rr := RefreshResult{Cache: p.opts.Out, Root: p.opts.Root, Probed: probed, Videos: len(p.ds.Videos), State: RefreshFresh}
	switch {
	case err != nil:
		if ctx.Err() != nil {
			return rr, ctx.Err()
		}
		rr.State, rr.Error = RefreshFailed, err.Error()
	case res.Written:
		rr.State = RefreshRebuilt
	}
	return rr, nil
}

// indexRegistry is the file in a vidcache home listing every index used
// with it, one absolute path a line.
const indexRegistry = "indexes.txt"

// NoteIndex adds indexPath to home's registry of indexes, once. The home
// need not exist yet. Appends are single small writes with O_APPEND, so
// concurrent commands do not interleave.
func NoteIndex(home, indexPath string) error {
	abs, err := filepath.Abs(indexPath)
	if err != nil {
		return err
	}
	known, _ := RegisteredIndexes(home)
	if slices.Contains(known, abs) {
		return nil
	}
	if err := os.MkdirAll(home, 0o755); err != nil {
		return fmt.Errorf("index registry: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(home, indexRegistry), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("index registry: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(abs + "\n"); err != nil {
		return fmt.Errorf("index registry: %w", err)
	}
	return nil
}

// RegisteredIndexes lists the indexes noted in home's registry.
func RegisteredIndexes(home string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(home, indexRegistry))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out, nil
}

// GCReport lists what GC removed (or, with DryRun, would remove).
type GCReport struct {
	ForgottenVideos []string `json:"forgotten_videos"` // index rows of files that no longer exist
	Unregistered    []string `json:"unregistered_caches"`
	DeletedFiles    []string `json:"deleted_files"` // cache files (and leftover temporaries) nobody registered
	// Kept are unregistered cache files gc left because an index that may
	// have registered them could not be read (KeptBecause says why).
	Kept        []string `json:"kept,omitempty"`
	KeptBecause []string `json:"kept_because,omitempty"`
	DryRun      bool     `json:"dry_run"`
}

// GC forgets index rows of files that no longer exist, unregisters caches
// whose file is gone, and deletes files in cacheDir that are not registered
// caches, and temporaries left by killed writes (never a running write's:
// see cachefmt.Stale).
//
// A cache is deleted only if no index registered it: besides ix, every other
// index in others (the home's registry) is opened read-only and its caches
// kept; while one of them exists but cannot be read, no unregistered cache is
// deleted at all (only stale temporaries).
func GC(ctx context.Context, ix *Index, cacheDir string, dryRun bool, others ...string) (*GCReport, error) {
	r := &GCReport{DryRun: dryRun, ForgottenVideos: []string{}, Unregistered: []string{}, DeletedFiles: []string{}}
	paths, err := ix.AllPaths(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			r.ForgottenVideos = append(r.ForgottenVideos, p)
		}
	}
	registered, err := r.registeredCaches(ctx, ix, others)
	if err != nil {
		return nil, err
	}
	if cacheDir != "" {
		if err := r.sweep(cacheDir, registered); err != nil {
			return nil, err
		}
	}
	if dryRun {
		return r, nil
	}
	return r, r.apply(ctx, ix)
}

// registeredCaches is the set of cache files registered in ix or in any of
// the others. It notes ix's caches whose file is gone as Unregistered, and
// each other index that exists but cannot be read in KeptBecause.
func (r *GCReport) registeredCaches(ctx context.Context, ix *Index, others []string) (map[string]bool, error) {
	recs, err := ix.Caches(ctx)
	if err != nil {
		return nil, err
	}
	registered := map[string]bool{}
	for _, c := range recs {
		if _, err := os.Stat(c.Path); errors.Is(err, fs.ErrNotExist) {
			r.Unregistered = append(r.Unregistered, c.Path)
			continue
		}
		registered[c.Path] = true
	}
	self, _ := filepath.Abs(ix.Path()) // the registry holds absolute paths
	for _, o := range others {
		if o == ix.Path() || o == self {
			continue
		}
		if err := addCachesOf(ctx, o, registered); err != nil {
			r.KeptBecause = append(r.KeptBecause, fmt.Sprintf("cannot read index %s: %v", o, err))
		}
	}
	return registered, nil
}

// addCachesOf adds the caches the index at path registered to registered;
// an index that no longer exists owns nothing.
func addCachesOf(ctx context.Context, path string, registered map[string]bool) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	oix, err := OpenIndexReadOnly(ctx, path)
	if err != nil {
		return err
	}
	recs, err := oix.Caches(ctx)
	oix.Close()
	for _, c := range recs {
		registered[c.Path] = true
	}
	return err
}

// sweep lists the files in cacheDir to delete: cache files not registered
// and temporaries, that no writer holds. While some index could not be read
// (KeptBecause), unregistered caches are kept, as it may have registered
// them.
func (r *GCReport) sweep(cacheDir string, registered map[string]bool) error {
	ents, err := os.ReadDir(cacheDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("gc: %w", err)
	}
	unattributable := len(r.KeptBecause) > 0
	for _, e := range ents {
		p := filepath.Join(cacheDir, e.Name())
		switch {
		case !e.Type().IsRegular() || registered[p]:
		case cachefmt.IsTemp(e.Name()) || strings.HasSuffix(e.Name(), ".pt"):
			// Only what no writer holds (a running build's temporary, or
			// the cache it has installed but not registered yet, is live)
			// and nobody has written to for a while.
			if !cachefmt.Stale(p) {
				break
			}
			if unattributable && !cachefmt.IsTemp(e.Name()) {
				r.Kept = append(r.Kept, p)
				break
			}
			r.DeletedFiles = append(r.DeletedFiles, p)
		}
	}
	return nil
}

// apply removes what the report lists.
func (r *GCReport) apply(ctx context.Context, ix *Index) error {
	if err := ix.DeleteRows(ctx, r.ForgottenVideos); err != nil {
		return err
	}
	for _, c := range r.Unregistered {
		if err := ix.DeleteCache(ctx, c); err != nil {
			return err
		}
	}
	for _, f := range r.DeletedFiles {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("gc: %w", err)
		}
	}
	return nil
}
