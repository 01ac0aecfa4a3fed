#!/usr/bin/env bash
# wheel.sh BINARY OUTDIR — build dist/vidcache-<version>-py3-none-<platform>.whl:
# the python/ package plus the static vidcache binary, with Debian's own
# setuptools, wheel and pip (offline: no package index is used).
#
# The version is indexer/version.txt (what `vidcache version` prints). The
# platform tag is manylinux_2_<N>_<arch>: arch the binary's own (x86_64, or
# aarch64 for the cross-built one), N the newest GLIBC symbol version it
# imports. It must need nothing but glibc (libc, libm and the loader), read
# from its ELF headers, so this works for either architecture on x86_64.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$1
out=$(mkdir -p "$2" && cd "$2" && pwd)
ver=$(tr -d ' \n' <"$here/indexer/version.txt")
case $(readelf -h "$bin" | sed -n 's/^ *Machine: *//p') in
"Advanced Micro Devices X86-64") arch=x86_64 loader=/lib64/ld-linux-x86-64.so.2 strip=strip ;;
AArch64) arch=aarch64 loader=/lib/ld-linux-aarch64.so.1 strip=aarch64-linux-gnu-strip ;;
*) echo "wheel: $bin is neither an x86_64 nor an aarch64 executable" >&2; exit 1 ;;
esac
interp=$(readelf -l "$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
[ "$interp" = "$loader" ] || { echo "wheel: $bin asks for the loader '$interp', not $loader" >&2; exit 1; }
libs=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -v -x -F "${loader##*/}" | sort | tr '\n' ' ')
[ "$libs" = "libc.so.6 libm.so.6 " ] || { echo "wheel: $bin needs more than libc and libm: $libs" >&2; exit 1; }
glibc=$(readelf --dyn-syms -W "$bin" | grep -o 'GLIBC_2\.[0-9]*' | sort -t. -k2 -n -u | tail -1 | cut -d. -f2)
tag=manylinux_2_${glibc}_$arch
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -r "$here/python/." "$stage/"
rm -rf "$stage/tests" "$stage/build" "$stage"/src/*.egg-info
echo "__version__ = \"$ver\"" >"$stage/src/vidcache/_version.py"
install -D -m 0755 "$bin" "$stage/src/vidcache/_bin/vidcache"
"$strip" "$stage/src/vidcache/_bin/vidcache"
printf '[bdist_wheel]\npython_tag = py3\nplat_name = %s\n' "$tag" >"$stage/setup.cfg"
(cd "$stage" && /usr/bin/python3 -m pip wheel -q --no-deps --no-build-isolation --no-index -w "$out" . >&2)
whl=$out/vidcache-$ver-py3-none-$tag.whl
[ -f "$whl" ] || { echo "wheel: expected $whl, got: $(ls "$out")" >&2; exit 1; }
echo "$whl"
