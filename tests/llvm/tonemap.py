"""A tonemap-like kern kernel written by hand, with a NumPy reference and a Numba baseline.

Per pixel: 3x3 box blur with clamped neighbour reads, multiply-add (gain, bias),
clamp to [0, 1], luminance dot product, step at 0.5, mix toward the inverse colour.
Used by ``test_tonemap.py`` (correctness, vectorisation) and ``bench_tonemap.py``.
"""

from __future__ import annotations

import numpy as np

LUMA = (0.2126, 0.7152, 0.0722, 0.0)


def _taps() -> str:
    lines = []
    for j, dy in enumerate((-1, 0, 1)):
        lines.append(f"  %yo{j} = arith.addi %y, %d{dy + 1} : index")
        lines.append(f"  %ylo{j} = arith.maxsi %yo{j}, %c0 : index")
        lines.append(f"  %yy{j} = arith.minsi %ylo{j}, %hm1 : index")
    for i, dx in enumerate((-1, 0, 1)):
        lines.append(f"  %xo{i} = arith.addi %x, %d{dx + 1} : index")
        lines.append(f"  %xlo{i} = arith.maxsi %xo{i}, %c0 : index")
        lines.append(f"  %xx{i} = arith.minsi %xlo{i}, %wm1 : index")
    acc = "%zero"
    for j in range(3):
        for i in range(3):
            lines.append(f"  %t{j}{i} = memref.load %src[%yy{j}, %xx{i}] : memref<?x?xvector<4xf32>>")
            lines.append(f"  %s{j}{i} = arith.addf {acc}, %t{j}{i} : vector<4xf32>")
            acc = f"%s{j}{i}"
    lines.append(f"  %blur = arith.mulf {acc}, %ninth : vector<4xf32>")
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
    acc = np.zeros_like(src)
    for j in range(3):
        for i in range(3):
            acc = acc + pad[j: j + h, i: i + w]
    blur = acc * np.float32(0.111111112)
    lin = blur * np.float32(gain) + np.float32(bias)
    c = np.minimum(np.maximum(lin, np.float32(0)), np.float32(1))
    lum = (c * np.array(LUMA, np.float32)).sum(axis=-1, dtype=np.float32)
    t = np.where(lum >= np.float32(0.5), np.float32(1), np.float32(0))[..., None]
    return c + ((np.float32(1) - c) - c) * t


def make_numba_tonemap():
    """The Numba baseline: the same arithmetic fused in one ``@njit(parallel=True)`` loop nest."""
    import numba

    @numba.njit(parallel=True, fastmath=False, cache=False)
    def tonemap(src, out, gain, bias):
        h, w, _ = src.shape
        ninth = np.float32(0.111111112)
        l0, l1, l2, l3 = np.float32(LUMA[0]), np.float32(LUMA[1]), np.float32(LUMA[2]), np.float32(LUMA[3])
        for y in numba.prange(h):
            for x in range(w):
                a0 = a1 = a2 = a3 = np.float32(0.0)
                for dy in range(-1, 2):
                    yy = min(max(y + dy, 0), h - 1)
                    for dx in range(-1, 2):
                        xx = min(max(x + dx, 0), w - 1)
                        a0 += src[yy, xx, 0]
                        a1 += src[yy, xx, 1]
                        a2 += src[yy, xx, 2]
                        a3 += src[yy, xx, 3]
                c0 = min(max(a0 * ninth * gain + bias, np.float32(0)), np.float32(1))
                c1 = min(max(a1 * ninth * gain + bias, np.float32(0)), np.float32(1))
                c2 = min(max(a2 * ninth * gain + bias, np.float32(0)), np.float32(1))
                c3 = min(max(a3 * ninth * gain + bias, np.float32(0)), np.float32(1))
                lum = c0 * l0 + c1 * l1 + c2 * l2 + c3 * l3
                t = np.float32(1.0) if lum >= np.float32(0.5) else np.float32(0.0)
                out[y, x, 0] = c0 + ((np.float32(1) - c0) - c0) * t
                out[y, x, 1] = c1 + ((np.float32(1) - c1) - c1) * t
                out[y, x, 2] = c2 + ((np.float32(1) - c2) - c2) * t
                out[y, x, 3] = c3 + ((np.float32(1) - c3) - c3) * t

    return tonemap
