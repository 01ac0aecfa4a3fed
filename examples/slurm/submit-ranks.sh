#!/bin/bash
# submit-ranks.sh DATA STATE [TASKS] — submit an array of TASKS tasks that all
# call `vidcache path --ensure` on one dataset and share the work.
# Extra sbatch options go in SBATCH_EXTRA.
set -euo pipefail
DATA=$1 STATE=$2 TASKS=${3:-8}
here=$(cd "$(dirname "$0")" && pwd)
export DATA STATE
mkdir -p "$STATE"
job=$(sbatch --parsable ${SBATCH_EXTRA:-} --array=0-$((TASKS - 1)) --export=ALL "$here/ranks.sbatch")
echo "ranks: job $job; logs in vidcache-ranks-${job}_*.log"
