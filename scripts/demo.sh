#!/usr/bin/env bash
# README command 1: set up the machine, build everything, and run the flagship
# demo: examples/c/char_lm.c trains a 2-layer LSTM character model on a text
# and prints text sampled from it.
#   bash scripts/demo.sh                  # on the licence texts every Debian has
#   bash scripts/demo.sh FILE [OPTIONS]   # on your own text; OPTIONS go to
#                                         # char_lm (--steps, --hidden, ...)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build_dir=${SEQRNN_BUILD_DIR:-$root/build}

bash scripts/setup.sh

echo "building (CMake + SwiftPM; the first build takes a few minutes)..."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release &&
  cmake --build "$build_dir" -j "$(nproc 2>/dev/null || echo 2)" --target char_lm; } >"$log" 2>&1; then
  cat "$log"
  echo "demo.sh: the build failed" >&2
  exit 1
fi

if (($# > 0)); then
  corpus=$1
  shift
  [[ -r $corpus ]] || {
    echo "demo.sh: cannot read $corpus" >&2
    exit 1
  }
else
  # The licence texts that every Debian system ships (base-files), about
  # 200 KB of English.
  corpus=$build_dir/demo_corpus.txt
  licenses=/usr/share/common-licenses
  : >"$corpus"
  for name in GPL-3 LGPL-3 Apache-2.0 MPL-2.0 GPL-2 Artistic; do
    [[ -r $licenses/$name ]] && cat "$licenses/$name" >>"$corpus"
  done
  if [[ ! -s $corpus ]]; then
    # Not Debian: fall back to the project's own documentation.
    cat README.md "$root"/docs/*.md >"$corpus" 2>/dev/null || true
  fi
fi

# Defaults sized for a minute or two; options given to this script win.
exec "$build_dir/char_lm" --steps 2000 --seconds 75 "$@" "$corpus"
