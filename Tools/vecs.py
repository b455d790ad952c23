"""The .fvecs / .ivecs reader and recall@10 that the Python peer tools share.

.fvecs / .ivecs: per row a little-endian int32 dimension d, then d float32 / int32 values.
"""
import numpy as np


def read_vecs(path, dtype):
    """The rows of an .fvecs (dtype float32) or .ivecs (int32) file as a contiguous (n, d) array.

    Raises ValueError naming the file when it is empty, truncated or has rows of different dimensions.
    """
    raw = np.fromfile(path, dtype=np.int32)
    if raw.size == 0:
        raise ValueError(f"{path}: empty file")
    d = int(raw[0])
    if d <= 0 or raw.size % (d + 1) != 0:
        raise ValueError(f"{path}: truncated (or not a .vecs file: first dimension {d})")
    rows = raw.reshape(-1, d + 1)
    if not (rows[:, 0] == d).all():
        raise ValueError(f"{path}: inconsistent dimensions")
    return np.ascontiguousarray(rows[:, 1:]).view(dtype)


def recall_at_10(ids, gt):
    """Mean over queries of |found top-10 ∩ true top-10| / 10."""
    return float(np.mean([len(set(ids[i][:10].tolist()) & set(gt[i][:10].tolist())) / 10 for i in range(len(ids))]))
