#!/usr/bin/env bash
# Installs what building and testing seqrnn needs on a fresh Debian machine
# (run as root): cmake, pkg-config, OpenBLAS (loaded by the library at run
# time), clang-format, and the Python packages the tests use. Idempotent:
# it installs only what is missing and is quiet unless something fails.
set -euo pipefail

log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_quiet() {
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "setup.sh: failed: $*" >&2
    exit 1
  fi
}

# Debian packages: name of the package -> a file (or command) it provides.
declare -A apt_checks=(
  [cmake]="command:cmake"
  [pkg-config]="command:pkg-config"
  [libopenblas-dev]="dpkg:libopenblas-dev"
  [clang-format]="command:clang-format"
)

missing=()
for pkg in "${!apt_checks[@]}"; do
  check=${apt_checks[$pkg]}
  case $check in
  command:*) command -v "${check#command:}" >/dev/null 2>&1 || missing+=("$pkg") ;;
  dpkg:*)
    dpkg-query -W -f='${Status}' "${check#dpkg:}" 2>/dev/null |
      grep -q "install ok installed" || missing+=("$pkg")
    ;;
  esac
done

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup.sh: missing Debian packages: ${missing[*]} (run as root)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  run_quiet apt-get update
  run_quiet apt-get install -y --no-install-recommends "${missing[@]}"
fi

# Python packages used by the tests (import name -> pip name).
declare -A py_modules=([numpy]=numpy [pytest]=pytest [safetensors]=safetensors [ruff]=ruff)
# matplotlib: seqrnn.plots (an optional dependency of the package), so CI tests it.
py_modules[matplotlib]=matplotlib
# statsmodels: the sunspots data of examples/python/forecast.py (CI runs its --quick mode).
py_modules[statsmodels]=statsmodels
py_missing=()
for mod in "${!py_modules[@]}"; do
  python3 -c "import $mod" >/dev/null 2>&1 || py_missing+=("${py_modules[$mod]}")
done
if ((${#py_missing[@]} > 0)); then
  run_quiet python3 -m pip install --quiet --disable-pip-version-check \
    --root-user-action=ignore \
    "${py_missing[@]}"
fi
