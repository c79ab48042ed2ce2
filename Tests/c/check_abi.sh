#!/usr/bin/env bash
# Checks that libseqrnn.so stands alone as the design requires:
# - ldd shows no Swift runtime library (the runtime is linked statically),
# - the dynamic symbol table defines only seqrnn_* functions as global or
#   weak symbols (plus the linker's own _edata/_end/__bss_start/_init/_fini),
# - the SONAME is the ABI version's (libseqrnn.so.0).
# Usage: check_abi.sh LIBRARY EXPECTED_SONAME
set -euo pipefail
lib=$1
expected_soname=$2
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

[[ -f $lib ]] || {
  echo "FAIL: no library at $lib"
  exit 1
}

deps=$(ldd "$lib")
echo "$deps"
if grep -Ei 'swift|foundation|dispatch|libBlocksRuntime' <<<"$deps"; then
  fail "libseqrnn.so depends on Swift runtime libraries (listed above)"
fi
if grep -q 'not found' <<<"$deps"; then
  fail "libseqrnn.so has unresolved dependencies"
fi

# nm's type letter is upper case for global and weak symbols, which other
# objects can bind to, and lower case for local ones, which they cannot (the
# linker may leave some local entries in .dynsym; they collide with nothing).
symbols=$(nm -D --defined-only "$lib")
exported=$(awk '$2 ~ /^[A-Z]$/ {print $NF}' <<<"$symbols" | sort -u)
locals=$(awk '$2 ~ /^[a-z]$/' <<<"$symbols" | wc -l)
if ((locals > 0)); then
  echo "note: $locals local (unbindable) entries in .dynsym, e.g.:"
  awk '$2 ~ /^[a-z]$/ {print "  " $NF}' <<<"$symbols" | head -n 3
fi
unexpected=$(grep -Ev '^(seqrnn_[A-Za-z0-9_]+|_edata|_end|__bss_start|_init|_fini)$' <<<"$exported" || true)
if [[ -n $unexpected ]]; then
  fail "symbols other than seqrnn_* are exported:"
  head -n 40 <<<"$unexpected"
fi
count=$(grep -c '^seqrnn_' <<<"$exported" || true)
echo "exported seqrnn_* symbols: $count"
((count > 0)) || fail "no seqrnn_* symbol is exported"

# Every function declared in the header is exported.
header=$(dirname "$0")/../../include/seqrnn.h
declared=$(grep -oE '\bseqrnn_[a-z_]+\(' "$header" | tr -d '(' | sort -u)
for fn in $declared; do
  grep -qx "$fn" <<<"$exported" || fail "declared in seqrnn.h but not exported: $fn"
done

soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
echo "SONAME: ${soname:-<none>}"
[[ $soname == "$expected_soname" ]] || fail "SONAME is '$soname', expected '$expected_soname'"

if ((failures > 0)); then
  echo "check_abi: $failures problem(s)"
  exit 1
fi
echo "check_abi: ok"
