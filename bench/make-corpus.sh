#!/usr/bin/env bash
# make-corpus.sh DIR N SHAPE — a Kinetics-like corpus for `make bench`, made
# once. Every file is distinct: D clips are encoded, and each of the N files
# is a remux of one of them with its own tag (comment=vidcache-bench-I), the
# odd ones with the index in front (+faststart), the even ones with it at the
# end (FFmpeg's default) — so nothing is shared in the page cache and both
# layouts are read.
#   SHAPE short: ten-second 340x256 clips (Kinetics' own size), H.264 with
#                B-frames + AAC, 24/25/29.97/30 fps, 40 classes; D = 100.
#   SHAPE long:  sixty-second 1280x720 clips at 30 fps, H.264 + AAC, 8
#                classes; D = 8.
# Needs the ffmpeg CLI (apt-get install ffmpeg).
set -euo pipefail
dir=$1 n=$2 shape=$3
[ -f "$dir/.complete-$n" ] && exit 0
command -v ffmpeg >/dev/null || { echo "make-corpus: needs the ffmpeg CLI (apt-get install ffmpeg)" >&2; exit 1; }
mkdir -p "$dir/src" "$dir/train"
case $shape in
short) distinct=100 classes=40 ;;
long) distinct=8 classes=8 ;;
*) echo "make-corpus: shape short or long" >&2; exit 2 ;;
esac
export dir shape classes distinct
encode() {
	local i=$1 out="$dir/src/$1.mp4"
	[ -s "$out" ] && return 0
	local rates=(24 25 30000/1001 30)
	if [ "$shape" = short ]; then
		ffmpeg -nostdin -hide_banner -loglevel error -y \
			-f lavfi -i "testsrc2=size=340x256:rate=${rates[$((i % 4))]}:duration=10,hue=h=$((i * 7 % 360))" \
			-f lavfi -i "sine=frequency=$((200 + i % 800)):sample_rate=44100:duration=10" \
			-c:v libx264 -preset veryfast -crf 18 -bf 3 -g 48 -pix_fmt yuv420p \
			-c:a aac -b:a 96k -shortest "$out.tmp.mp4"
	else
		ffmpeg -nostdin -hide_banner -loglevel error -y \
			-f lavfi -i "testsrc2=size=1280x720:rate=30:duration=60,hue=h=$((i * 40))" \
			-f lavfi -i "sine=frequency=$((300 + i * 50)):sample_rate=44100:duration=60" \
			-c:v libx264 -preset ultrafast -crf 26 -g 60 -pix_fmt yuv420p \
			-c:a aac -b:a 96k -shortest "$out.tmp.mp4"
	fi
	mv "$out.tmp.mp4" "$out"
}
remux() {
	local i=$1
	local cls=$(printf 'class_%02d' $((i % classes)))
	local out="$dir/train/$cls/$(printf 'clip_%05d' "$i").mp4"
	[ -s "$out" ] && return 0
	mkdir -p "$dir/train/$cls"
	local flags=()
	[ $((i % 2)) = 1 ] && flags=(-movflags +faststart)
	ffmpeg -nostdin -hide_banner -loglevel error -y -i "$dir/src/$((i % distinct)).mp4" \
		-map 0 -c copy -metadata comment="vidcache-bench-$i" "${flags[@]}" "$out.tmp.mp4"
	mv "$out.tmp.mp4" "$out"
}
export -f encode remux
seq 0 $((distinct - 1)) | xargs -P "$(nproc)" -I{} bash -c 'encode {}'
seq 0 $((n - 1)) | xargs -P "$(nproc)" -I{} bash -c 'remux {}'
touch "$dir/.complete-$n"
echo "corpus: $n $shape clips in $dir" >&2
