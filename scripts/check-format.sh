#!/usr/bin/env bash
# Checks formatting without changing anything:
# - Swift: `swift format lint --strict` with the root .swift-format,
# - C/C++: `clang-format --dry-run --Werror` with the root .clang-format,
# - Python: `ruff format --check` and `ruff check`.
# Fix with: swift format -i -r Sources Tests Package.swift
#           clang-format -i <the files listed>
set -euo pipefail
cd "$(dirname "$0")/.."

status=0

swift_targets=(Package.swift)
for dir in Sources Tests; do
  [[ -d $dir ]] && swift_targets+=("$dir")
done
if ! swift format lint --strict -r "${swift_targets[@]}"; then
  echo "check-format: Swift files need formatting (swift format -i -r ${swift_targets[*]})" >&2
  status=1
fi

# Every C/C++ source and header in the repository (git's view when there is
# one, so build folders never count), symlinks excluded.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t c_files < <(git ls-files --cached --others --exclude-standard \
    -- '*.c' '*.h' '*.cpp' '*.hpp' | sort -u)
else
  mapfile -t c_files < <(find . -path ./.build -prune -o -path ./build -prune -o \
    -type f \( -name '*.c' -o -name '*.h' -o -name '*.cpp' -o -name '*.hpp' \) \
    -print | sed 's|^\./||' | sort)
fi
existing=()
for f in "${c_files[@]}"; do
  [[ -f $f && ! -L $f ]] && existing+=("$f")
done
unformatted=()
for f in "${existing[@]}"; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
done
if ((${#unformatted[@]} > 0)); then
  for f in "${unformatted[@]}"; do
    echo "--- $f (first differences; clang-format -i $f fixes them)" >&2
    clang-format "$f" | diff "$f" - | head -n 12 >&2 || true
  done
  echo "check-format: ${#unformatted[@]} C/C++ file(s) need clang-format: ${unformatted[*]}" >&2
  status=1
fi

# Python: ruff's formatter and linter (defaults), over every tracked .py file.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t py_files < <(git ls-files --cached --others --exclude-standard -- '*.py' | sort -u)
else
  mapfile -t py_files < <(find . -path ./.build -prune -o -path ./build -prune -o \
    -type f -name '*.py' -print | sed 's|^\./||' | sort)
fi
if ((${#py_files[@]} > 0)); then
  if ! python3 -m ruff format --check "${py_files[@]}"; then
    echo "check-format: Python files need formatting (python3 -m ruff format <files>)" >&2
    status=1
  fi
  if ! python3 -m ruff check "${py_files[@]}"; then
    echo "check-format: ruff check found problems in Python files" >&2
    status=1
  fi
fi

if ((status == 0)); then
  echo "check-format: ok (${#existing[@]} C/C++ files, ${#py_files[@]} Python files, Swift: ${swift_targets[*]})"
fi
exit "$status"
