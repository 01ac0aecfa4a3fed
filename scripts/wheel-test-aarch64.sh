#!/usr/bin/env bash
# wheel-test-aarch64.sh AARCH64_WHEEL X86_64_WHEEL — install the aarch64 wheel
# with pip into a fresh venv in the arm64 root (scripts/arm64-root.sh: Debian
# 12's Python 3.11 on arm64, under qemu-user-static through binfmt_misc) and
# use its `vidcache` console script there: version, a build of the sample for
# both targets, verify --root, inspect, and `import vidcache`. Each cache must
# be byte-identical to the one the x86_64 wheel's binary writes on this machine
# from the same files at the same paths. Needs root (chroot), like the peers.
# No torch in that root (python3-torch for arm64 is about 1.5 GB more): the
# python/tests that need torch run on x86_64 only (scripts/wheel-test.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
R=$("$here/scripts/arm64-root.sh" root)
[ -n "$R" ] || { echo "wheel-test-aarch64: no arm64 root (make arm64-root)" >&2; exit 1; }
"$here/scripts/arm64-root.sh" binfmt
start=$SECONDS
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$1" "$work/"
whl=$work/$(basename "$1")
# The x86_64 wheel's binary, the reference.
/usr/bin/python3 -c 'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("vidcache/_bin/vidcache"))' "$2" "$work/vidcache-x86_64"
chmod +x "$work/vidcache-x86_64"
cp -a "$here/testdata/sample" "$work/data"
for target in torchvision torchvision-pyav; do
	VIDCACHE_HOME=$work/home-x86_64 "$work/vidcache-x86_64" build "$work/data" --target "$target" --created-unix 42 \
		--out "$work/x86_64-$target.pt" --quiet >/dev/null
done
echo "== the aarch64 wheel in a venv in the arm64 root (qemu)" >&2
R=$R WORK=$work WHL=$whl unshare --mount --propagation private sh -c '
	set -e
	mount -t proc proc "$R/proc"
	mkdir -p "$R$WORK"; mount --bind "$WORK" "$R$WORK"
	exec chroot "$R" sh -c "
		set -ex
		uname -m
		python3 -m venv \"$WORK/venv\"
		\"$WORK/venv/bin/python\" -m pip install -q --no-index --no-deps \"$WHL\"
		export VIDCACHE_HOME=\"$WORK/home-aarch64\"
		\"$WORK/venv/bin/vidcache\" version
		for target in torchvision torchvision-pyav; do
			\"$WORK/venv/bin/vidcache\" build \"$WORK/data\" --target \$target --created-unix 42 --out \"$WORK/aarch64-\$target.pt\" --quiet
			\"$WORK/venv/bin/vidcache\" verify --root \"$WORK/data\" \"$WORK/aarch64-\$target.pt\"
		done
		\"$WORK/venv/bin/vidcache\" inspect \"$WORK/aarch64-torchvision.pt\" >/dev/null
		\"$WORK/venv/bin/python\" -c \"import platform, vidcache; print(platform.machine(), vidcache.__version__)\"
	"' 2>&1
for target in torchvision torchvision-pyav; do
	cmp "$work/x86_64-$target.pt" "$work/aarch64-$target.pt"
	echo "wheel-test-aarch64: --target $target: the aarch64 cache is byte-identical to x86_64's" >&2
done
echo "wheel-test-aarch64: passed in $((SECONDS - start)) s" >&2
