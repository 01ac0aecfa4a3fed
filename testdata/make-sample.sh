#!/usr/bin/env bash
# make-sample.sh — regenerate testdata/sample, the bundled Kinetics-style dataset.
#
# Needs the ffmpeg CLI with libx264 (Debian: apt-get install ffmpeg). The output is
# committed; rerun this only to change the sample. Every case the walk and the probe
# must get right has a file here:
#   H.264 (B-frames) + AAC in MP4 at 25, 30 and 30000/1001 fps; MPEG-4 AVI with B-frames
#   and MPEG-4 in MP4 (its stream-0 extradata carries "Lavc", so torchvision demuxes);
#   a video-only file; a file whose first stream is audio; an upper-case .MP4; nested
#   folders with the "nested-dir" vs "nested/deeper" ordering trap; a symlinked file and
#   a symlinked class folder; a class name with a space; a zero-byte file; a text file
#   with a video extension; a file with a non-matching extension.
set -euo pipefail
cd "$(dirname "$0")"
out=sample
rm -rf "$out"
mkdir -p "$out/train" "$out/val" "$out/extra"

ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
src() { # src RATE SECONDS
	echo -f lavfi -i "testsrc2=size=128x96:rate=$1:duration=$2"
}
tone() { echo -f lavfi -i "sine=frequency=$1:sample_rate=22050:duration=$2"; }
x264=(-c:v libx264 -preset veryfast -crf 32 -bf 3 -g 24 -pix_fmt yuv420p)
aac=(-c:a aac -b:a 24k -ac 1)

t=$out/train
mkdir -p "$t/abseiling" "$t/playing guitar" "$t/juggling/nested/deeper" "$t/juggling/nested-dir" "$t/.hidden"

ff $(src 25 2) $(tone 440 2) "${x264[@]}" "${aac[@]}" -shortest "$t/abseiling/h264-25fps.mp4"
ff $(src 30 2) $(tone 550 2) "${x264[@]}" "${aac[@]}" -shortest "$t/abseiling/h264-30fps.mp4"
ff $(src 30000/1001 2) $(tone 660 2) "${x264[@]}" "${aac[@]}" -shortest "$t/abseiling/h264-29.97fps.mp4"
ff $(src 25 2) $(tone 330 2) -c:v mpeg4 -bf 2 -q:v 8 -c:a libmp3lame -b:a 32k -ac 1 -shortest "$t/playing guitar/mpeg4-bframes.avi"
# MPEG-4 in MP4 has a global header whose user data says "Lavc": torchvision
# takes this file's timestamps from demuxed packets instead of decoding.
ff $(src 25 2) $(tone 500 2) -c:v mpeg4 -bf 2 -q:v 8 "${aac[@]}" -shortest "$t/playing guitar/mpeg4-lavc.mp4"
ff $(src 24 2) "${x264[@]}" "$t/playing guitar/video-only.mp4"
ff $(src 15 2) "${x264[@]}" "$t/playing guitar/UPPER.MP4"
# Audio first: stream 0 is AAC, the video is stream 1.
ff $(tone 440 2) $(src 25 2) -map 0:a -map 1:v "${aac[@]}" "${x264[@]}" -shortest "$t/juggling/audio-first.mp4"
# Ordering trap: nested-dir/ sorts before nested/deeper/ but after nested/ ("-" < "/").
ff $(src 12 1) "${x264[@]}" "$t/juggling/nested/z.mp4"
ff $(src 12 1) "${x264[@]}" "$t/juggling/nested/deeper/y.mp4"
ff $(src 12 1) "${x264[@]}" "$t/juggling/nested-dir/x.mp4"
: >"$t/juggling/zero-bytes.mp4"
printf 'this is not a video\n' >"$t/juggling/not-a-video.mp4"
printf 'notes\n' >"$t/juggling/readme.txt"
ln -s ../abseiling/h264-25fps.mp4 "$t/juggling/symlinked.mp4"
ff $(src 10 1) "${x264[@]}" "$t/.hidden/hidden-class.mp4"
# A class folder that is a symlink to a folder outside the split.
ff $(src 20 1) "${x264[@]}" "$out/extra/linked.mp4"
ln -s ../extra "$t/linked class"

mkdir -p "$out/val/abseiling"
ff $(src 25 1) $(tone 440 1) "${x264[@]}" "${aac[@]}" -shortest "$out/val/abseiling/val-clip.mp4"
# Outside the dataset: a fast-start MP4 (moov before mdat) that the damaged-file
# tests cut short, for the "index present, data missing" case.
ff -i "$t/abseiling/h264-25fps.mp4" -c copy -movflags +faststart faststart.mp4
# The start of an MPEG-TS file; the tests extend a copy with a 50 GB sparse
# hole, which the TS demuxer would scan for minutes: the per-video time limit
# must stop it.
ff -f lavfi -i testsrc2=size=64x48:rate=10:duration=1 -c:v libx264 -f mpegts stall-prefix.ts
# Hostile containers (Matroska): 200 audio streams beside the video; pts
# near 9e15 (ms); every pts equal. The tests build a dataset from them.
mkdir -p hostile
maps=(); for i in $(seq 1 200); do maps+=(-map 1:a); done
ff -f lavfi -i testsrc2=size=64x48:rate=10:duration=1 -f lavfi -i sine=frequency=300:sample_rate=8000:duration=0.1 \
	-map 0:v "${maps[@]}" -c:v libx264 -preset ultrafast -c:a aac -b:a 8k hostile/many-streams.mkv
ff -f lavfi -i testsrc2=size=64x48:rate=10:duration=1 -c:v libx264 -preset ultrafast -bf 0 -output_ts_offset 9000000000000 hostile/huge-ts.mkv
ff -f lavfi -i testsrc2=size=64x48:rate=10:duration=1 -c:v libx264 -preset ultrafast -bf 0 -bsf:v setts=pts=0:dts=0 hostile/equal-ts.mkv
# Decreasing timestamps: muxers refuse to write them, so an FLV's video tag
# timestamps are patched in place (5000, 4900, ... ms).
ff -f lavfi -i testsrc2=size=64x48:rate=10:duration=1 -c:v libx264 -preset ultrafast -bf 0 -f flv hostile/plain.flv
python3 - <<'PY'
import struct
b = bytearray(open("hostile/plain.flv", "rb").read())
p = struct.unpack(">I", b[5:9])[0] + 4
i = 0
while p + 11 <= len(b):
    size = int.from_bytes(b[p + 1:p + 4], "big")
    if b[p] == 9:
        ts = max(0, 5000 - i * 100)
        b[p + 4:p + 7] = (ts & 0xFFFFFF).to_bytes(3, "big")
        b[p + 7] = (ts >> 24) & 0xFF
        i += 1
    p += 11 + size + 4
open("hostile/decreasing-ts.flv", "wb").write(b)
PY
rm hostile/plain.flv
du -sh "$out"

# codecs/: one short clip per codec the minimal FFmpeg build must decode in
# exact mode (the torchvision-pyav target decodes): AV1 (needs libdav1d: FFmpeg's
# own av1 decoder only drives hardware), HEVC, VP9, VP8, 10-bit H.264.
c=codecs/train/codecs
rm -rf codecs
mkdir -p "$c"
ff $(src 24 2) -c:v libaom-av1 -cpu-used 8 -crf 50 -g 12 -pix_fmt yuv420p "$c/av1.mp4"
ff $(src 25 2) -c:v libx265 -preset ultrafast -x265-params log-level=error:bframes=3 -pix_fmt yuv420p "$c/hevc.mp4"
ff $(src 30 2) -c:v libvpx-vp9 -b:v 50k -g 15 -pix_fmt yuv420p -f matroska "$c/vp9-in-mkv.mp4"
ff $(src 15 2) -c:v libvpx -b:v 50k -g 15 -f webm "$c/vp8-in-webm.mp4"
ff $(src 25 2) -c:v libx264 -preset veryfast -crf 32 -bf 3 -pix_fmt yuv420p10le "$c/h264-10bit.mp4"
