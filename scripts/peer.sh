#!/usr/bin/env bash
# peer.sh — prepare the two real torchvision stacks the tests compare against.
#
#   scripts/peer.sh ensure     install/prepare both (idempotent, cached outside the repo)
#   scripts/peer.sh root       print the Debian 13 root ("" if not prepared)
#
# older stack:   Debian 12's python3-torch 1.13 / python3-torchvision 0.14 / python3-av 10,
#                used as /usr/bin/python3
# current stack: a Debian 13 (trixie) root made with debootstrap: torch 2.6,
#                torchvision 0.21, PyAV 14 on FFmpeg 7.1, entered with chroot.
set -euo pipefail

DEPS=${VIDCACHE_DEPS:-${XDG_CACHE_HOME:-$HOME/.cache}/vidcache-deps}
ROOT=$DEPS/peer-trixie

cmd=${1:-ensure}
case $cmd in
root)
	[ -f "$ROOT/.complete" ] && echo "$ROOT"
	exit 0
	;;
ensure) ;;
*)
	echo "usage: $0 ensure|root" >&2
	exit 2
	;;
esac

if ! /usr/bin/python3 -c 'import torch, torchvision, av' 2>/dev/null; then
	echo "peer: installing Debian 12 python3-torch/torchvision/av" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-torchvision python3-av >/dev/null
fi

if [ ! -f "$ROOT/.complete" ]; then
	command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
	echo "peer: debootstrapping Debian 13 with torch 2.6 into $ROOT (about 2 GB)" >&2
	tmp=$ROOT.tmp
	rm -rf "$tmp"
	mkdir -p "$DEPS"
	debootstrap --variant=minbase --include=python3-torch,python3-torchvision,python3-av \
		trixie "$tmp" http://deb.debian.org/debian >"$DEPS/debootstrap.log" 2>&1 ||
		{ tail -20 "$DEPS/debootstrap.log" >&2; exit 1; }
	rm -rf "$ROOT"
	mv "$tmp" "$ROOT"
	touch "$ROOT/.complete"
fi
chroot "$ROOT" python3 -W ignore -c 'import torch, torchvision, av; print("peer: trixie torch", torch.__version__, "torchvision", torchvision.__version__, "av", av.__version__)' 3>&2 2>/dev/null 1>&3 ||
	{ echo "peer: the Debian 13 root at $ROOT cannot import torch/torchvision/av; remove it and rerun" >&2; exit 1; }
/usr/bin/python3 -c 'import torch, torchvision, av; print("peer: bookworm torch", torch.__version__, "torchvision", torchvision.__version__, "av", av.__version__)' >&2
