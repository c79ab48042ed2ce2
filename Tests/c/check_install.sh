#!/usr/bin/env bash
# The user flow: install seqrnn into a temporary prefix, then compile and run a
# program with `cc app.c $(pkg-config --cflags --libs seqrnn)`.
# Usage: check_install.sh CMAKE BUILD_DIR APP_SOURCE CC
set -euo pipefail
cmake=$1
build_dir=$2
app_source=$3
cc=$4

prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT

"$cmake" --install "$build_dir" --prefix "$prefix" >"$prefix.log" 2>&1 || {
  cat "$prefix.log"
  rm -f "$prefix.log"
  exit 1
}
rm -f "$prefix.log"

pc=$(find "$prefix" -name seqrnn.pc)
[[ -n $pc ]] || {
  echo "FAIL: seqrnn.pc was not installed"
  exit 1
}
libdir=$(dirname "$(dirname "$pc")")
echo "installed into $prefix; libdir $libdir"
ls -l "$libdir" "$prefix/include"

[[ -f $prefix/include/seqrnn.h ]] ||
  { echo "FAIL: seqrnn.h not installed"; exit 1; }
# The installed header's version, which the file names and seqrnn.pc must carry.
part() { sed -n "s/^#define SEQRNN_VERSION_$1 \([0-9]*\)$/\1/p" "$prefix/include/seqrnn.h"; }
expected=$(part MAJOR).$(part MINOR).$(part PATCH)
echo "header version $expected"
[[ $expected =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  { echo "FAIL: cannot read the version from seqrnn.h"; exit 1; }

# The library and its symlink chain: libseqrnn.so -> libseqrnn.so.MAJOR ->
# libseqrnn.so.MAJOR.MINOR.PATCH (a regular file).
real=libseqrnn.so.$expected
soname=libseqrnn.so.$(part MAJOR)
[[ -f $libdir/$real && ! -L $libdir/$real ]] ||
  { echo "FAIL: $real missing or not a regular file"; exit 1; }
[[ $(readlink "$libdir/$soname") == "$real" ]] ||
  { echo "FAIL: $soname is not a symlink to $real"; exit 1; }
[[ $(readlink "$libdir/libseqrnn.so") == "$soname" ]] ||
  { echo "FAIL: libseqrnn.so is not a symlink to $soname"; exit 1; }

export PKG_CONFIG_PATH="$libdir/pkgconfig"
flags=$(pkg-config --cflags --libs seqrnn)
version=$(pkg-config --modversion seqrnn)
echo "pkg-config: $flags (version $version)"
[[ $version == "$expected" ]] ||
  { echo "FAIL: pkg-config version $version, header $expected"; exit 1; }

# shellcheck disable=SC2086 # the flags are meant to split
"$cc" -std=c99 -Wall -Wextra -Werror -pedantic "$app_source" -o "$prefix/app" $flags
LD_LIBRARY_PATH="$libdir" "$prefix/app"
# The program was linked against the SONAME, not the file name.
readelf -d "$prefix/app" | grep -q 'NEEDED.*\[libseqrnn.so.0\]' ||
  { echo "FAIL: app does not record NEEDED libseqrnn.so.0"; exit 1; }
echo "check_install: ok"
