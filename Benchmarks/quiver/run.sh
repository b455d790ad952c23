#!/usr/bin/env bash
# swift-vq's ASQ solvers beside the QUIVER C++ reference (github.com/ranbenbasat/QUIVER, NeurIPS 2024,
# arXiv:2402.03158), built and timed in one run on the same generated data.
#
#   Benchmarks/quiver/run.sh [QUIVER_CHECKOUT]        (or QUIVER_SRC=... Benchmarks/quiver/run.sh)
#
# Environment: ROUNDS (default 3), LOG2D (20), LEVELS (16), GRID (1000), DISTS ("normal lognormal"),
# SCRATCH (swift build scratch path, default .build), WORK (scratch folder for the data and the driver),
# QUIVER_COMMIT (shown in the table; default: the checkout's git HEAD).
# Builds quiver_driver.cpp (ours; it only calls QUIVER's classes) with g++ -O3 -march=native against the
# checkout, builds `vq` in release, then compare.py runs QUIVER exact / accelerated / approximate and
# `vq asq` on the same .npy vectors, alternating, and prints one table with ratios.
set -euo pipefail

QUIVER_SRC="${1:-${QUIVER_SRC:-}}"
if [[ -z "$QUIVER_SRC" || ! -f "$QUIVER_SRC/QUIVER/ExactQUIVER.h" ]]; then
  cat <<'USAGE'
No QUIVER checkout given (or it lacks QUIVER/ExactQUIVER.h): nothing to compare, skipping.
Get one and pass its path:
  git clone https://github.com/ranbenbasat/QUIVER /tmp/quiver   # the runs in Benchmarks/README.md used e188616
  Benchmarks/quiver/run.sh /tmp/quiver        # or: QUIVER_SRC=/tmp/quiver Benchmarks/quiver/run.sh
USAGE
  exit 0
fi

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WORK="${WORK:-$(mktemp -d /tmp/asq-quiver.XXXXXX)}"
SCRATCH="${SCRATCH:-$ROOT/.build}"
mkdir -p "$WORK"

CXX="${CXX:-g++}"
echo "building the QUIVER driver: $CXX -O3 -march=native ($("$CXX" --version | head -1))" >&2
"$CXX" -O3 -march=native -std=c++17 -I "$QUIVER_SRC/QUIVER" "$HERE/quiver_driver.cpp" -o "$WORK/quiver_driver"

echo "building vq (release) in $SCRATCH" >&2
(cd "$ROOT" && swift build -c release --scratch-path "$SCRATCH" --product vq >&2)
VQ="$SCRATCH/release/vq"

QUIVER_COMMIT="${QUIVER_COMMIT:-$(git -C "$QUIVER_SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)}"
exec python3 "$HERE/compare.py" --driver "$WORK/quiver_driver" --vq "$VQ" --work "$WORK" \
  --rounds "${ROUNDS:-3}" --log2d "${LOG2D:-20}" --levels "${LEVELS:-16}" --grid "${GRID:-1000}" \
  --dists ${DISTS:-normal lognormal} --quiver-commit "$QUIVER_COMMIT"
