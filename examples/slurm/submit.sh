#!/bin/bash
# submit.sh DATA STATE [SHARDS] — submit the shard array and the dependent merge.
# Extra sbatch options (e.g. --cpus-per-task=2 --partition=cpu) go in SBATCH_EXTRA.
set -euo pipefail
DATA=$1 STATE=$2 SHARDS=${3:-8}
here=$(cd "$(dirname "$0")" && pwd)
export DATA STATE SHARDS
job=$(sbatch --parsable ${SBATCH_EXTRA:-} --array=0-$((SHARDS - 1)) --export=ALL "$here/shards.sbatch")
merge=$(sbatch --parsable ${SBATCH_EXTRA:-} --dependency=afterok:$job --export=ALL "$here/merge.sbatch")
echo "shards: job $job, merge: job $merge; the cache will be $STATE/cache.pt"
