#!/usr/bin/env bash
# Builds the libFuzzer harnesses (release, AddressSanitizer) and runs each for RUNS inputs, or for
# SECONDS seconds with MODE=time. Usage:
#   Fuzz/run.sh RUNS [harness ...]          e.g. Fuzz/run.sh 1000000            (all five)
#   MODE=time Fuzz/run.sh SECONDS [harness ...]   e.g. MODE=time Fuzz/run.sh 60 vqx
# Harnesses: vecs npy vqx spec faiss. Seeds: Fuzz/corpus/<harness> (make-seeds.py); the growing corpus and
# any crash artifacts go to $SCRATCH (default .build-fuzz) /corpus and /artifacts, the full log to
# $SCRATCH/fuzz-<harness>.log. Exits non-zero on
# the first finding (crash, sanitizer report, hang > 10 s, or > 2 GB memory).
set -euo pipefail
cd "$(dirname "$0")"
budget=${1:?usage: Fuzz/run.sh RUNS|SECONDS [harness ...]}
shift || true
harnesses=("${@:-vecs npy vqx spec faiss}")
read -r -a harnesses <<<"${harnesses[*]}"
scratch=${SCRATCH:-../.build-fuzz}
# lld: gold crashes (internal error in format_file_lineno) linking -sanitize=fuzzer binaries here, and
# SwiftPM drops -use-ld from -Xswiftc at link time; a toolset passes it.
toolset="$scratch/toolset.json"
mkdir -p "$scratch"
echo '{ "schemaVersion": "1.0", "swiftCompiler": { "extraCLIOptions": ["-use-ld=lld"] } }' >"$toolset"
for h in "${harnesses[@]}"; do
  swift build -c release --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer,address --toolset "$toolset" --product "fuzz-$h"
done
bin="$scratch/x86_64-unknown-linux-gnu/release"
[ -d "$bin" ] || bin="$scratch/release"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
# libFuzzer reports traps itself; Swift's backtracer would read memory under ASan and muddle the report.
export SWIFT_BACKTRACE=enable=no
for h in "${harnesses[@]}"; do
  corpus="$scratch/corpus/$h" artifacts="$scratch/artifacts/$h/"
  mkdir -p "$corpus" "$artifacts"
  case $h in vqx | faiss) maxlen=16384 ;; spec) maxlen=256 ;; *) maxlen=8192 ;; esac
  if [ "${MODE:-runs}" = time ]; then limit=(-max_total_time="$budget"); else limit=(-runs="$budget"); fi
  echo "== fuzz-$h: ${MODE:-runs} $budget"
  status=0
  "$bin/fuzz-$h" "${limit[@]}" -max_len=$maxlen -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts" "$corpus" "corpus/$h" >"$scratch/fuzz-$h.log" 2>&1 || status=$?
  grep -E '^(Done|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|.*Swift runtime failure|.*Fatal error|artifact_prefix)' "$scratch/fuzz-$h.log" || true
  [ "$status" -eq 0 ] || { echo "fuzz-$h: finding (exit $status), see $artifacts" >&2; exit 1; }
done
