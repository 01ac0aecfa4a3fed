#!/usr/bin/env bash
# make-corpus.sh DIR [N] — a Kinetics-like corpus for `make bench`, made once:
# N (default 1000) ten-second 340x256 clips, H.264 with B-frames + AAC in
# MP4, at 24, 25, 30000/1001 and 30 fps, in 40 class folders. 100 distinct
# clips are encoded (each takes seconds), and copied to N files, each its
# own inode.
# Needs the ffmpeg CLI (apt-get install ffmpeg).
set -euo pipefail
dir=$1
n=${2:-1000}
[ -f "$dir/.complete-$n" ] && exit 0
command -v ffmpeg >/dev/null || { echo "make-corpus: needs the ffmpeg CLI (apt-get install ffmpeg)" >&2; exit 1; }
mkdir -p "$dir/train"
rates=(24 25 30000/1001 30)
one() {
	local i=$1
	local cls=$(printf 'class_%02d' $((i % 40)))
	local out="$dir/train/$cls/$(printf 'clip_%05d' "$i").mp4"
	[ -s "$out" ] && return 0
	mkdir -p "$dir/train/$cls"
	local r=${rates[$((i % 4))]}
	# Distinct content per clip: a moving test pattern, shifted by i.
	ffmpeg -nostdin -hide_banner -loglevel error -y \
		-f lavfi -i "testsrc2=size=340x256:rate=$r:duration=10,hue=h=$((i * 7 % 360))" \
		-f lavfi -i "sine=frequency=$((200 + i % 800)):sample_rate=44100:duration=10" \
		-c:v libx264 -preset veryfast -crf 30 -bf 3 -g 48 -pix_fmt yuv420p \
		-c:a aac -b:a 64k -shortest "$out.tmp.mp4"
	mv "$out.tmp.mp4" "$out"
}
export -f one
export dir
export rates_str="${rates[*]}"
distinct=$(( n < 100 ? n : 100 ))
for i in $(seq 0 $((distinct - 1))); do echo "$i"; done |
	xargs -P "$(nproc)" -I{} bash -c 'rates=(24 25 30000/1001 30); '"$(declare -f one)"'; one {}'
for i in $(seq "$distinct" $((n - 1))); do
	src="$dir/train/$(printf 'class_%02d' $((i % distinct % 40)))/$(printf 'clip_%05d' $((i % distinct))).mp4"
	dst="$dir/train/$(printf 'class_%02d' $((i % 40)))/$(printf 'clip_%05d' "$i").mp4"
	[ -s "$dst" ] || cp "$src" "$dst"
done
touch "$dir/.complete-$n"
echo "corpus: $n clips in $dir" >&2
