#!/usr/bin/env bash
# peer.sh — prepare the three real torchvision stacks the tests compare against.
#
#   scripts/peer.sh ensure       install/prepare all three (idempotent, cached outside the repo)
#   scripts/peer.sh root [NAME]  print the root of NAME (trixie, the default, or sid); "" if not prepared
#
# old:      Debian 12's python3-torch 1.13 / python3-torchvision 0.14 / python3-av 10,
#           used as /usr/bin/python3
# previous: a Debian 13 (trixie) root made with debootstrap: torch 2.6,
#           torchvision 0.21, PyAV 14 on FFmpeg 7.1, entered with chroot
# current:  a Debian sid root: torch 2.14, torchvision 0.27, torchcodec 0.14,
#           PyAV 17 on FFmpeg 9.0, Python 3.14
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/deps.sh"

cmd=${1:-ensure}
case $cmd in
root)
	r=$DEPS/peer-${2:-trixie}
	[ -f "$r/.complete" ] && echo "$r"
	exit 0
	;;
ensure) ;;
*)
	echo "usage: $0 ensure|root [trixie|sid]" >&2
	exit 2
	;;
esac

if ! /usr/bin/python3 -c 'import torch, torchvision, av' 2>/dev/null; then
	echo "peer: installing Debian 12 python3-torch/torchvision/av" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $APT_PEER >/dev/null
fi
command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }

# debootstrap_root NAME SUITE PACKAGES: a minbase root with PACKAGES, made
# into NAME.tmp and renamed when complete (a killed run is redone).
debootstrap_root() {
	local root=$DEPS/peer-$1 tmp=$DEPS/peer-$1.tmp log=$DEPS/debootstrap-$1.log
	[ -f "$root/.complete" ] && return 0
	echo "peer: debootstrapping Debian $2 with $3 into $root (about 2 GB)" >&2
	rm -rf "$tmp"
	mkdir -p "$DEPS"
	debootstrap --variant=minbase --include="$3" "$2" "$tmp" http://deb.debian.org/debian >"$log" 2>&1 ||
		{ tail -20 "$log" >&2; exit 1; }
	rm -rf "$root"
	mv "$tmp" "$root"
	touch "$root/.complete"
}

# The two roots download in parallel (the network, not the CPU, is the limit).
# python3-pip and python3-venv: the wheel tests install the wheel into a venv.
debootstrap_root trixie trixie python3-torch,python3-torchvision,python3-av,python3-pip,python3-venv &
t=$!
debootstrap_root sid sid python3-torch,python3-torchvision,python3-torchcodec,python3-av,python3-pip,python3-venv &
s=$!
wait $t
wait $s

# Roots made before the wheel tests existed lack pip and venv: add them.
for r in trixie sid; do
	if ! chroot "$DEPS/peer-$r" python3 -c 'import pip, venv, ensurepip' 2>/dev/null; then
		echo "peer: installing python3-pip python3-venv into the $r root" >&2
		chroot "$DEPS/peer-$r" sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip python3-venv' >"$DEPS/apt-$r.log" 2>&1 ||
			{ tail -20 "$DEPS/apt-$r.log" >&2; exit 1; }
	fi
done

check() { # NAME IMPORTS
	chroot "$DEPS/peer-$1" python3 -W ignore -c "import torch, torchvision, $2 as m; print('peer: $1 torch', torch.__version__, 'torchvision', torchvision.__version__, '$2', m.__version__)" 3>&2 2>/dev/null 1>&3 ||
		{ echo "peer: the $1 root at $DEPS/peer-$1 cannot import torch/torchvision/$2; remove it and rerun" >&2; exit 1; }
}
check trixie av
check sid torchcodec
/usr/bin/python3 -c 'import torch, torchvision, av; print("peer: bookworm torch", torch.__version__, "torchvision", torchvision.__version__, "av", av.__version__)' >&2
