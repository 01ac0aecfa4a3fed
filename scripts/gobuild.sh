#!/usr/bin/env bash
# gobuild.sh ARCH OUT — build cmd/vidcache for ARCH into OUT, statically
# linked against scripts/ffmpeg.sh's FFmpeg, dav1d and jemalloc for ARCH.
#
# ARCH is this machine's (uname -m) or, on x86_64, aarch64: cgo then compiles
# and links with Debian's cross gcc (gcc-aarch64-linux-gnu), pkg-config reads
# only the aarch64 prefix's .pc files, and the linker finds jemalloc there.
# The Makefile's build-aarch64 and the cross-architecture test both use this.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
arch=$1
out=$(mkdir -p "$(dirname "$2")" && cd "$(dirname "$2")" && pwd)/$(basename "$2")
pc=$("$here/scripts/ffmpeg.sh" env "$arch")
[ -n "$pc" ] || { echo "gobuild: no FFmpeg built for $arch (scripts/ffmpeg.sh ensure $arch)" >&2; exit 1; }
export PATH=$PATH:/usr/local/go/bin PKG_CONFIG="pkg-config --static" CGO_ENABLED=1
if [ "$arch" = "$(uname -m)" ]; then
	export PKG_CONFIG_PATH="$pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
else
	export GOOS=linux GOARCH=arm64 CC=aarch64-linux-gnu-gcc CGO_LDFLAGS="-g -O2 -L${pc%/pkgconfig}"
	export PKG_CONFIG_LIBDIR=$pc PKG_CONFIG_PATH=
fi
cd "$here"
exec "${GO:-go}" build -trimpath -o "$out" ./cmd/vidcache
