#!/usr/bin/env bash
# run.sh REFDIR DATA [train.py options...]
#
# Runs torchvision's reference video-classification train.py (REFDIR is its
# references/video_classification folder, with train.patch applied) on the
# Kinetics-layout dataset DATA (DATA/train/<class>/<video>, DATA/val/...),
# its metadata from vidcache caches instead of torchvision's precompute:
#
#   1. `vidcache path --ensure DATA --split train` and `--split val` build
#      each cache, or refresh it (probing only new and changed videos), or
#      find it fresh; each prints the cache's path, and a line in the log
#      when it built something. The caches are built for the --frame-rate
#      and --clip-len among the options (train.py's defaults, 15 and 16,
#      when absent) and for the target the installed torchvision needs.
#   2. `train.py --data-path DATA --vidcache-train TRAIN --vidcache-val VAL
#      [options...]`.
#
# Spell --frame-rate and --clip-len in full (argparse would also take an
# abbreviation; this script would not see it). run.sh passes --data-path and
# the caches itself.
#
# Environment:
#   PYTHON          the Python with torch, torchvision and the vidcache wheel (python3)
#   VIDCACHE        the vidcache command ("$PYTHON -m vidcache": the wheel's own binary)
#   VIDCACHE_ARGS   more options for both `vidcache path --ensure` (e.g. "--jobs 16 --strict")
#   LAUNCH          what runs train.py ("$PYTHON"), e.g. "torchrun --nproc_per_node=8"
#   VIDCACHE_HOME   where the caches and the index live (~/.cache/vidcache)
set -euo pipefail

if [ $# -lt 2 ]; then
	echo "usage: run.sh REFDIR DATA [train.py options...]" >&2
	exit 2
fi
refdir=$1 data=$2
shift 2
if ! [ -f "$refdir/train.py" ]; then
	echo "run.sh: no train.py in $refdir (torchvision's references/video_classification)" >&2
	exit 2
fi
if ! grep -q -e '--vidcache-train' "$refdir/train.py"; then
	echo "run.sh: $refdir/train.py has no --vidcache-train option; apply the patch first:" >&2
	echo "  (cd $refdir && patch -p1 < $(cd "$(dirname "$0")" && pwd)/train.patch)" >&2
	exit 2
fi
for split in train val; do
	if ! [ -d "$data/$split" ]; then
		echo "run.sh: no $data/$split (train.py reads DATA/train and DATA/val)" >&2
		exit 2
	fi
done

# The clip options train.py will use, so the caches are built for them.
rate=15 clip=16
prev=
for a in "$@"; do
	case $prev in
	--frame-rate) rate=$a ;;
	--clip-len) clip=$a ;;
	esac
	case $a in
	--frame-rate=*) rate=${a#*=} ;;
	--clip-len=*) clip=${a#*=} ;;
	--data-path | --data-path=* | --vidcache-train* | --vidcache-val*)
		echo "run.sh: ${a%%=*}: run.sh passes --data-path and the caches itself" >&2
		exit 2
		;;
	esac
	prev=$a
done

python=${PYTHON:-python3}
if [ -n "${VIDCACHE:-}" ]; then
	read -r -a vidcache <<<"$VIDCACHE"
else
	vidcache=("$python" -m vidcache)
fi
# torchvision 0.26+ needs the default target, 0.25 and earlier torchvision-pyav.
target=$("$python" -W ignore -c 'import vidcache; print(vidcache.required_target())')
read -r -a extra <<<"${VIDCACHE_ARGS:-}"
opts=(--frame-rate "$rate" --frames-per-clip "$clip" --target "$target" "${extra[@]}")

train=$("${vidcache[@]}" path --ensure "$data" --split train "${opts[@]}")
val=$("${vidcache[@]}" path --ensure "$data" --split val "${opts[@]}")
echo "run.sh: train cache $train" >&2
echo "run.sh: val cache $val" >&2

if [ -n "${LAUNCH:-}" ]; then
	read -r -a launch <<<"$LAUNCH"
else
	launch=("$python")
fi
exec "${launch[@]}" "$refdir/train.py" --data-path "$data" --vidcache-train "$train" --vidcache-val "$val" "$@"
