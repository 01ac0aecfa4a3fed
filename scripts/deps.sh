# deps.sh — sourced by the scripts, the Makefile and CI: where the machine-wide
# dependencies live and which Debian packages they need. One place for both.
#
#   . scripts/deps.sh            sets DEPS, APT_BUILD, APT_CROSS, APT_PEER, APT_SLURM, APT_TEST
#   bash scripts/deps.sh dir     prints DEPS
#   bash scripts/deps.sh apt     prints every package CI installs

# Built FFmpeg, peers and bench data: outside the repository, shared by clones.
DEPS=${VIDCACHE_DEPS:-${XDG_CACHE_HOME:-$HOME/.cache}/vidcache-deps}
# Building: FFmpeg 9 and dav1d from source (nasm, meson, ninja), cgo (gcc),
# jemalloc (linked statically as the process allocator); setuptools, wheel,
# pip and binutils (readelf) for the wheel.
APT_BUILD="nasm meson ninja-build pkg-config xz-utils make gcc libc6-dev libjemalloc-dev git ca-certificates binutils python3-setuptools python3-wheel python3-pip"
# The aarch64 wheel, on x86_64: Debian's cross toolchain for FFmpeg, dav1d,
# jemalloc (its source is a .tar.bz2) and cgo; qemu-user-static runs the
# aarch64 binary and an arm64 root's Python in the tests.
APT_CROSS="gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu bzip2 qemu-user-static"
# Peers: Debian 12's torch 1.13 stack (and venv, for the wheel tests); debootstrap
# for the Debian 13 and sid roots.
APT_PEER="python3-torch python3-torchvision python3-av python3-venv debootstrap debian-archive-keyring gpgv util-linux procps"
# The Slurm example runs for real on a single node.
APT_SLURM="slurm-wlm munge"
# The report test renders the HTML report in headless Chromium.
APT_TEST="chromium"

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case ${1:-} in
	dir) echo "$DEPS" ;;
	apt) echo "$APT_BUILD $APT_CROSS $APT_PEER $APT_SLURM $APT_TEST" ;;
	*) echo "usage: $0 dir|apt" >&2; exit 2 ;;
	esac
fi
