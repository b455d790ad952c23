#!/usr/bin/env python3
"""swift-vq's index against FAISS 1.15 on the same data, in the same run: recall@10 and single-thread QPS.

For RaBitQ at 1, 2 and 4 bits, flat and IVF, at re-rank depths 1, 2, 4 and 10 (the best r*10 candidates
re-scored with the original vectors), this script
  - builds `vq index build --spec rabitq:bits=B [--ivf N]` (flat also with centre=mean, and at B = 1 with
    centre=mean,bound=none, FAISS's bytes; IVF also with
    --no-centre-corrections and with --spherical) and times `vq index search --threads 1`,
  - builds FAISS's IndexRaBitQ / IndexRaBitQFastScan / IndexIVFRaBitQ (with a random rotation in front,
    "RR,", as swift-vq rotates, and query bits qb), wrapped in IndexRefineFlat(k_factor = r) for re-ranking,
    and times index.search with one OpenMP thread,
and prints a Markdown table (and --json FILE for the numbers). QPS is the best of --repeat runs over all
queries; recall@10 = |found top-10 ∩ true top-10| / 10 against groundtruth.ivecs.

Usage:  python3 Tools/index_vs_faiss.py --data ../shared/data/minilm --vq .build/release/vq
Needs:  pip install faiss-cpu numpy; a release build of vq (swift build -c release).
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

from vecs import read_vecs, recall_at_10

try:
    import faiss
except ImportError:
    sys.exit("error: faiss is not installed (pip install faiss-cpu)")


def vq_rows(args, folder, bits, lists, reranks, nprobes, extra="", flags=()):
    spec = f"rabitq:bits={bits}{extra}"
    label = "".join(f.replace("--", "-") for f in flags)
    out = os.path.join(folder, f"rabitq{bits}-{lists}{extra.replace(',', '-').replace('=', '')}{label}.vqx")
    build = [args.vq, "index", "build", "--spec", spec, "--base", args.base, "--out", out, "--json"] + list(flags)
    if lists:
        build += ["--ivf", str(lists)]
    built = json.loads(subprocess.run(build, check=True, capture_output=True, text=True).stdout)
    rows = []
    for nprobe in nprobes:
        for r in reranks:
            best = None
            for _ in range(args.repeat):
                result = json.loads(subprocess.run(
                    [args.vq, "index", "search", out, "--queries", args.queries, "--groundtruth", args.groundtruth,
                     "--k", "10", "--rerank", str(r), "--nprobe", str(nprobe), "--threads", "1", "--json"],
                    check=True, capture_output=True, text=True).stdout)
                if best is None or result["qps"] > best["qps"]:
                    best = result
            rows.append({"system": "swift-vq", "index": spec + (f" IVF{lists}" if lists else " flat") + "".join(f" {f}" for f in flags),
                         "bits": bits, "lists": lists, "nprobe": nprobe if lists else None, "rerank": r,
                         "recall_at_10": best["recall_at_k"], "qps": best["qps"],
                         "bytes_per_vector": best["bytes_per_vector"], "build_seconds": built["seconds"]})
    return rows


def faiss_rows(args, xb, xq, gt, bits, lists, fastscan, reranks, nprobes):
    d = xb.shape[1]
    suffix = "" if bits == 1 else str(bits)
    body = ("RaBitQfs" if fastscan else "RaBitQ") + suffix
    factory = f"RR,IVF{lists},{body}" if lists else f"RR,{body}"
    faiss.omp_set_num_threads(2)
    t0 = time.perf_counter()
    index = faiss.index_factory(d, factory, faiss.METRIC_INNER_PRODUCT)
    index.train(xb)
    index.add(xb)
    build_seconds = time.perf_counter() - t0
    inner = faiss.downcast_index(faiss.downcast_index(index).index)
    ivf = faiss.extract_index_ivf(index) if lists else None
    if hasattr(inner, "qb"):
        inner.qb = args.qb
    refine = faiss.IndexRefineFlat(index, faiss.swig_ptr(xb))
    rows = []
    faiss.omp_set_num_threads(1)
    for nprobe in nprobes:
        if ivf is not None:
            ivf.nprobe = nprobe
            if hasattr(ivf, "qb"):
                ivf.qb = args.qb
        for r in reranks:
            refine.k_factor = float(r)
            best, ids = float("inf"), None
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                _, ids = refine.search(xq, 10)
                best = min(best, time.perf_counter() - t0)
            rows.append({"system": f"FAISS {faiss.__version__}", "index": factory + f" qb={args.qb}", "bits": bits,
                         "lists": lists, "nprobe": nprobe if lists else None, "rerank": r,
                         "recall_at_10": recall_at_10(ids, gt), "qps": len(xq) / best,
                         "bytes_per_vector": int(index.sa_code_size()), "build_seconds": build_seconds})
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="folder with base.fvecs, query.fvecs, groundtruth.ivecs")
    p.add_argument("--vq", default=".build/release/vq")
    p.add_argument("--bits", default="1,2,4")
    p.add_argument("--reranks", default="1,2,4,10")
    p.add_argument("--lists", type=int, default=256, help="IVF lists (0: flat only)")
    p.add_argument("--nprobes", default="16,32")
    p.add_argument("--qb", type=int, default=8, help="FAISS query bits")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--json", help="write the rows here")
    args = p.parse_args()
    args.base = os.path.join(args.data, "base.fvecs")
    args.queries = os.path.join(args.data, "query.fvecs")
    args.groundtruth = os.path.join(args.data, "groundtruth.ivecs")
    xb, xq = read_vecs(args.base, np.float32), read_vecs(args.queries, np.float32)
    gt = read_vecs(args.groundtruth, np.int32)
    reranks = [int(x) for x in args.reranks.split(",")]
    nprobes = [int(x) for x in args.nprobes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for bits in [int(b) for b in args.bits.split(",")]:
            rows += vq_rows(args, folder, bits, 0, reranks, [1])
            # Centred on the data mean, as FAISS's flat IndexRaBitQ (4 more bytes: the exact ⟨o − c, c⟩).
            rows += vq_rows(args, folder, bits, 0, reranks, [1], ",centre=mean")
            if bits == 1:
                # Without ‖x − c‖ (no error bound): FAISS IndexRaBitQ's bytes, the same estimates.
                rows += vq_rows(args, folder, bits, 0, reranks, [1], ",centre=mean,bound=none")
            rows += faiss_rows(args, xb, xq, gt, bits, 0, False, reranks, [1])
            rows += faiss_rows(args, xb, xq, gt, bits, 0, True, reranks, [1])
            if args.lists:
                # Default: per-row centre corrections (4 bytes); without them (FAISS's bytes or fewer); and
                # spherical k-means (FAISS's IVF training for inner product) with them.
                rows += vq_rows(args, folder, bits, args.lists, reranks, nprobes)
                rows += vq_rows(args, folder, bits, args.lists, reranks, nprobes, flags=("--no-centre-corrections",))
                rows += vq_rows(args, folder, bits, args.lists, reranks, nprobes, flags=("--spherical",))
                rows += faiss_rows(args, xb, xq, gt, bits, args.lists, False, reranks, nprobes)
    print(f"data {args.data}: {len(xb)} x {xb.shape[1]}, {len(xq)} queries; machine {platform.processor() or platform.machine()}; "
          f"QPS single-thread, best of {args.repeat}")
    print("| system | index | nprobe | rerank | recall@10 | QPS | bytes/vector |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['system']} | {r['index']} | {r['nprobe'] or ''} | {r['rerank']} | {r['recall_at_10']:.4f} | "
              f"{r['qps']:.0f} | {r['bytes_per_vector']} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
