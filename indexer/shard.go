package indexer

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"strings"
)

// ShardOf is the stable shard, in [0, n), of a video: FNV-1a of its path
// relative to the dataset root ("train/class/x.mp4"), so every machine
// agrees wherever the dataset is mounted.
func ShardOf(rel string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(rel))
	return int(h.Sum64() % uint64(n))
}

// inShard reports whether e belongs to opts' shard (all entries when the
// build is not sharded).
func (o *BuildOptions) inShard(e *Entry) bool {
	if o.Shards <= 0 {
		return true
	}
	rel := strings.TrimPrefix(e.Path, strings.TrimSuffix(o.Root, "/")+"/")
	return ShardOf(rel, o.Shards) == o.Shard
}

// MergeResult reports a merge.
type MergeResult struct {
	Shards int `json:"shards"`
	Rows   int `json:"rows"`
}

// Merge folds shard indexes into ix: every video row of every shard is
// inserted or replaces the row of the same path and probe kind, so merging again (after a
// failed shard was re-run) gives the same index. Shard files are opened
// read-only in spirit: their schema is brought up to date, nothing else.
func Merge(ctx context.Context, ix *Index, shards []string) (*MergeResult, error) {
	res := &MergeResult{}
	for _, p := range shards {
		if _, err := os.Stat(p); err != nil {
			return res, fmt.Errorf("merge: shard index %w", err)
		}
		sx, err := OpenIndex(ctx, p)
		if err != nil {
			return res, fmt.Errorf("merge: %w", err)
		}
		rows, err := sx.AllRows(ctx)
		sx.Close()
		if err != nil {
			return res, fmt.Errorf("merge %s: %w", p, err)
		}
		if err := ix.PutRows(ctx, rows); err != nil {
			return res, fmt.Errorf("merge %s: %w", p, err)
		}
		res.Shards++
		res.Rows += len(rows)
	}
	return res, nil
}
