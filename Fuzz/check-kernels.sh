#!/usr/bin/env bash
# The C kernels under AddressSanitizer + UndefinedBehaviorSanitizer (any report aborts: exit ≠ 0), at every
# kernel level this CPU supports, compared byte for byte with the portable level. A few seconds.
# Usage: Fuzz/check-kernels.sh  (from the repository root or anywhere)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${TMPDIR:-/tmp}/vq-check-kernels-$$"
cc="${CC:-clang}"
# lld: gold warns about every ASan symbol it cannot export (see run.sh on gold and sanitizers).
linker=()
if command -v ld.lld >/dev/null 2>&1; then linker=(-fuse-ld=lld); fi
"$cc" "${linker[@]}" -std=c11 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
  -I "$root/Sources/CVQKernels/include" -I "$root/Sources/CVQKernels" \
  "$root"/Sources/CVQKernels/*.c "$root/Fuzz/kernels/check_kernels.c" -o "$out"
trap 'rm -f "$out"' EXIT
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$out"
