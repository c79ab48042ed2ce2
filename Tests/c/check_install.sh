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

# The library and its symlink chain: libseqrnn.so -> libseqrnn.so.0 ->
# libseqrnn.so.0.1.0 (a regular file).
[[ -f $libdir/libseqrnn.so.0.1.0 && ! -L $libdir/libseqrnn.so.0.1.0 ]] ||
  { echo "FAIL: libseqrnn.so.0.1.0 missing or not a regular file"; exit 1; }
[[ $(readlink "$libdir/libseqrnn.so.0") == libseqrnn.so.0.1.0 ]] ||
  { echo "FAIL: libseqrnn.so.0 is not a symlink to libseqrnn.so.0.1.0"; exit 1; }
[[ $(readlink "$libdir/libseqrnn.so") == libseqrnn.so.0 ]] ||
  { echo "FAIL: libseqrnn.so is not a symlink to libseqrnn.so.0"; exit 1; }
[[ -f $prefix/include/seqrnn.h ]] ||
  { echo "FAIL: seqrnn.h not installed"; exit 1; }

export PKG_CONFIG_PATH="$libdir/pkgconfig"
flags=$(pkg-config --cflags --libs seqrnn)
version=$(pkg-config --modversion seqrnn)
echo "pkg-config: $flags (version $version)"
[[ $version == 0.1.0 ]] || { echo "FAIL: pkg-config version $version"; exit 1; }

# shellcheck disable=SC2086 # the flags are meant to split
"$cc" -std=c99 -Wall -Wextra -Werror -pedantic "$app_source" -o "$prefix/app" $flags
LD_LIBRARY_PATH="$libdir" "$prefix/app"
# The program was linked against the SONAME, not the file name.
readelf -d "$prefix/app" | grep -q 'NEEDED.*\[libseqrnn.so.0\]' ||
  { echo "FAIL: app does not record NEEDED libseqrnn.so.0"; exit 1; }
echo "check_install: ok"
