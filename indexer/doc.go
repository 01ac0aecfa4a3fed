/*
Package indexer turns a dataset folder into a vidcache cache and keeps the
SQLite index that makes the next build cheap. A build runs in six phases;
Build and Status share the first two, Refresh runs them for many caches at
once.

# Walk

Scan lists ROOT/SPLIT exactly as torchvision's Kinetics does: the class
folders (and symlinks to folders) sorted, each walked with symlinks
followed, folders sorted by their full path string, files matched by
lower-cased extension. Every file is stat'ed (size, mtime in ns, inode);
dangling links and non-regular files are kept as entries to record, not to
open. The order of Dataset.Videos is the order of the cache (walk.go).

# Plan

newPlan compares the walk with the index rows of the configuration's probe
kind (its mode: scan for the torchvision target, fast or exact for
torchvision-pyav), streamed in path order and merge-joined with the
dataset's paths, and sorts every video into reuse (the row is fresh: same
size, mtime and inode, or with --rehash the same content hash; same FFmpeg),
probe (new, changed, or probed another way) and the bookkeeping rows of
missing and non-regular files; rows of files gone from the split are
forgotten. Nothing is probed or written yet (plan.go).

# Probe

The plan's prober, made once from the build's options, probes its videos
with Jobs workers (an errgroup) via decoder.Probe, each with its time limit,
and commits results to the index in batches as they arrive, so a killed
build keeps what it finished and Ctrl-C stops within a second. A file
replaced while it was probed is stored as not fresh (probe.go).

# Assemble

assemble makes the cache, in cachefmt's model, from the index rows in
dataset order, without holding any timestamps in memory (assemble.go),
through a draft (draft.go), which Import uses too: it writes paths as
root_as says, counts clips with the clip math (package clips), stores each
frame rate as the target's torchvision would get it, counts the failed
videos (vocab.Status.Failed), and digests all of it (the configuration's
Key, the FFmpeg and tool versions, classes, every video, and every video's
pts hash, which a build takes from its row).

# Write

If the registered cache at the output path has the same digest and its file
is intact, nothing is written. Otherwise cachefmt.WriteFile streams the
timestamps back from the index (or, for the torchvision target, writes one
arange storage) into a temporary file that is fsynced and renamed over the
cache: the path always holds the old cache or the new one (assemble.go).

# Register

The written cache is registered in the index with its configuration (Key
JSON), digest, size and counts (draft.go), which status, path, refresh,
verify and gc read (caches.go, maintenance.go, status.go, verify.go).

The index itself (index.go, rows.go) holds one row per video and probe kind,
its timestamps in a separate table clustered by path, and the caches table;
migrations brings its schema up to date on open. Import (importer.go)
converts a torchvision cache into a vidcache cache through a draft,
registers it with its content's digest like a build's, and records its
videos as rows; Merge folds shard indexes into one (shard.go).
*/
package indexer
