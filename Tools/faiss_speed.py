#!/usr/bin/env python3
"""FAISS's speed on the operations swift-vq's kernels do, single-threaded, for the side-by-side table of
Benchmarks/README.md (run by `swift run -c release --package-path Benchmarks SpeedComparison`, which
measures swift-vq in the same run, or alone).

Prints one JSON object: {"faiss_version": "...", "results": {name: {"value": v, "unit": u, "what": text}}}.
Search figures are codes scanned per second: search wall time for `nq` queries over `n` codes (k = 10),
divided into n·nq (so they include FAISS's top-k handling and its per-query set-up, as an index search
does). Encode figures are vectors per second of `add` (train excluded) or `sa_encode`.
Random Gaussian data, fixed seed; the best of `repeat` runs.

Usage:  python3 Tools/faiss_speed.py [--repeat 5] [--quick]
Needs:  pip install faiss-cpu numpy   (.ci/run installs them)
"""
import argparse
import json
import sys
import time

import numpy as np

try:
    import faiss
except ImportError:
    sys.exit("error: faiss is not installed (pip install faiss-cpu)")


def best_time(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def scan_rate(factory, d, n, nq, repeat, qb=None, rng=None):
    xb = rng.standard_normal((n, d)).astype("float32")
    xq = rng.standard_normal((nq, d)).astype("float32")
    index = faiss.index_factory(d, factory, faiss.METRIC_INNER_PRODUCT)
    if qb is not None:
        index.qb = qb
    index.train(xb[: min(n, 20000)])
    index.add(xb)
    seconds = best_time(lambda: index.search(xq, 10), repeat)
    return n * nq / seconds


def encode_rate(factory, d, n, repeat, rng, method="add"):
    xb = rng.standard_normal((n, d)).astype("float32")
    index = faiss.index_factory(d, factory, faiss.METRIC_INNER_PRODUCT)
    index.train(xb)
    if method == "add":
        def run():
            index.reset()
            index.add(xb)
    else:
        def run():
            index.sa_encode(xb)
    return n / best_time(run, repeat)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(42)
    scale = 4 if args.quick else 1
    results = {}

    def put(name, value, unit, what):
        results[name] = {"value": value, "unit": unit, "what": what}

    for d, n in ((128, 65536 // scale), (1024, 16384 // scale)):
        for qb in (1, 4):
            put(f"rabitq_flat_d{d}_qb{qb}", scan_rate("RaBitQ", d, n, 16, args.repeat, qb=qb, rng=rng) / 1e6,
                "M codes/s", f"IndexRaBitQ (1 bit) search, qb={qb}, {n} codes, 16 queries, k=10")
        put(f"rabitq_fastscan_d{d}", scan_rate("RaBitQfs", d, n, 16, args.repeat, qb=8, rng=rng) / 1e6,
            "M codes/s", f"IndexRaBitQFastScan search, qb=8, {n} codes, 16 queries, k=10")
    n = 65536 // scale
    put("pq4_fastscan_d128", scan_rate("PQ32x4fs", 128, n, 16, args.repeat, rng=rng) / 1e6, "M codes/s",
        f"IndexPQFastScan PQ32x4fs search (32 sub-quantizers of 4 bits), {n} codes, 16 queries, k=10")
    n = 4096 // scale
    put("encode_sq4_d1024", encode_rate("SQ4", 1024, n, args.repeat, rng, "sa_encode") / 1e6, "M vectors/s",
        f"IndexScalarQuantizer SQ4 sa_encode (4-bit uniform, no rotation), {n} vectors")
    put("encode_rabitq1_d1024", encode_rate("RaBitQ", 1024, n, args.repeat, rng) / 1e6, "M vectors/s",
        f"IndexRaBitQ (1 bit) add, {n} vectors")
    put("encode_rabitq4_d1024", encode_rate("RaBitQ4", 1024, 512 // scale, args.repeat, rng) / 1e6, "M vectors/s",
        f"IndexRaBitQ nb_bits=4 add, {512 // scale} vectors")
    print(json.dumps({"faiss_version": faiss.__version__, "results": results}, indent=1))


if __name__ == "__main__":
    main()
