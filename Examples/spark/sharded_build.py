#!/usr/bin/env python3
"""Sharded swift-vq index build on Apache Spark: one task per shard pipes its range through the `vq` binary,
then the driver merges the shards. The merged index is byte-identical to `vq index build` on one machine.

Local mode (CI, a laptop):
    python3 Examples/spark/sharded_build.py --vq .build/release/vq --base Data/minilm-small/base.fvecs \
        --spec rabitq:bits=1 --shards 4 --out /tmp/index.vqx --workdir /tmp/shards
On a cluster: submit the same script with `spark-submit --master <url> Examples/spark/sharded_build.py ...`;
`--vq`, `--base` and `--workdir` must be paths every executor sees (a shared file system: NFS, a mounted
bucket), and `vq` must be built for the executors' machines. For IVF, train the centroids once on the
driver (`--ivf N` does `vq index train` first) and every shard gets the same centroids file.

Each task runs `vq index build --shard i/n` (it reads only its own rows of the base, memory bounded by
the shard) and returns its shard path; a failed task fails the job with vq's own error message. The
driver then runs `vq index merge`, which refuses missing, repeated or mismatched shards.

Needs: pyspark (pip install pyspark) and Java 17+.
"""
import argparse
import os
import subprocess
import sys


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vq", required=True, help="the vq binary (same build on every executor)")
    p.add_argument("--base", required=True, help="base vectors (.fvecs/.bvecs/.npy), visible to every executor")
    p.add_argument("--spec", required=True)
    p.add_argument("--shards", type=int, required=True)
    p.add_argument("--out", required=True, help="the merged index (.vqx)")
    p.add_argument("--workdir", required=True, help="folder for shard files (shared by executors)")
    p.add_argument("--ivf", type=int, default=0, help="IVF lists: trained once on the driver")
    p.add_argument("--metric", default="ip")
    p.add_argument("--seed", default="42")
    p.add_argument("--master", default="local[2]")
    args = p.parse_args()

    from pyspark import SparkConf, SparkContext

    vq = os.path.abspath(args.vq)
    base = os.path.abspath(args.base)
    workdir = os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    common = ["--spec", args.spec, "--base", base, "--metric", args.metric, "--seed", args.seed]
    if args.ivf:
        centroids = os.path.join(workdir, "centroids.fvecs")
        run([vq, "index", "train", "--base", base, "--ivf", str(args.ivf), "--metric", args.metric,
             "--seed", args.seed, "--out", centroids])
        common += ["--centroids", centroids]

    n = args.shards

    def build_shard(i):
        path = os.path.join(workdir, f"shard-{i:05d}-of-{n:05d}.vqx")
        run([vq, "index", "build", *common, "--shard", f"{i}/{n}", "--out", path, "--threads", "1"])
        return path

    sc = SparkContext(conf=SparkConf().setMaster(args.master).setAppName("swift-vq sharded build"))
    sc.setLogLevel("ERROR")
    try:
        shards = sc.parallelize(range(n), n).map(build_shard).collect()
    finally:
        sc.stop()
    print(run([vq, "index", "merge", *shards, "--out", os.path.abspath(args.out)]).strip())


if __name__ == "__main__":
    try:
        main()
    except RuntimeError as error:
        sys.exit(f"error: {error}")
