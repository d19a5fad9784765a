"""Tonemap (examples/tonemap.cn) on a 2048x2048 RGBA float32 image: ccomp against
stage-by-stage NumPy and a fused Numba ``parallel=True`` kernel, in one process.

    python bench/tonemap.py [--size 2048] [--target llvm]

Prints compile time, run time, megapixels/s and the ratio of each contender to
Numba. Checks that all three agree before timing anything.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import best_time, compile_example, image_args, report_versus_numba, timed  # noqa: E402

LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
DARK = np.array([0.05, 0.05, 0.2, 1.0], dtype=np.float32)
LIGHT = np.array([1.0, 0.9, 0.6, 1.0], dtype=np.float32)


def numpy_tonemap(src: np.ndarray, gain: float) -> np.ndarray:
    """What a NumPy user writes: one whole-array step per node."""
    h, w, _ = src.shape
    p = np.pad(src, ((1, 1), (1, 1), (0, 0)), mode="edge")
    soft = sum(p[dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)) * np.float32(1.0 / 9.0)
    lifted = np.clip(soft * np.float32(gain) + np.float32(0.1), 0.0, 1.0)
    lum = lifted[..., 0] * LUMA[0] + lifted[..., 1] * LUMA[1] + lifted[..., 2] * LUMA[2]
    t = (lum >= 0.5).astype(np.float32)[..., None]
    return DARK * (1 - t) + LIGHT * t, lum


def make_numba_tonemap():
    """A fused Numba kernel written the way that vectorises: rows in parallel, each row
    treated as a flat float array so every inner loop is contiguous, with no min/max
    and no negative indices inside it (edges are padded in a per-row scratch)."""
    import numba

    l0, l1, l2 = (np.float32(v) for v in LUMA)
    dark, light = DARK, LIGHT

    @numba.njit(parallel=True, fastmath=False)
    def kernel(src, gain, out):
        h, w, _ = src.shape
        n = 4 * w
        flat = src.reshape(h, n)
        oflat = out.reshape(h, n)
        inv9 = np.float32(1.0 / 9.0)
        for y in numba.prange(h):
            r0 = flat[max(y - 1, 0)]
            r1 = flat[y]
            r2 = flat[min(y + 1, h - 1)]
            col = np.empty(n + 8, dtype=np.float32)
            for i in range(n):
                col[i + 4] = r0[i] + r1[i] + r2[i]
            for c in range(4):
                col[c] = col[c + 4]
                col[n + 4 + c] = col[n + c]
            lifted = np.empty(n, dtype=np.float32)
            for i in range(n):
                v = (col[i] + col[i + 4] + col[i + 8]) * inv9 * gain + np.float32(0.1)
                lifted[i] = min(max(v, np.float32(0.0)), np.float32(1.0))
            o = oflat[y]
            for x in range(w):
                lum = lifted[4 * x] * l0 + lifted[4 * x + 1] * l1 + lifted[4 * x + 2] * l2
                t = np.float32(0.0) if lum < np.float32(0.5) else np.float32(1.0)
                for c in range(4):
                    o[4 * x + c] = dark[c] * (np.float32(1.0) - t) + light[c] * t

    return kernel


def main() -> None:
    args = image_args(__doc__)
    n = args.size
    rng = np.random.default_rng(0)
    src = rng.random((n, n, 4), dtype=np.float32)
    gain = np.float32(1.5)

    prog, compile_s = compile_example("tonemap", args.target)
    kernel, numba_compile_s = timed(make_numba_tonemap)
    out_nb = np.empty_like(src)
    _, first_call = timed(lambda: kernel(src, gain, out_nb))
    ours = prog(src=src, gain=gain)
    ref, lum = numpy_tonemap(src, gain)
    # Pixels whose luminance sits within rounding of the 0.5 threshold may legitimately
    # land on either side; everything else must agree to 1e-5.
    clear = np.abs(lum - 0.5) > 1e-5
    for name, got in (("ccomp", ours), ("numba", out_nb)):
        err = float(np.abs(got - ref)[clear].max())
        if err > 1e-5:
            raise SystemExit(f"{name} disagrees with NumPy: max abs error {err}")

    t_ccomp = best_time(lambda: prog(src=src, gain=gain))
    t_numba = best_time(lambda: kernel(src, gain, out_nb))
    t_numpy = best_time(lambda: numpy_tonemap(src, gain), repeat=3, warmup=1)
    report_versus_numba(f"tonemap {n}x{n} RGBA f32", args.target, prog, compile_s, numba_compile_s + first_call,
                        n * n / 1e6, (t_ccomp, t_numba, t_numpy), per_call=True)


if __name__ == "__main__":
    main()
