#!/usr/bin/env bash
# arm64-root.sh — a small Debian 12 arm64 root with Python, run under
# qemu-user-static, in which the aarch64 wheel is pip-installed and its
# console script run (scripts/wheel-test-aarch64.sh).
#
#   scripts/arm64-root.sh ensure   make it once, cached in $VIDCACHE_DEPS/arm64-bookworm
#   scripts/arm64-root.sh root     print its path ("" if not made yet)
#   scripts/arm64-root.sh binfmt   register qemu-aarch64 with the kernel (binfmt_misc)
#
# debootstrap --arch=arm64 --foreign unpacks the base system here, then the
# second stage runs inside the root through binfmt_misc: the kernel hands
# every aarch64 executable to qemu-aarch64-static, registered with the F flag
# (the interpreter is opened at registration, so the root needs no copy of
# it). minbase plus python3-venv: about 200 MB. Needs root, like the peers.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/deps.sh"
R=$DEPS/arm64-bookworm

binfmt() {
	local m=/proc/sys/fs/binfmt_misc
	[ -e $m/status ] || mount -t binfmt_misc binfmt_misc $m
	[ -e $m/qemu-aarch64 ] && grep -q '^enabled' $m/qemu-aarch64 && return 0
	[ -e $m/qemu-aarch64 ] && echo -1 >$m/qemu-aarch64 # disabled: replace it
	# Debian's own registration (qemu-user-static): interpreter, magic, flags OPF.
	cat /usr/lib/binfmt.d/qemu-aarch64.conf >$m/register
}

case ${1:-ensure} in
root)
	[ -f "$R/.complete" ] && echo "$R"
	exit 0
	;;
binfmt)
	binfmt
	exit 0
	;;
ensure) ;;
*)
	echo "usage: $0 ensure|root|binfmt" >&2
	exit 2
	;;
esac

[ -f "$R/.complete" ] && exit 0
for tool in debootstrap qemu-aarch64-static unshare; do
	command -v "$tool" >/dev/null || { echo "arm64-root: missing '$tool' (apt-get install $APT_CROSS $APT_PEER)" >&2; exit 1; }
done
binfmt
start=$SECONDS
tmp=$R.tmp log=$DEPS/debootstrap-arm64.log
echo "arm64-root: debootstrapping Debian 12 arm64 with python3-venv into $R (about 200 MB)" >&2
rm -rf "$tmp"
mkdir -p "$DEPS"
{
	debootstrap --arch=arm64 --foreign --variant=minbase --include=python3-venv \
		bookworm "$tmp" http://deb.debian.org/debian &&
		unshare --mount --propagation private chroot "$tmp" /debootstrap/debootstrap --second-stage
} >"$log" 2>&1 || { tail -20 "$log" >&2; exit 1; }
rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*_Packages
chroot "$tmp" python3 -c 'import venv, ensurepip' || { echo "arm64-root: no working python3 in $tmp" >&2; exit 1; }
rm -rf "$R"
mv "$tmp" "$R"
touch "$R/.complete"
echo "arm64-root: made $R in $((SECONDS - start)) s ($(du -sh "$R" | cut -f1))" >&2
