#!/usr/bin/env bash
# ffmpeg.sh — provide FFmpeg 7.x (libavcodec 61) for go-astiav v0.39.0.
#
#   scripts/ffmpeg.sh ensure   use a system FFmpeg 7.x found by pkg-config, or build
#                              FFmpeg 7.1.5 once per machine into $VIDCACHE_DEPS
#   scripts/ffmpeg.sh env      print the PKG_CONFIG_PATH to build with ("" = system)
#
# The build is static and minimal, from Debian trixie's ffmpeg source package, and
# lands in a versioned folder outside the repository so every clone reuses it.
set -euo pipefail

VERSION=7.1.5
DEPS=${VIDCACHE_DEPS:-${XDG_CACHE_HOME:-$HOME/.cache}/vidcache-deps}
PREFIX=$DEPS/ffmpeg-$VERSION
LIBS="libavcodec libavdevice libavfilter libavformat libswresample libswscale libavutil"

system_ok() {
	local v
	v=$(pkg-config --modversion libavcodec 2>/dev/null) || return 1
	case $v in 61.*) ;; *) return 1 ;; esac
	pkg-config --exists $LIBS 2>/dev/null
}

built_ok() { [ -f "$PREFIX/.complete" ]; }

cmd=${1:-ensure}
case $cmd in
env)
	if built_ok; then echo "$PREFIX/lib/pkgconfig"; fi
	exit 0
	;;
ensure) ;;
*)
	echo "usage: $0 ensure|env" >&2
	exit 2
	;;
esac

if built_ok; then
	echo "ffmpeg: using $PREFIX" >&2
	exit 0
fi
if system_ok; then
	echo "ffmpeg: using system libavcodec $(pkg-config --modversion libavcodec)" >&2
	exit 0
fi
for tool in nasm pkg-config make cc xz apt-get; do
	command -v "$tool" >/dev/null || { echo "ffmpeg: missing build tool '$tool' (apt-get install nasm pkg-config make gcc xz-utils)" >&2; exit 1; }
done

echo "ffmpeg: building FFmpeg $VERSION into $PREFIX (a few minutes, once per machine)" >&2
work=$DEPS/build-ffmpeg-$VERSION
rm -rf "$work"
mkdir -p "$work/apt/lists/partial"
echo 'deb-src http://deb.debian.org/debian trixie main' >"$work/apt/sources.list"
o=(-o "Dir::Etc::sourcelist=$work/apt/sources.list" -o "Dir::Etc::sourceparts=-" -o "Dir::State::Lists=$work/apt/lists")
apt-get "${o[@]}" -qq update
(cd "$work" && apt-get "${o[@]}" -qq source --download-only "ffmpeg/trixie")
tarball=$(ls "$work"/ffmpeg_"$VERSION".orig.tar.* 2>/dev/null | head -1)
[ -n "$tarball" ] || { echo "ffmpeg: trixie's source package is not $VERSION: $(ls "$work")" >&2; exit 1; }
tar -C "$work" -xf "$tarball"
cd "$work/ffmpeg-$VERSION"

staging=$PREFIX.tmp.$$
./configure --prefix="$PREFIX" --disable-everything --disable-programs --disable-doc --disable-network \
	--disable-autodetect --enable-static --disable-shared --enable-pic \
	--enable-avcodec --enable-avformat --enable-avutil --enable-swscale --enable-swresample \
	--enable-avfilter --enable-avdevice \
	--enable-protocol=file,pipe \
	--enable-demuxer=mov,avi,matroska,mpegts,flv,mpegps,m4v,h264,hevc,ivf,ogg,asf \
	--enable-decoder=h264,hevc,mpeg4,vp8,vp9,av1,mjpeg,mpeg1video,mpeg2video,h263,msmpeg4v1,msmpeg4v2,msmpeg4v3,wmv1,wmv2,wmv3,vc1,theora,flv,rawvideo,aac,mp3,opus,vorbis \
	--enable-parser=h264,hevc,mpeg4video,vp8,vp9,av1,mjpeg,mpegvideo,aac,mpegaudio,opus,vorbis,h263,vc1 \
	--enable-bsf=h264_mp4toannexb,hevc_mp4toannexb,vp9_superframe_split,av1_frame_split \
	--enable-filter=buffer,buffersink,scale,format,fps,null,abuffer,abuffersink \
	>"$work/configure.log" 2>&1 || { tail -30 "$work/configure.log" >&2; exit 1; }
make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -30 "$work/make.log" >&2; exit 1; }
# Install into a staging DESTDIR, then move into place: a killed build never
# leaves a half-installed prefix that looks complete.
make DESTDIR="$staging" install >"$work/install.log" 2>&1
rm -rf "$PREFIX"
mv "$staging$PREFIX" "$PREFIX"
rm -rf "$staging" "$work"
touch "$PREFIX/.complete"
echo "ffmpeg: built $PREFIX" >&2
