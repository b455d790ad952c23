#!/usr/bin/env python3
"""Runs the QUIVER driver and `vq asq` on the same vectors, alternating, and prints one table.

Called by run.sh (which builds both programs). Per distribution: the driver writes one float32 .npy
vector (std::mt19937_64, seed 42 for normal, 43 for lognormal); then each round runs, in this order,
QUIVER exact, vq exact, QUIVER accelerated, QUIVER exact+sort, QUIVER approx+sort, vq approx, vq approx +
3 polish sweeps, vq exact with 2 levels (baseline).

Times:
* QUIVER: the driver's thread CPU time (CLOCK_THREAD_CPUTIME_ID) and wall time of the solve.
* vq: `seconds` of `vq asq --json` (wall time of the solves, file I/O excluded; exact includes the sort)
  and the process's CPU time (user + sys, from the OS). The exact DP's CPU time is the process CPU time
  of the 16-level run minus that of the same command with 2 levels (same load, conversion and sort, no
  DP layers): on a loaded machine it is the comparable figure to QUIVER's thread CPU time.
Each cell shows the minimum over the rounds and, after a slash, the median.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys


def run_json(argv):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    return json.loads(line), cpu * 1e3


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--driver", required=True)
    p.add_argument("--vq", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--log2d", type=int, default=20)
    p.add_argument("--levels", type=int, default=16)
    p.add_argument("--grid", type=int, default=1000)
    p.add_argument("--dists", nargs="+", default=["normal", "lognormal"])
    p.add_argument("--quiver-commit", default="unknown")
    a = p.parse_args()
    s, m = str(a.levels), str(a.grid)
    rows = []
    for dist in a.dists:
        path = os.path.join(a.work, f"{dist}-2^{a.log2d}.npy")
        seed = "42" if dist == "normal" else "43"
        subprocess.run([a.driver, "generate", dist, str(a.log2d), seed, path], check=True)
        r = {k: [] for k in ["q_exact_cpu", "q_exact_wall", "q_accel_cpu", "q_accel_wall", "q_exsort_cpu",
                             "q_exsort_wall", "q_apx_cpu", "q_apx_wall", "v_exact_wall", "v_exact_cpu",
                             "v_base_cpu", "v_apx_wall", "v_pol_wall"]}
        vn = {}
        for round_ in range(a.rounds):
            print(f"{dist}: round {round_ + 1}/{a.rounds}", file=sys.stderr)
            q, _ = run_json([a.driver, "time", "exact", path, s])
            r["q_exact_cpu"].append(q["cpu_ms"]); r["q_exact_wall"].append(q["wall_ms"]); vn["q_exact"] = q["vnmse"]
            v, cpu = run_json([a.vq, "asq", "--input", path, "--levels", s, "--json"])
            r["v_exact_wall"].append(v["seconds"] * 1e3); r["v_exact_cpu"].append(cpu); vn["v_exact"] = v["vnmse"]
            q, _ = run_json([a.driver, "time", "accelerated", path, s])
            r["q_accel_cpu"].append(q["cpu_ms"]); r["q_accel_wall"].append(q["wall_ms"]); vn["q_accel"] = q["vnmse"]
            q, _ = run_json([a.driver, "time", "exact+sort", path, s])
            r["q_exsort_cpu"].append(q["cpu_ms"]); r["q_exsort_wall"].append(q["wall_ms"])
            q, _ = run_json([a.driver, "time", "approx+sort", path, s, m])
            r["q_apx_cpu"].append(q["cpu_ms"]); r["q_apx_wall"].append(q["wall_ms"]); vn["q_apx"] = q["vnmse"]
            v, _ = run_json([a.vq, "asq", "--input", path, "--levels", s, "--approx", m, "--json"])
            r["v_apx_wall"].append(v["seconds"] * 1e3); vn["v_apx"] = v["vnmse"]
            v, _ = run_json([a.vq, "asq", "--input", path, "--levels", s, "--approx", m, "--polish", "3", "--json"])
            r["v_pol_wall"].append(v["seconds"] * 1e3); vn["v_pol"] = v["vnmse"]
            _, cpu = run_json([a.vq, "asq", "--input", path, "--levels", "2", "--json"])
            r["v_base_cpu"].append(cpu)
        r["v_dp_cpu"] = [e - b for e, b in zip(r["v_exact_cpu"], r["v_base_cpu"])]
        rows.append((dist, r, vn))

    def cell(xs):
        return f"{min(xs):.1f} / {statistics.median(xs):.1f}"

    def ratio(qs, vs):
        return f"{min(qs) / min(vs):.2f}× / {statistics.median(qs) / statistics.median(vs):.2f}×"

    print(f"\nd = 2^{a.log2d}, s = {a.levels}, M = {a.grid}; {a.rounds} rounds, alternating; ms as min / median; "
          f"QUIVER {a.quiver_commit}; load average {os.getloadavg()[0]:.1f}")
    print("| data | comparison | QUIVER | swift-vq | QUIVER ÷ swift-vq | vNMSE QUIVER / swift-vq |")
    print("|---|---|---|---|---|---|")
    for dist, r, vn in rows:
        print(f"| {dist} | exact, DP only, CPU ms | {cell(r['q_exact_cpu'])} | {cell(r['v_dp_cpu'])} | "
              f"{ratio(r['q_exact_cpu'], r['v_dp_cpu'])} | {vn['q_exact']:.10g} / {vn['v_exact']:.10g} |")
        print(f"| {dist} | accelerated QUIVER vs exact, DP only, CPU ms | {cell(r['q_accel_cpu'])} | "
              f"{cell(r['v_dp_cpu'])} | {ratio(r['q_accel_cpu'], r['v_dp_cpu'])} | {vn['q_accel']:.10g} / {vn['v_exact']:.10g} |")
        print(f"| {dist} | exact incl. sort, wall ms | {cell(r['q_exsort_wall'])} | {cell(r['v_exact_wall'])} | "
              f"{ratio(r['q_exsort_wall'], r['v_exact_wall'])} | |")
        print(f"| {dist} | approx end to end (QUIVER: sort + approx; swift-vq: no sort), wall ms | "
              f"{cell(r['q_apx_wall'])} | {cell(r['v_apx_wall'])} | {ratio(r['q_apx_wall'], r['v_apx_wall'])} | "
              f"{vn['q_apx']:.10g} / {vn['v_apx']:.10g} |")
        print(f"| {dist} | approx + 3 polish sweeps (swift-vq), wall ms | {cell(r['q_apx_wall'])} | "
              f"{cell(r['v_pol_wall'])} | {ratio(r['q_apx_wall'], r['v_pol_wall'])} | – / {vn['v_pol']:.10g} |")
        print(f"| {dist} | (QUIVER approx end to end, CPU ms) | {cell(r['q_apx_cpu'])} | | | |")


if __name__ == "__main__":
    main()
