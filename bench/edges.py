"""Edges (examples/edges.cn) on a 2048x2048 float32 image: ccomp against stage-by-stage
NumPy and a fused Numba ``parallel=True`` kernel, in one process.

    python bench/edges.py [--size 2048] [--target llvm]

The NumPy version is the reference the other benchmarks check against; the Numba
version is the baseline a user would otherwise write (bench/targets.py imports both).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import best_time, compile_example, image_args, report_versus_numba, timed  # noqa: E402


def numpy_edges(src: np.ndarray) -> tuple[np.ndarray, float]:
    """What a NumPy user writes: a 5x5 clamped box blur, central differences (clamped),
    the gradient magnitude and its mean (accumulated in float64)."""
    h, w = src.shape
    p = np.pad(src, 2, mode="edge")
    total = np.zeros_like(src)
    for dy in range(5):  # the same row-major summation order as the .cn blur
        for dx in range(5):
            total += p[dy:dy + h, dx:dx + w]
    g = total * np.float32(0.04)
    q = np.pad(g, 1, mode="edge")
    gx = q[1:-1, 2:] - q[1:-1, :-2]
    gy = q[2:, 1:-1] - q[:-2, 1:-1]
    mag = np.sqrt(gx * gx + gy * gy)
    return mag, float(mag.sum(dtype=np.float64) / mag.size)


def make_numba_edges():
    """A fused Numba pipeline written the way that vectorises (like the tonemap one in
    bench/tonemap.py): rows in parallel; the vertical 5-tap sum into a per-row scratch
    padded at both ends, so the horizontal 5-tap loop is contiguous with no clamping;
    the gradient's first and last columns handled outside the inner loop. The row
    sums of the magnitude are kept per row and summed once, in float64."""
    import numba

    @numba.njit(parallel=True, fastmath=False)
    def blur5(src, g):
        h, w = src.shape
        for y in numba.prange(h):
            r0, r1, r2 = src[max(y - 2, 0)], src[max(y - 1, 0)], src[y]
            r3, r4 = src[min(y + 1, h - 1)], src[min(y + 2, h - 1)]
            col = np.empty(w + 4, dtype=np.float32)
            for i in range(w):
                col[i + 2] = r0[i] + r1[i] + r2[i] + r3[i] + r4[i]
            col[0] = col[1] = col[2]
            col[w + 3] = col[w + 2] = col[w + 1]
            o = g[y]
            for x in range(w):
                o[x] = (col[x] + col[x + 1] + col[x + 2] + col[x + 3] + col[x + 4]) * np.float32(0.04)

    @numba.njit(parallel=True, fastmath=False)
    def gradient(g, mag, rowsum):
        h, w = g.shape
        for y in numba.prange(h):
            up, r, dn, o = g[max(y - 1, 0)], g[y], g[min(y + 1, h - 1)], mag[y]
            for x in range(1, w - 1):
                gx = r[x + 1] - r[x - 1]
                gy = dn[x] - up[x]
                o[x] = np.sqrt(gx * gx + gy * gy)
            for x in (0, w - 1):  # the clamped columns (also right for w == 1)
                gx = r[min(x + 1, w - 1)] - r[max(x - 1, 0)]
                gy = dn[x] - up[x]
                o[x] = np.sqrt(gx * gx + gy * gy)
            s = 0.0
            for x in range(w):
                s += o[x]
            rowsum[y] = s

    def edges(src, g, mag, rowsum):
        blur5(src, g)
        gradient(g, mag, rowsum)
        return mag, float(rowsum.sum() / mag.size)

    return edges


def main() -> None:
    args = image_args(__doc__)
    n = args.size
    src = np.random.default_rng(0).random((n, n), dtype=np.float32)
    prog, compile_s = compile_example("edges", args.target)
    edges, numba_compile_s = timed(make_numba_edges)
    g, mag, rowsum = np.empty_like(src), np.empty_like(src), np.empty(n, np.float64)
    _, first_call = timed(lambda: edges(src, g, mag, rowsum))
    ref_mag, ref_mean = numpy_edges(src)
    for name, (m, mean) in (("ccomp", prog(src=src)), ("numba", edges(src, g, mag, rowsum))):
        err = max(float(np.abs(m - ref_mag).max()), abs(float(mean) - ref_mean))
        if err > 1e-5:
            raise SystemExit(f"{name} disagrees with NumPy: max abs error {err}")
    t_ccomp = best_time(lambda: prog(src=src))
    t_numba = best_time(lambda: edges(src, g, mag, rowsum))
    t_numpy = best_time(lambda: numpy_edges(src), repeat=3, warmup=1)
    report_versus_numba(f"edges {n}x{n} f32", args.target, prog, compile_s, numba_compile_s + first_call,
                        n * n / 1e6, (t_ccomp, t_numba, t_numpy))


if __name__ == "__main__":
    main()
