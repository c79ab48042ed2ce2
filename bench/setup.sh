#!/usr/bin/env bash
# Creates the benchmark's own virtual environment, bench/.venv, with PyTorch
# (CPU use; PyPI's default wheel), numpy and seqrnn (from bindings/python).
# Idempotent: every part that is already there is skipped. The test suite never
# runs this; PyTorch is a dependency of the benchmark only.
#
# Usage: bash bench/setup.sh [--reinstall-seqrnn]
#   --reinstall-seqrnn   reinstall seqrnn even if it imports (after the library
#                        or the bindings changed).
# Environment:
#   SEQRNN_LIBRARY       absolute path of a built libseqrnn.so to package (pip
#                        then skips the Swift build; see
#                        bindings/python/build_support.py). Otherwise pip runs
#                        `swift build -c release` at the repository root
#                        (SEQRNN_SWIFT_SCRATCH_PATH picks its scratch folder).
#   PYTHON               the interpreter that creates the venv (default: python3).
#   BENCH_VENV           the venv folder (default: bench/.venv).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
venv="${BENCH_VENV:-$here/.venv}"
python="${PYTHON:-python3}"
reinstall_seqrnn=0

for arg in "$@"; do
    case "$arg" in
        --reinstall-seqrnn) reinstall_seqrnn=1 ;;
        -h | --help)
            sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "bench/setup.sh: unknown argument: $arg (see --help)" >&2
            exit 2
            ;;
    esac
done

if [[ ! -x "$venv/bin/python" ]]; then
    echo "bench/setup.sh: creating $venv with $($python --version 2>&1)"
    "$python" -m venv "$venv"
fi
# Keep git (and the repository's format checks, which list untracked files)
# out of the venv, as Python 3.13's venv does by itself.
[[ -f "$venv/.gitignore" ]] || echo '*' >"$venv/.gitignore"
vpy="$venv/bin/python"
pip=("$vpy" -m pip --disable-pip-version-check)

if ! "$vpy" -c 'import setuptools' >/dev/null 2>&1; then
    "${pip[@]}" install --quiet setuptools
fi

if "$vpy" -c 'import torch, numpy' >/dev/null 2>&1; then
    echo "bench/setup.sh: torch $("$vpy" -c 'import torch; print(torch.__version__)') already installed"
else
    echo "bench/setup.sh: installing torch and numpy from PyPI (a large download)"
    "${pip[@]}" install torch numpy
fi

if [[ "$reinstall_seqrnn" == 0 ]] && "$vpy" -c 'import seqrnn' >/dev/null 2>&1; then
    echo "bench/setup.sh: seqrnn $("$vpy" -c 'import seqrnn; print(seqrnn.__version__)') already installed"
else
    if [[ -n "${SEQRNN_LIBRARY:-}" ]]; then
        echo "bench/setup.sh: installing seqrnn with SEQRNN_LIBRARY=$SEQRNN_LIBRARY"
    else
        echo "bench/setup.sh: installing seqrnn (runs swift build -c release)"
    fi
    # No build isolation: setuptools is in the venv, and nothing else is fetched.
    "${pip[@]}" install --quiet --no-build-isolation --force-reinstall --no-deps \
        "$repo/bindings/python"
fi

"$vpy" -c 'import torch, numpy, seqrnn
print("bench/setup.sh: ready: torch", torch.__version__, "numpy", numpy.__version__,
      "seqrnn", seqrnn.__version__, "BLAS", seqrnn.blas_info())'
