"""A tonemap-like kern kernel written by hand, with a NumPy reference and a Numba baseline.

Per pixel: 3x3 box blur with clamped neighbour reads, multiply-add (gain, bias),
clamp to [0, 1], luminance dot product, step at 0.5, mix toward the inverse colour.
Used by ``test_stencil.py`` (correctness, vectorisation) and ``bench_tonemap.py``.
"""

from __future__ import annotations

import numpy as np

LUMA = (0.2126, 0.7152, 0.0722, 0.0)


def _taps() -> str:
    """Clamped reads of the 3x3 neighbourhood, summed row by row: ``(l + c) + r`` per row,
    then ``(top + middle) + bottom`` — the order the NumPy and Numba versions use too."""
    lines = []
    for j, dy in enumerate((-1, 0, 1)):
        lines.append(f"  %yo{j} = arith.addi %y, %d{dy + 1} : index")
        lines.append(f"  %ylo{j} = arith.maxsi %yo{j}, %c0 : index")
        lines.append(f"  %yy{j} = arith.minsi %ylo{j}, %hm1 : index")
    for i, dx in enumerate((-1, 0, 1)):
        lines.append(f"  %xo{i} = arith.addi %x, %d{dx + 1} : index")
        lines.append(f"  %xlo{i} = arith.maxsi %xo{i}, %c0 : index")
        lines.append(f"  %xx{i} = arith.minsi %xlo{i}, %wm1 : index")
    for j in range(3):
        for i in range(3):
            lines.append(f"  %t{j}{i} = memref.load %src[%yy{j}, %xx{i}] : memref<?x?xvector<4xf32>>")
        lines.append(f"  %r{j}a = arith.addf %t{j}0, %t{j}1 : vector<4xf32>")
        lines.append(f"  %r{j} = arith.addf %r{j}a, %t{j}2 : vector<4xf32>")
    lines.append("  %r01 = arith.addf %r0, %r1 : vector<4xf32>")
    lines.append("  %sum = arith.addf %r01, %r2 : vector<4xf32>")
    lines.append("  %blur = arith.mulf %sum, %ninth : vector<4xf32>")
    return "\n".join(lines)


TONEMAP_IR = f"""
kern.kernel @tonemap rank 2 {{
^bb0(%src: memref<?x?xvector<4xf32>>, %out: memref<?x?xvector<4xf32>>, %gain: f32, %bias: f32):
  %x = kern.index 0
  %y = kern.index 1
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %d0 = arith.constant -1 : index
  %d1 = arith.constant 0 : index
  %d2 = arith.constant 1 : index
  %h = memref.dim %src, %c0 : memref<?x?xvector<4xf32>>
  %w = memref.dim %src, %c1 : memref<?x?xvector<4xf32>>
  %hm1 = arith.subi %h, %c1 : index
  %wm1 = arith.subi %w, %c1 : index
  %zero = arith.constant dense<0.0> : vector<4xf32>
  %one = arith.constant dense<1.0> : vector<4xf32>
  %ninth = arith.constant dense<0.111111112> : vector<4xf32>
  %luma = arith.constant dense<[{", ".join(repr(v) for v in LUMA)}]> : vector<4xf32>
  %half = arith.constant 0.5 : f32
  %fzero = arith.constant 0.0 : f32
  %fone = arith.constant 1.0 : f32
{_taps()}
  %g = vector.broadcast %gain : f32 to vector<4xf32>
  %b = vector.broadcast %bias : f32 to vector<4xf32>
  %ma = arith.mulf %blur, %g : vector<4xf32>
  %lin = arith.addf %ma, %b : vector<4xf32>
  %cl0 = arith.maximumf %lin, %zero : vector<4xf32>
  %c = arith.minimumf %cl0, %one : vector<4xf32>
  %cw = arith.mulf %c, %luma : vector<4xf32>
  %lum = vector.reduction <add>, %cw : vector<4xf32> into f32
  %ge = arith.cmpf oge, %lum, %half : f32
  %t = arith.select %ge, %fone, %fzero : f32
  %tv = vector.broadcast %t : f32 to vector<4xf32>
  %inv = arith.subf %one, %c : vector<4xf32>
  %diff = arith.subf %inv, %c : vector<4xf32>
  %dt = arith.mulf %diff, %tv : vector<4xf32>
  %r = arith.addf %c, %dt : vector<4xf32>
  memref.store %r, %out[%y, %x] : memref<?x?xvector<4xf32>>
  kern.yield
}}
"""


def tonemap_numpy(src: np.ndarray, gain: float, bias: float) -> np.ndarray:
    """The reference, in float32 with the kernel's order of operations."""
    h, w, _ = src.shape
    pad = np.pad(src, ((1, 1), (1, 1), (0, 0)), mode="edge")
    rows = [(pad[j: j + h, 0:w] + pad[j: j + h, 1: w + 1]) + pad[j: j + h, 2: w + 2] for j in range(3)]
    blur = ((rows[0] + rows[1]) + rows[2]) * np.float32(0.111111112)
    lin = blur * np.float32(gain) + np.float32(bias)
    c = np.minimum(np.maximum(lin, np.float32(0)), np.float32(1))
    cw = c * np.array(LUMA, np.float32)
    lum = ((cw[..., 0] + cw[..., 1]) + cw[..., 2]) + cw[..., 3]
    t = np.where(lum >= np.float32(0.5), np.float32(1), np.float32(0))[..., None]
    return c + ((np.float32(1) - c) - c) * t


def make_numba_tonemap(fastmath: bool = False):
    """The Numba baseline: the same arithmetic fused in one ``@njit(parallel=True)`` loop
    nest; ``fastmath=True`` lets LLVM reassociate (results then differ in the last bits)."""
    import numba

    @numba.njit(parallel=True, fastmath=fastmath, cache=False)
    def tonemap(src, out, gain, bias):
        h, w, _ = src.shape
        ninth = np.float32(0.111111112)
        luma = np.array(LUMA, np.float32)
        for y in numba.prange(h):
            y0, y2 = max(y - 1, 0), min(y + 1, h - 1)
            c = np.empty(4, np.float32)
            for x in range(w):
                x0, x2 = max(x - 1, 0), min(x + 1, w - 1)
                lum = np.float32(0.0)
                for k in range(4):
                    r0 = (src[y0, x0, k] + src[y0, x, k]) + src[y0, x2, k]
                    r1 = (src[y, x0, k] + src[y, x, k]) + src[y, x2, k]
                    r2 = (src[y2, x0, k] + src[y2, x, k]) + src[y2, x2, k]
                    v = ((r0 + r1) + r2) * ninth * gain + bias
                    v = min(max(v, np.float32(0.0)), np.float32(1.0))
                    c[k] = v
                    lum = v * luma[k] if k == 0 else lum + v * luma[k]
                t = np.float32(1.0) if lum >= np.float32(0.5) else np.float32(0.0)
                for k in range(4):
                    out[y, x, k] = c[k] + ((np.float32(1.0) - c[k]) - c[k]) * t

    return tonemap
