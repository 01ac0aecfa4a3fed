#!/usr/bin/env bash
# make-native.sh — regenerate the ffmpeg-made files of testdata/native, one for
# each edit-list and sample-table shape the native MP4 probe (decoder/bmff)
# answers itself. Needs the ffmpeg CLI with libx264 (Debian: apt-get install
# ffmpeg); the output is committed. The files derived from these and from the
# sample by rewriting their moov in Go (a zero-duration last sample, 80
# million declared samples, a moov inside the moov) are written by
#   VIDCACHE_WRITE_FIXTURES=1 go test -run TestWriteNativeFixtures ./decoder
set -euo pipefail
cd "$(dirname "$0")/native"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
src() { echo -f lavfi -i "testsrc2=size=128x96:rate=$1:duration=$2"; }
tone() { echo -f lavfi -i "sine=frequency=$1:sample_rate=22050:duration=$2"; }
x264=(-c:v libx264 -preset veryfast -crf 32 -bf 3 -g 24 -pix_fmt yuv420p)
aac=(-c:a aac -b:a 24k -ac 1)
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

# An edit with media_time > 0: what ffmpeg's muxer writes for B-frames
# (the first frame's composition offset), video and audio, index at the end.
ff $(src 25 2) $(tone 440 2) "${x264[@]}" "${aac[@]}" -shortest edit-bframes.mp4
# The same with the index in front.
ff -i edit-bframes.mp4 -c copy -movflags +faststart edit-bframes-faststart.mp4
# An empty first edit: the video starts 0.4 s into the presentation.
ff $(src 25 2) $(tone 440 2.4) "${x264[@]}" "${aac[@]}" -t 2 "$t/base.mp4"
ff -itsoffset 0.4 -i "$t/base.mp4" -i "$t/base.mp4" -map 0:v -map 1:a -c copy empty-edit.mp4
# ctts version 1 with negative composition offsets.
ff $(src 25 2) $(tone 440 2) "${x264[@]}" "${aac[@]}" -shortest -movflags +negative_cts_offsets negative-cts.mp4
# Irregular stts: 30000/1001 fps in a millisecond timescale (33/34 deltas).
ff $(src 30000/1001 2) "${x264[@]}" -video_track_timescale 1000 irregular-stts.mp4
# 29.97 fps in a 90 kHz timescale, and 30000/1001 without B-frames.
ff $(src 30000/1001 2) "${x264[@]}" -video_track_timescale 90000 ntsc-90k.mp4
ff $(src 30000/1001 2) -c:v libx264 -preset veryfast -crf 32 -bf 0 -g 24 -pix_fmt yuv420p ntsc-no-bframes.mp4
# The audio track first (stream 0 is AAC with its own edit), index in front.
ff $(tone 440 2) $(src 30 2) -map 0:a -map 1:v "${aac[@]}" "${x264[@]}" -shortest -movflags +faststart audio-first-faststart.mp4
# One sample.
ff $(src 25 1) "${x264[@]}" -frames:v 1 one-sample.mp4
# A very large timescale (2e9, just below 2^31).
ff $(src 25 2) "${x264[@]}" -video_track_timescale 2000000000 large-timescale.mp4
# A QuickTime file (brand 'qt  ').
ff $(src 24 2) $(tone 330 2) "${x264[@]}" "${aac[@]}" -shortest quicktime.mov
# No edit list at all.
ff $(src 25 2) "${x264[@]}" -use_editlist 0 no-editlist.mp4
