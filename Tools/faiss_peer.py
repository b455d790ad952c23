#!/usr/bin/env python3
"""Measure FAISS (the reference peer) on an fvecs data set, for side-by-side checks with swift-vq.

For each FAISS factory string given, builds an inner-product index over base.fvecs, searches the
queries for k = 10 and prints one JSON object on stdout:

  {"faiss_version": "...", "dataset": {...}, "results": {"<factory>[@qb=N]": {
      "recall_at_10": R, "bytes_per_vector": B, "nmse": E, "build_seconds": s, "search_seconds": s}}}

recall_at_10 = |returned top-10 ∩ true top-10| / 10 averaged over queries (true top-10 = the first
ten ids of groundtruth.ivecs). nmse = mean ||x - decode(encode(x))||^2 / ||x||^2 over the base
(null when the index cannot decode standalone codes). A factory suffix "@qb=N" sets the RaBitQ query bits.
`vq bench --peer faiss` runs this script on the data it measured.

Usage:  python3 Tools/faiss_peer.py --data Data/minilm-small RaBitQ@qb=8 RaBitQ4@qb=8 RR,SQtqmse2
Needs:  pip install faiss-cpu numpy   (.ci/run installs them), and Tools/vecs.py beside this script
"""
import argparse
import json
import os
import sys
import time

import numpy as np

from vecs import read_vecs

try:
    import faiss
except ImportError:
    sys.exit("error: faiss is not installed (pip install faiss-cpu)")


def measure(factory, xb, xq, gt):
    name, _, option = factory.partition("@")
    index = faiss.index_factory(xb.shape[1], name, faiss.METRIC_INNER_PRODUCT)
    start = time.perf_counter()
    index.train(xb)
    index.add(xb)
    build = time.perf_counter() - start
    params = None
    if option.startswith("qb="):
        inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexPreTransform) else index
        inner.qb = int(option[3:])
    start = time.perf_counter()
    _, ids = index.search(xq, 10)
    search = time.perf_counter() - start
    hits = sum(len(set(ids[i]) & set(gt[i, :10])) for i in range(len(xq)))
    nmse = None
    # RaBitQ's sa_decode is not the reconstruction its estimator implies (it reads 0.537 at 1 and at 4
    # bits on MiniLM): report none rather than a number that cannot be compared.
    try:
        if "RaBitQ" in factory:
            raise ValueError("no comparable decode")
        decoded = index.sa_decode(index.sa_encode(xb))
        nmse = float(np.mean(np.sum((decoded - xb) ** 2, axis=1) / np.sum(xb * xb, axis=1)))
    except Exception:
        pass
    return {
        "recall_at_10": hits / (10 * len(xq)),
        "bytes_per_vector": int(index.sa_code_size()) if hasattr(index, "sa_code_size") else None,
        "nmse": nmse,
        "build_seconds": build,
        "search_seconds": search,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="folder with base.fvecs, query.fvecs, groundtruth.ivecs")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("factories", nargs="+")
    args = parser.parse_args()
    faiss.omp_set_num_threads(args.threads)
    try:
        xb = read_vecs(os.path.join(args.data, "base.fvecs"), np.float32)
        xq = read_vecs(os.path.join(args.data, "query.fvecs"), np.float32)
        gt = read_vecs(os.path.join(args.data, "groundtruth.ivecs"), np.int32)
    except ValueError as problem:
        sys.exit(f"error: {problem}")
    results = {f: measure(f, xb, xq, gt) for f in args.factories}
    json.dump({
        "faiss_version": faiss.__version__,
        "dataset": {"path": args.data, "base": int(xb.shape[0]), "queries": int(xq.shape[0]), "dimension": int(xb.shape[1])},
        "results": results,
    }, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
