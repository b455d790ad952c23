#!/usr/bin/env python3
"""Recall@10 of flat RaBitQ over several rotation seeds, swift-vq against FAISS 1.15, on the same data.

A recall difference of a few thousandths between two RaBitQ implementations at one rotation each says
little: the rotation alone moves recall@10 that much. This script builds, for B in --bits and each of
--seeds seeds, swift-vq's `rabitq:bits=B,centre=mean,seed=S` flat index and FAISS's
IndexPreTransform(RandomRotationMatrix seeded S, IndexRaBitQ(B bits, query bits qb)) (FAISS centres on
the data mean too), searches the queries at re-rank depths 1 and 2 (FAISS: IndexRefineFlat, k_factor = r),
and prints per depth the mean, standard deviation and range of recall@10 over the seeds.

Usage:  python3 Tools/recall_seed_spread.py --data ../shared/data/minilm --vq .build/release/vq
Needs:  pip install faiss-cpu numpy; a release build of vq (swift build -c release).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np

from vecs import read_vecs, recall_at_10

try:
    import faiss
except ImportError:
    sys.exit("error: faiss is not installed (pip install faiss-cpu)")


def ours(args, folder, bits, seed, rerank):
    path = os.path.join(folder, f"b{bits}-s{seed}.vqx")
    if not os.path.exists(path):
        subprocess.run([args.vq, "index", "build", "--spec", f"rabitq:bits={bits},centre=mean,seed={seed}",
                        "--base", args.base, "--out", path], check=True, capture_output=True)
    result = subprocess.run([args.vq, "index", "search", path, "--queries", args.queries, "--groundtruth",
                             args.groundtruth, "--k", "10", "--rerank", str(rerank), "--threads", "2", "--json"],
                            check=True, capture_output=True, text=True)
    return json.loads(result.stdout)["recall_at_k"]


def theirs(args, xb, xq, gt, bits, seed, reranks):
    d = xb.shape[1]
    rotation = faiss.RandomRotationMatrix(d, d)
    rotation.init(seed)
    inner = faiss.IndexRaBitQ(d, faiss.METRIC_INNER_PRODUCT, bits)
    inner.qb = args.qb
    index = faiss.IndexPreTransform(rotation, inner)
    index.train(xb)
    index.add(xb)
    refine = faiss.IndexRefineFlat(index, faiss.swig_ptr(xb))
    out = {}
    for r in reranks:
        refine.k_factor = float(r)
        _, ids = refine.search(xq, 10)
        out[r] = recall_at_10(ids, gt)
    return out


def summary(values):
    return (f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f} "
            f"({min(values):.4f}–{max(values):.4f})")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="folder with base.fvecs, query.fvecs, groundtruth.ivecs")
    p.add_argument("--vq", default=".build/release/vq")
    p.add_argument("--bits", default="1,2,4")
    p.add_argument("--seeds", type=int, default=5, help="seeds 1…N for both")
    p.add_argument("--qb", type=int, default=8, help="FAISS query bits")
    args = p.parse_args()
    if args.seeds < 2:
        sys.exit("error: --seeds must be 2 or more (a spread needs two values)")
    args.base = os.path.join(args.data, "base.fvecs")
    args.queries = os.path.join(args.data, "query.fvecs")
    args.groundtruth = os.path.join(args.data, "groundtruth.ivecs")
    xb, xq = read_vecs(args.base, np.float32), read_vecs(args.queries, np.float32)
    gt = read_vecs(args.groundtruth, np.int32)
    reranks = [1, 2]
    faiss.omp_set_num_threads(2)
    print(f"data {args.data}: {xb.shape[0]} x {xb.shape[1]}, {xq.shape[0]} queries; seeds 1…{args.seeds}; "
          f"FAISS {faiss.__version__} qb={args.qb}")
    print("| bits | rerank | swift-vq centre=mean: mean ± sd (range) | FAISS IndexRaBitQ: mean ± sd (range) |")
    print("|---|---:|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for bits in [int(b) for b in args.bits.split(",")]:
            a = {r: [] for r in reranks}
            b = {r: [] for r in reranks}
            for seed in range(1, args.seeds + 1):
                f = theirs(args, xb, xq, gt, bits, seed, reranks)
                for r in reranks:
                    a[r].append(ours(args, folder, bits, seed, r))
                    b[r].append(f[r])
            for r in reranks:
                print(f"| {bits} | {r} | {summary(a[r])} | {summary(b[r])} |", flush=True)


if __name__ == "__main__":
    main()
