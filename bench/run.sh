#!/usr/bin/env bash
# The benchmark in one command: seqrnn versus PyTorch on CPU, side by side.
#
# Usage: bash bench/run.sh [--quick] [--threads 2,1] [--rows NAME,...] [--reps N]
#                          [--reinstall-seqrnn]
#
# Sets up bench/.venv first (bench/setup.sh: PyTorch, numpy, seqrnn) when torch
# or seqrnn is not importable there, or when --reinstall-seqrnn asks to
# reinstall seqrnn (after the library changed; SEQRNN_LIBRARY=/abs/libseqrnn.so
# skips its Swift build); BENCH_VENV=/path/to/venv uses another venv. Every
# other argument goes to bench/run.py (see `bash bench/run.sh --help`). run.py
# first measures the fp32 peak with bench/peak_flops.c, which it compiles with
# the system C compiler into bench/.build/. Results:
# bench/results/latest.{json,md}.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${BENCH_VENV:-$here/.venv}"

setup_args=()
run_args=()
for arg in "$@"; do
    if [[ "$arg" == "--reinstall-seqrnn" ]]; then
        setup_args+=("$arg")
    else
        run_args+=("$arg")
    fi
done

# --help installs nothing: run.py's full help once the venv exists, else
# this script's own header.
for arg in "${run_args[@]}"; do
    if [[ "$arg" == "-h" || "$arg" == "--help" ]]; then
        if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c 'import torch' 2>/dev/null; then
            exec "$venv/bin/python" "$here/run.py" --help
        fi
        sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
        echo "(run.py's full --help is available once bench/setup.sh has created the venv)"
        exit 0
    fi
done

if [[ ${#setup_args[@]} -gt 0 ]] ||
    ! "$venv/bin/python" -c 'import torch, numpy, seqrnn' >/dev/null 2>&1; then
    BENCH_VENV="$venv" bash "$here/setup.sh" "${setup_args[@]}"
fi

exec "$venv/bin/python" "$here/run.py" "${run_args[@]}"
