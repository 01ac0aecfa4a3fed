#!/usr/bin/env bash
# ffmpeg.sh — provide FFmpeg 9.0 (libavcodec 63) with a static libdav1d, for go-astiav v0.43.0.
#
#   scripts/ffmpeg.sh ensure   build FFmpeg 9.0.2 + dav1d 1.5.4 once per machine into $VIDCACHE_DEPS
#   scripts/ffmpeg.sh env      print the PKG_CONFIG_PATH to build with ("" = not built yet)
#   scripts/ffmpeg.sh prefix   print the install prefix (whether built or not)
#
# Both come from Debian sid's source packages (the FFmpeg torchvision 0.27's stack
# decodes with). The build is static and minimal and lands in a versioned folder
# outside the repository, so every clone reuses it. Debian ships no static
# libdav1d.a, so dav1d is built here too (meson + ninja + nasm), into the same prefix.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/deps.sh"

VERSION=9.0.2
DAV1D_VERSION=1.5.4
PREFIX=$DEPS/ffmpeg-$VERSION-dav1d-$DAV1D_VERSION

built_ok() { [ -f "$PREFIX/.complete" ]; }

cmd=${1:-ensure}
case $cmd in
env)
	if built_ok; then echo "$PREFIX/lib/pkgconfig"; fi
	exit 0
	;;
prefix)
	echo "$PREFIX"
	exit 0
	;;
ensure) ;;
*)
	echo "usage: $0 ensure|env|prefix" >&2
	exit 2
	;;
esac

if built_ok; then
	echo "ffmpeg: using $PREFIX" >&2
	exit 0
fi
for tool in nasm pkg-config make cc xz apt-get meson ninja; do
	command -v "$tool" >/dev/null || { echo "ffmpeg: missing build tool '$tool' (apt-get install $APT_BUILD)" >&2; exit 1; }
done

echo "ffmpeg: building FFmpeg $VERSION + dav1d $DAV1D_VERSION into $PREFIX (a few minutes, once per machine)" >&2
work=$DEPS/build-ffmpeg-$VERSION
rm -rf "$work"
mkdir -p "$work/apt/lists/partial"
echo 'deb-src http://deb.debian.org/debian sid main' >"$work/apt/sources.list"
o=(-o "Dir::Etc::sourcelist=$work/apt/sources.list" -o "Dir::Etc::sourceparts=-" -o "Dir::State::Lists=$work/apt/lists")
apt-get "${o[@]}" -qq update
# Only the upstream tarballs are needed; a newer Debian revision can make the
# .dsc fetch fail while the orig tarball (what we build) arrives: check that instead.
(cd "$work" && apt-get "${o[@]}" -qq source --download-only "ffmpeg/sid" "dav1d/sid" >"$work/source.log" 2>&1) || true
for t in ffmpeg_"$VERSION" dav1d_"$DAV1D_VERSION"; do
	ls "$work"/"$t".orig.tar.xz >/dev/null 2>&1 ||
		{ echo "ffmpeg: sid's source package is not $t: $(ls "$work")" >&2; cat "$work/source.log" >&2; exit 1; }
done
# Installed straight into the prefix, which counts only once .complete exists
# (written last): a killed build is removed and redone by the next run.
rm -rf "$PREFIX"

# dav1d: static, no tools, no tests (8-, 10- and 12-bit AV1 decode).
tar -C "$work" -xf "$work"/dav1d_"$DAV1D_VERSION".orig.tar.xz
(cd "$work/dav1d-$DAV1D_VERSION" &&
	meson setup build --prefix="$PREFIX" --libdir=lib --buildtype=release --default-library=static \
		-Denable_tools=false -Denable_tests=false -Denable_examples=false -Db_pie=true >"$work/dav1d.log" 2>&1 &&
	ninja -C build >>"$work/dav1d.log" 2>&1 &&
	ninja -C build install >>"$work/dav1d.log" 2>&1) ||
	{ tail -30 "$work/dav1d.log" >&2; exit 1; }
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"

tar -C "$work" -xf "$work"/ffmpeg_"$VERSION".orig.tar.xz
cd "$work/ffmpeg-$VERSION"
./configure --prefix="$PREFIX" --disable-everything --disable-programs --disable-doc --disable-network \
	--disable-autodetect --enable-static --disable-shared --enable-pic --pkg-config-flags=--static \
	--enable-avcodec --enable-avformat --enable-avutil --enable-swscale --enable-swresample \
	--enable-avfilter --enable-avdevice \
	--enable-libdav1d \
	--enable-protocol=file,pipe \
	--enable-demuxer=mov,avi,matroska,mpegts,flv,mpegps,m4v,h264,hevc,ivf,ogg,asf \
	--enable-decoder=h264,hevc,mpeg4,vp8,vp9,av1,libdav1d,mjpeg,mpeg1video,mpeg2video,h263,h263p,msmpeg4v1,msmpeg4v2,msmpeg4v3,wmv1,wmv2,wmv3,vc1,theora,flv,rawvideo,png,aac,mp3,opus,vorbis,ac3,flac,pcm_s16le \
	--enable-parser=h264,hevc,mpeg4video,vp8,vp9,av1,mjpeg,mpegvideo,aac,mpegaudio,opus,vorbis,h263,vc1,ac3,flac,png \
	--enable-bsf=h264_mp4toannexb,hevc_mp4toannexb,vp9_superframe_split,av1_frame_split \
	--enable-filter=buffer,buffersink,scale,format,fps,null,abuffer,abuffersink \
	>"$work/configure.log" 2>&1 || { tail -30 "$work/configure.log" >&2; exit 1; }
grep -q '^CONFIG_LIBDAV1D_DECODER=yes' ffbuild/config.mak || { echo "ffmpeg: configure did not enable libdav1d" >&2; exit 1; }
make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -30 "$work/make.log" >&2; exit 1; }
make install >"$work/install.log" 2>&1
rm -rf "$work"
touch "$PREFIX/.complete"
echo "ffmpeg: built $PREFIX" >&2
