#!/usr/bin/env bash
# wheel-test.sh WHEEL — install the wheel into a fresh venv
# (python3 -m venv --system-site-packages) in each peer — the sid root
# (torch 2.14 / torchvision 0.27), the trixie root (2.6 / 0.21) and this
# machine's Debian 12 python3 (1.13 / 0.14) — and run python/tests there with
# the peer's own unittest. In the sid peer also test_reference: the
# torchvision reference-script adoption (examples/torchvision-reference) end
# to end, on python/tests/reference with train.patch applied. Needs root
# (chroot), like the peers; a missing peer fails the run.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/deps.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$1" "$work/"
whl=$work/$(basename "$1")
# The test dataset: the sample without its two unreadable files, on which
# torchvision 0.27's own precompute raises.
cp -a "$here/testdata/sample" "$work/data"
rm "$work/data/train/juggling/not-a-video.mp4" "$work/data/train/juggling/zero-bytes.mp4"
# The stand-in reference script with the patch applied exactly (no fuzz), as
# users apply it upstream (git apply where patch is not installed).
cp -r "$here/python/tests/reference" "$work/reference"
if command -v patch >/dev/null; then
	patch -d "$work/reference" -p1 --fuzz=0 --no-backup-if-mismatch -s <"$here/examples/torchvision-reference/train.patch"
else
	(cd "$work/reference" && git apply -p1 "$here/examples/torchvision-reference/train.patch")
fi
status=0
for peer in sid trixie; do
	R=$DEPS/peer-$peer
	[ -f "$R/.complete" ] || { echo "wheel-test: no $peer root at $R (make peer)" >&2; exit 1; }
	echo "== wheel tests in the $peer peer" >&2
	tests=test_vidcache
	[ "$peer" = sid ] && tests="test_vidcache test_reference"
	R=$R HERE=$here WORK=$work PEER=$peer WHL=$whl TESTS=$tests unshare --mount --propagation private sh -c '
		set -e
		mount -t proc proc "$R/proc"
		mount -t tmpfs shm "$R/dev/shm"
		for d in "$HERE" "$WORK"; do mkdir -p "$R$d"; mount --bind "$d" "$R$d"; done
		exec chroot "$R" sh -c "
			set -e
			python3 -m venv --system-site-packages \"$WORK/venv-$PEER\"
			\"$WORK/venv-$PEER/bin/python\" -m pip install -q --no-index --no-deps \"$WHL\"
			cd \"$HERE/python/tests\" && VIDCACHE_TEST_DATA=\"$WORK/data\" VIDCACHE_REFERENCE_DIR=\"$WORK/reference\" \
				PYTHONWARNINGS=ignore PYTHONDONTWRITEBYTECODE=1 \"$WORK/venv-$PEER/bin/python\" -m unittest -v $TESTS 2>&1
		"' 2>&1 | grep -v 'UCX  ERROR' || status=1
done
echo "== wheel tests with Debian 12's python3 (torch 1.13)" >&2
(
	/usr/bin/python3 -m venv --system-site-packages "$work/venv-bookworm"
	"$work/venv-bookworm/bin/python" -m pip install -q --no-index --no-deps "$whl"
	cd "$here/python/tests" && VIDCACHE_TEST_DATA=$work/data PYTHONWARNINGS=ignore PYTHONDONTWRITEBYTECODE=1 \
		"$work/venv-bookworm/bin/python" -m unittest -v test_vidcache 2>&1
) || status=1
exit $status
