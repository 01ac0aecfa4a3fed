#!/usr/bin/env bash
# wheel.sh BINARY OUTDIR — build dist/vidcache-<version>-py3-none-<platform>.whl:
# the python/ package plus the static vidcache binary, with Debian's own
# setuptools, wheel and pip (offline: no package index is used).
#
# The version is indexer/version.txt (what `vidcache version` prints). The
# platform tag is manylinux_2_<N>_<arch>, N the newest GLIBC symbol version
# the binary imports: it needs nothing but glibc (libc, libm).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$1
out=$(mkdir -p "$2" && cd "$2" && pwd)
ver=$(tr -d ' \n' <"$here/indexer/version.txt")
libs=$(ldd "$bin" | awk '{print $1}' | grep -v -E '^(linux-vdso|/lib64/ld-linux)' | sort | tr '\n' ' ')
[ "$libs" = "libc.so.6 libm.so.6 " ] || { echo "wheel: $bin needs more than libc and libm: $libs" >&2; exit 1; }
glibc=$(objdump -T "$bin" | grep -o 'GLIBC_2\.[0-9]*' | sort -t. -k2 -n -u | tail -1 | cut -d. -f2)
tag=manylinux_2_${glibc}_$(uname -m)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -r "$here/python/." "$stage/"
rm -rf "$stage/tests" "$stage/build" "$stage"/src/*.egg-info
echo "__version__ = \"$ver\"" >"$stage/src/vidcache/_version.py"
install -D -m 0755 "$bin" "$stage/src/vidcache/_bin/vidcache"
strip "$stage/src/vidcache/_bin/vidcache"
printf '[bdist_wheel]\npython_tag = py3\nplat_name = %s\n' "$tag" >"$stage/setup.cfg"
(cd "$stage" && /usr/bin/python3 -m pip wheel -q --no-deps --no-build-isolation --no-index -w "$out" . >&2)
whl=$out/vidcache-$ver-py3-none-$tag.whl
[ -f "$whl" ] || { echo "wheel: expected $whl, got: $(ls "$out")" >&2; exit 1; }
echo "$whl"
