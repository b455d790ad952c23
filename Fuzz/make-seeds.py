#!/usr/bin/env python3
"""Writes the seed corpora under Fuzz/corpus/<harness>/ from the vendored data (Data/minilm-small)
and small synthetic files; the .vqx seeds are built with the vq binary given as argv[1].
The first byte of every vecs/npy/vqx seed is the harness's mode byte (see Sources/fuzz-*/main.swift)."""
import os, struct, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
data = os.path.join(root, "Data", "minilm-small")
corpus = os.path.join(here, "corpus")


def put(harness, name, payload):
    folder = os.path.join(corpus, harness)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(payload)


def head_records(path, dim_bytes, records):
    with open(path, "rb") as f:
        raw = f.read(4)
        d = struct.unpack("<i", raw)[0]
        f.seek(0)
        return f.read(records * (4 + d * dim_bytes))


def vecs(rows, fmt, size):
    out = b""
    for r in rows:
        out += struct.pack("<i", len(r)) + b"".join(struct.pack("<" + fmt, v) for v in r)
    return out


def npy(descr, shape, payload, fortran=False, version=1):
    shape_text = "(%d,)" % shape[0] if len(shape) == 1 else "(" + ", ".join(map(str, shape)) + ")"
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, "True" if fortran else "False", shape_text)
    pre = 10 if version == 1 else 12
    while (pre + len(header) + 1) % 64:
        header += " "
    header += "\n"
    size = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + size + header.encode() + payload


# fvecs / ivecs / bvecs (mode byte 0, 1, 2)
put("vecs", "minilm-base-2", b"\x00" + head_records(os.path.join(data, "base.fvecs"), 4, 2))
put("vecs", "minilm-query-1", b"\x00" + head_records(os.path.join(data, "query.fvecs"), 4, 1))
put("vecs", "minilm-groundtruth-3", b"\x01" + head_records(os.path.join(data, "groundtruth.ivecs"), 4, 3))
put("vecs", "small-fvecs", b"\x00" + vecs([[1.0, -2.0, 0.5, 3.25], [0.0, 1.0, 2.0, 3.0]], "f", 4))
put("vecs", "small-ivecs", b"\x01" + vecs([[0, 5, 7], [1, 2, 3]], "i", 4))
put("vecs", "small-bvecs", b"\x02" + b"".join(struct.pack("<i", 4) + bytes([1, 2, 250, 0]) for _ in range(3)))

# npy (mode 0 float vectors, 1 int vectors, 2 mapped)
f4 = struct.pack("<6f", 1, 2, 3, 4, 5, 6)
put("npy", "f4-2x3", b"\x00" + npy("<f4", [2, 3], f4))
put("npy", "f4-1d", b"\x00" + npy("<f4", [6], f4))
put("npy", "f2-2x2", b"\x00" + npy("<f2", [2, 2], struct.pack("<4e", 1, -2, 0.5, 3)))
put("npy", "f4-v2", b"\x02" + npy("<f4", [3, 2], f4, version=2))
put("npy", "f4-fortran", b"\x02" + npy("<f4", [2, 3], f4, fortran=True))
put("npy", "i4-2x2", b"\x01" + npy("<i4", [2, 2], struct.pack("<4i", 1, 2, 3, 4)))
put("npy", "i8-2x2", b"\x01" + npy("<i8", [2, 2], struct.pack("<4q", 1, 2, 3, 4)))
with open(os.path.join(data, "base.fvecs"), "rb") as f:
    d = struct.unpack("<i", f.read(4))[0]
    row = f.read(4 * d)
put("npy", "minilm-row", b"\x00" + npy("<f4", [1, d], row))

# spec strings
specs = ["fp32", "fp16", "bf16", "int:bits=4", "int:bits=8", "sign", "rabitq:bits=1", "rabitq:bits=4",
         "turboquant:bits=2", "eden:bits=2", "qjl", "e8", "pq:m=4", "nope:x=1", "rabitq:bits=12", "int:bits=4,seed=7"]
listing = subprocess.run([sys.argv[1], "specs"], capture_output=True, text=True).stdout
for line in listing.splitlines():
    word = line.strip().split(" ")[0] if line.strip() else ""
    if word and word.replace("_", "").replace("-", "").isalnum() and word.islower():
        specs.append(word)
for i, s in enumerate(sorted(set(specs))):
    put("spec", "spec-%02d" % i, s.encode())

# .vqx (mode byte: bit 2 re-seals checksums, bit 1 verifies them)
tmp = os.path.join(here, ".seed-tmp")
os.makedirs(tmp, exist_ok=True)
base = os.path.join(tmp, "base.fvecs")
with open(base, "wb") as f:
    f.write(head_records(os.path.join(data, "base.fvecs"), 4, 24))
small = os.path.join(tmp, "small.fvecs")
with open(small, "wb") as f:
    f.write(vecs([[float((i * 7 + j * 3) % 11) - 5 for j in range(16)] for i in range(24)], "f", 4))
builds = [
    ("flat-sign", ["--spec", "sign", "--base", small]),
    ("ivf-rabitq1", ["--spec", "rabitq:bits=1", "--base", small, "--ivf", "2"]),
    ("flat-int4-cosine", ["--spec", "int:bits=4", "--base", small, "--metric", "cosine"]),
    ("flat-fp16-l2-no-originals", ["--spec", "fp16", "--base", small, "--metric", "l2", "--no-originals"]),
    ("minilm-rabitq2", ["--spec", "rabitq:bits=2", "--base", base]),
]
for name, args in builds:
    out = os.path.join(tmp, name + ".vqx")
    subprocess.run([sys.argv[1], "index", "build", "--out", out] + args, check=True)
    payload = open(out, "rb").read()
    put("vqx", name, b"\x06" + payload)
    put("vqx", name + "-plain", b"\x04" + payload)
    # FAISS flat exports of the same indexes (vq export), for the `vq import` reader; an index the
    # exporter refuses (no originals) is skipped.
    faiss = os.path.join(tmp, name + ".faissindex")
    if subprocess.run([sys.argv[1], "export", out, "--format", "faiss", "--faiss-index", "flat", "--out", faiss],
                      capture_output=True).returncode == 0:
        put("faiss", name, open(faiss, "rb").read())
# An IndexIDMap: a flat index with a deleted row keeps its ids.
holes = os.path.join(tmp, "holes.vqx")
subprocess.run([sys.argv[1], "index", "build", "--out", holes, "--spec", "fp16", "--base", small], check=True)
if subprocess.run([sys.argv[1], "index", "delete", holes, "--ids", "3,7"], capture_output=True).returncode == 0 and \
        subprocess.run([sys.argv[1], "index", "compact", holes], capture_output=True).returncode == 0:
    faiss = os.path.join(tmp, "holes.faissindex")
    if subprocess.run([sys.argv[1], "export", holes, "--format", "faiss", "--faiss-index", "flat", "--out", faiss],
                      capture_output=True).returncode == 0:
        put("faiss", "flat-fp16-idmap", open(faiss, "rb").read())
for name in os.listdir(tmp):
    os.unlink(os.path.join(tmp, name))
os.rmdir(tmp)
