#!/usr/bin/env python3
"""Read a FAISS index file (e.g. one `vq export --format faiss` wrote) with faiss.read_index, search
the given queries and print the top-k ids per query as one JSON object:

    {"ids": [[...], ...], "ntotal": N, "d": D, "type": "IndexIDMap2"}

Usage: faiss_check_export.py INDEX QUERIES(.fvecs|.npy) [--k 10] [--nprobe N]
--nprobe sets the IVF lists visited (an IVF index nested in IndexPreTransform / IndexIDMap too).
Exit 2 with "error: ..." on stderr when the file cannot be read.
"""
import argparse
import json
import sys

import numpy as np

from vecs import read_vecs


def read_vectors(path):
    if path.endswith(".npy"):
        return np.ascontiguousarray(np.load(path), dtype=np.float32)
    return read_vecs(path, np.float32)


def innermost_ivf(index, faiss):
    while True:
        ivf = faiss.try_extract_index_ivf(index)
        if ivf is not None:
            return ivf
        down = faiss.downcast_index(index)
        inner = getattr(down, "index", None)
        if inner is None:
            return None
        index = inner


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("index")
    parser.add_argument("queries")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--nprobe", type=int, default=None)
    args = parser.parse_args()
    import faiss

    try:
        index = faiss.read_index(args.index)
    except Exception as error:  # faiss raises RuntimeError with its own message
        print(f"error: {args.index}: {error}", file=sys.stderr)
        sys.exit(2)
    queries = read_vectors(args.queries)
    if args.nprobe is not None:
        ivf = innermost_ivf(index, faiss)
        if ivf is not None:
            ivf.nprobe = args.nprobe
    _, ids = index.search(queries, args.k)
    print(json.dumps({
        "ids": ids.tolist(), "ntotal": int(index.ntotal), "d": int(index.d),
        "type": type(faiss.downcast_index(index)).__name__,
    }))


if __name__ == "__main__":
    main()
