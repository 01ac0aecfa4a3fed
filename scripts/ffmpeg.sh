#!/usr/bin/env bash
# ffmpeg.sh — provide FFmpeg 9.0 (libavcodec 63) with a static libdav1d, for go-astiav v0.43.0.
#
#   scripts/ffmpeg.sh ensure [ARCH]   build FFmpeg 9.0.2 + dav1d 1.5.4 once per machine into $VIDCACHE_DEPS
#   scripts/ffmpeg.sh env [ARCH]      print the PKG_CONFIG_PATH to build with ("" = not built yet)
#   scripts/ffmpeg.sh prefix [ARCH]   print the install prefix (whether built or not)
#
# ARCH is this machine's (uname -m, the default) or, on x86_64, aarch64: the
# same recipe cross-built with Debian's cross toolchain (gcc-aarch64-linux-gnu:
# a meson cross file for dav1d, FFmpeg's --enable-cross-compile), plus
# jemalloc, which the native build takes from Debian's libjemalloc-dev and a
# cross build makes from the same Debian 12 source package, into the same prefix.
#
# FFmpeg and dav1d come from Debian sid's source packages (the FFmpeg
# torchvision 0.27's stack decodes with). The build is static and minimal and
# lands in one versioned folder per architecture outside the repository, so
# every clone reuses it. Debian ships no static libdav1d.a, so dav1d is built
# here too (meson + ninja + nasm), into the same prefix.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/deps.sh"

VERSION=9.0.2
DAV1D_VERSION=1.5.4
JEMALLOC_VERSION=5.3.0
HOST_ARCH=$(uname -m)
ARCH=${2:-$HOST_ARCH}
case $ARCH in
"$HOST_ARCH")
	# The native build: its folder predates cross builds and stays where it is.
	PREFIX=$DEPS/ffmpeg-$VERSION-dav1d-$DAV1D_VERSION
	CROSS=
	;;
aarch64)
	[ "$HOST_ARCH" = x86_64 ] || { echo "ffmpeg: the aarch64 cross build is made on x86_64" >&2; exit 2; }
	PREFIX=$DEPS/ffmpeg-$VERSION-dav1d-$DAV1D_VERSION-jemalloc-$JEMALLOC_VERSION-aarch64
	CROSS=aarch64-linux-gnu
	;;
*)
	echo "ffmpeg: unknown architecture '$ARCH' (this machine's, $HOST_ARCH, or aarch64)" >&2
	exit 2
	;;
esac

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
	echo "usage: $0 ensure|env|prefix [$HOST_ARCH|aarch64]" >&2
	exit 2
	;;
esac

if built_ok; then
	echo "ffmpeg: using $PREFIX" >&2
	exit 0
fi
# One build per architecture at a time: a second `ensure` (another clone's
# make, say) waits here for the first, then finds it built.
mkdir -p "$DEPS"
exec 9>"$DEPS/.ffmpeg-$ARCH.lock"
flock 9
if built_ok; then
	echo "ffmpeg: using $PREFIX" >&2
	exit 0
fi
if [ -z "$CROSS" ]; then
	tools="nasm pkg-config make cc xz apt-get meson ninja" need=$APT_BUILD
else
	tools="pkg-config make xz bzip2 apt-get meson ninja $CROSS-gcc $CROSS-ar $CROSS-strip" need="$APT_BUILD $APT_CROSS"
fi
for tool in $tools; do
	command -v "$tool" >/dev/null || { echo "ffmpeg: missing build tool '$tool' (apt-get install $need)" >&2; exit 1; }
done

echo "ffmpeg: building FFmpeg $VERSION + dav1d $DAV1D_VERSION${CROSS:+ + jemalloc $JEMALLOC_VERSION} for $ARCH into $PREFIX (a few minutes, once per machine)" >&2
start=$SECONDS
work=$DEPS/build-ffmpeg-$VERSION${CROSS:+-$ARCH}
rm -rf "$work"
mkdir -p "$work/apt/lists/partial"
echo 'deb-src http://deb.debian.org/debian sid main' >"$work/apt/sources.list"
# jemalloc for a cross build: Debian 12's, the version the native build links.
[ -z "$CROSS" ] || echo 'deb-src http://deb.debian.org/debian bookworm main' >>"$work/apt/sources.list"
o=(-o "Dir::Etc::sourcelist=$work/apt/sources.list" -o "Dir::Etc::sourceparts=-" -o "Dir::State::Lists=$work/apt/lists")
apt-get "${o[@]}" -qq update
# Only the upstream tarballs are needed; a newer Debian revision can make the
# .dsc fetch fail while the orig tarball (what we build) arrives: check that instead.
(cd "$work" && apt-get "${o[@]}" -qq source --download-only "ffmpeg/sid" "dav1d/sid" ${CROSS:+jemalloc/bookworm} >"$work/source.log" 2>&1) || true
for t in ffmpeg_"$VERSION" dav1d_"$DAV1D_VERSION" ${CROSS:+jemalloc_$JEMALLOC_VERSION}; do
	ls "$work"/"$t".orig.tar.* >/dev/null 2>&1 ||
		{ echo "ffmpeg: the source package is not $t: $(ls "$work")" >&2; cat "$work/source.log" >&2; exit 1; }
done
# Installed straight into the prefix, which counts only once .complete exists
# (written last): a killed build is removed and redone by the next run.
rm -rf "$PREFIX"

# A cross build: a meson cross file for dav1d, FFmpeg's cross flags, and
# pkg-config confined to the prefix (no host .pc file can leak in).
dav1d_cross=() ffmpeg_cross=()
if [ -n "$CROSS" ]; then
	cat >"$work/meson-cross.txt" <<EOF
[binaries]
c = '$CROSS-gcc'
ar = '$CROSS-ar'
strip = '$CROSS-strip'
pkg-config = 'pkg-config'

[host_machine]
system = 'linux'
cpu_family = 'aarch64'
cpu = 'aarch64'
endian = 'little'
EOF
	dav1d_cross=(--cross-file "$work/meson-cross.txt")
	ffmpeg_cross=(--enable-cross-compile --arch=aarch64 --target-os=linux --cross-prefix="$CROSS-" --pkg-config=pkg-config)
	export PKG_CONFIG_LIBDIR="$PREFIX/lib/pkgconfig"

	# jemalloc, static, configured as Debian configures it for arm64: 64 KiB
	# pages (jemalloc aborts on a kernel page larger than its build's, and
	# aarch64 kernels run 4, 16 or 64 KiB pages: 64 KiB on many Grace
	# nodes), 2 MiB huge pages, no profiling. Only what the binary links,
	# libjemalloc_pic.a (as on x86_64), and the header.
	tar -C "$work" -xf "$work"/jemalloc_"$JEMALLOC_VERSION".orig.tar.*
	(cd "$work/jemalloc-$JEMALLOC_VERSION" &&
		./configure --host="$CROSS" --prefix="$PREFIX" --libdir="$PREFIX/lib" --with-version=VERSION \
			--with-lg-page=16 --with-lg-hugepage=21 --disable-cxx --disable-doc CFLAGS="-g -O2" >"$work/jemalloc.log" 2>&1 &&
		make -j"$(nproc)" lib/libjemalloc_pic.a >>"$work/jemalloc.log" 2>&1 &&
		install -D -m 0644 lib/libjemalloc_pic.a "$PREFIX/lib/libjemalloc_pic.a" &&
		make install_include >>"$work/jemalloc.log" 2>&1) ||
		{ tail -30 "$work/jemalloc.log" >&2; exit 1; }
	[ -f "$PREFIX/lib/libjemalloc_pic.a" ] || { echo "ffmpeg: jemalloc installed no libjemalloc_pic.a" >&2; exit 1; }
fi

# dav1d: static, no tools, no tests (8-, 10- and 12-bit AV1 decode).
tar -C "$work" -xf "$work"/dav1d_"$DAV1D_VERSION".orig.tar.xz
(cd "$work/dav1d-$DAV1D_VERSION" &&
	meson setup build "${dav1d_cross[@]}" --prefix="$PREFIX" --libdir=lib --buildtype=release --default-library=static \
		-Denable_tools=false -Denable_tests=false -Denable_examples=false -Db_pie=true >"$work/dav1d.log" 2>&1 &&
	ninja -C build >>"$work/dav1d.log" 2>&1 &&
	ninja -C build install >>"$work/dav1d.log" 2>&1) ||
	{ tail -30 "$work/dav1d.log" >&2; exit 1; }
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"

tar -C "$work" -xf "$work"/ffmpeg_"$VERSION".orig.tar.xz
cd "$work/ffmpeg-$VERSION"
./configure "${ffmpeg_cross[@]}" --prefix="$PREFIX" --disable-everything --disable-programs --disable-doc --disable-network \
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
echo "ffmpeg: built $PREFIX for $ARCH in $((SECONDS - start)) s" >&2
