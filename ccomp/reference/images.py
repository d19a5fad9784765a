"""Image reads, the box blur and reductions of the reference evaluator.

These are the ``graph`` ops whose meaning is more than one NumPy call. Each follows
the arithmetic order the backends are held to (see DESIGN.md, "Reference semantics"),
because float32 results depend on it: bilinear weights and blur sums are float32 in
the stated order; only reductions sum in float64.
"""

from __future__ import annotations

import itertools

import numpy as np

from ccomp.reference.values import EvaluationError, is_float


def extent_grid(width: int, height: int, *depth: int) -> tuple[np.ndarray, ...]:
    """The int32 ``(x, y)`` coordinates of every element of an extent, each (H, W); of a
    3-D extent ``(x, y, z)``, each (D, H, W)."""
    grids = np.indices((*depth, height, width), dtype=np.int32)
    return tuple(grids[::-1])


def clamp_read(image: np.ndarray, *coords: np.ndarray) -> np.ndarray:
    """``image[clamp(y, 0, H-1), clamp(x, 0, W-1)]`` (a volume: ``[z, y, x]``): reads
    outside repeat the edge."""
    sizes = image.shape[:len(coords)][::-1]  # (W, H[, D])
    if 0 in sizes:
        raise EvaluationError(f"cannot read from an empty image of shape {image.shape}")
    return image[tuple(np.clip(c, 0, n - 1) for c, n in zip(coords, sizes))[::-1]]


def read_over(image: np.ndarray, *extent: int) -> np.ndarray:
    """An image as seen over an extent (width, height[, depth]): itself if the sizes
    agree, else clamped reads."""
    if image.shape[:len(extent)] == extent[::-1]:
        return image
    return clamp_read(image, *extent_grid(*extent))


def sample(image: np.ndarray, uv: np.ndarray, rank: int = 2) -> np.ndarray:
    """Bilinear, clamp-to-edge read at normalised ``uv`` with texel centres at (i+0.5)/size;
    of a volume (``rank`` 3, ``image`` (D, H, W[, C]), ``uv`` with three lanes) trilinear.

    Computed in the image's float type step by step: ``px = u*W - 0.5``, ``x0 =
    floor(px)``, ``fx = px - x0`` (likewise y and z), then ``top = a*(1-fx) + b*fx``,
    ``bottom = c*(1-fx) + d*fx``, ``top*(1-fy) + bottom*fy``; in 3-D that is done on the
    slices z0 and z1 and the two results are blended ``s0*(1-fz) + s1*fz``. At a texel
    centre ``fx == 0`` and the texel comes back exactly.
    """
    if not is_float(image.dtype):
        raise EvaluationError(f"graph.sample needs a float image, got {image.dtype}")
    sizes = image.shape[:rank][::-1]  # (width, height[, depth])
    f32 = np.float32
    lanes = (1,) * (image.ndim - rank)
    dtype = image.dtype.type
    idx, frac = [], []
    for lane, n in enumerate(sizes):
        p = uv[..., lane] * f32(n) - f32(0.5)
        p0 = np.floor(p)
        # Clip before converting so that huge or NaN coordinates stay valid indices;
        # the reads clamp again, so this changes no result.
        idx.append(np.clip(np.nan_to_num(p0, nan=-1.0), -1, n).astype(np.int32))
        frac.append(np.asarray(p - p0).astype(image.dtype).reshape(np.shape(p) + lanes))
    one = dtype(1)

    def plane(*z: np.ndarray) -> np.ndarray:
        (ix, iy), (fx, fy) = idx[:2], frac[:2]
        a, b = clamp_read(image, ix, iy, *z), clamp_read(image, ix + 1, iy, *z)
        c, d = clamp_read(image, ix, iy + 1, *z), clamp_read(image, ix + 1, iy + 1, *z)
        top = a * (one - fx) + b * fx
        bottom = c * (one - fx) + d * fx
        return top * (one - fy) + bottom * fy

    if rank == 2:
        return plane()
    fz = frac[2]
    return plane(idx[2]) * (one - fz) + plane(idx[2] + 1) * fz


def blur(image: np.ndarray, radius: int, *extent: int) -> np.ndarray:
    """The (2r+1)^2 box mean over an extent (width, height), reading ``image`` with
    clamped edges; over a 3-D extent (width, height, depth) the (2r+1)^3 mean.

    Sums in the image's float type, ``dz`` outer, then ``dy``, ``dx`` inner, starting from
    zero, then multiplies by the reciprocal ``1/(2r+1)^n`` rounded to that type — the
    order a straightforward kernel loop uses, so float32 results match bit for bit.
    """
    if not is_float(image.dtype):
        raise EvaluationError(f"graph.blur needs a float image, got {image.dtype}")
    rank = len(extent)
    shape = extent[::-1]  # (H, W) or (D, H, W)
    if 0 in image.shape[:rank]:
        return np.zeros(shape + image.shape[rank:], image.dtype)
    grids = np.indices(shape, dtype=np.int64)  # outermost axis first
    acc = np.zeros(shape + image.shape[rank:], image.dtype)
    for offsets in itertools.product(range(-radius, radius + 1), repeat=rank):
        index = tuple(np.clip(g + d, 0, n - 1) for g, d, n in zip(grids, offsets, image.shape))
        acc = acc + image[index]
    return acc * image.dtype.type(1.0 / (2 * radius + 1) ** rank)


def reduce(kind: str, values: np.ndarray, rank: int = 2) -> np.ndarray:
    """Reduce an (H, W) + lanes array (``rank`` 3: (D, H, W) + lanes) over its extent, per lane.

    Floats: ``add`` sums in float64 and rounds once to the element type; ``mean`` is
    that float64 sum divided by W*H, then rounded; ``min``/``max`` propagate NaN.
    Integers: ``add`` wraps like repeated i32 addition; ``mean`` is the exact sum over
    W*H in float64, truncated toward zero. An empty extent gives the identity of
    ``add``/``min``/``max`` (0, +inf/INT_MAX, -inf/INT_MIN) and NaN for a float mean.
    """
    dtype = values.dtype
    if dtype == np.bool_:
        raise EvaluationError("graph.reduce over i1 is not supported")
    axes = tuple(range(rank))
    count = int(np.prod(values.shape[:rank]))
    floating = is_float(dtype)
    if kind in ("add", "mean"):
        total = values.sum(axis=axes, dtype=np.float64 if floating else np.int64)
        if kind == "add":
            return np.asarray(total).astype(dtype)
        if count == 0 and not floating:
            raise EvaluationError("graph.reduce mean of an integer field over an empty extent")
        return (np.asarray(total, dtype=np.float64) / np.float64(count)).astype(dtype)
    if kind not in ("min", "max"):
        raise EvaluationError(f"unknown graph.reduce kind {kind!r}")
    if count == 0:
        if floating:
            identity = np.inf if kind == "min" else -np.inf
        else:
            identity = np.iinfo(dtype).max if kind == "min" else np.iinfo(dtype).min
        return np.full(values.shape[rank:], identity, dtype)
    return np.asarray(values.min(axis=axes) if kind == "min" else values.max(axis=axes))


def histogram(values: np.ndarray, bins: int, lo: np.float32, hi: np.float32) -> np.ndarray:
    """``histogram()``: ``numpy.histogram`` of the f32 ``values`` with ``range=(lo, hi)``
    given as f32 scalars, so NumPy computes the bin edges and indices in f32 as the
    targets do; NaN and values outside ``[lo, hi]`` are not counted. A range that is not
    finite, reversed or wider than f32 can hold is an error (NumPy's first two errors;
    the third, which NumPy silently miscounts, is ccomp's)."""
    lo, hi = np.float32(lo), np.float32(hi)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise EvaluationError(f"histogram() range [{lo}, {hi}] is not finite")
    if lo > hi:
        raise EvaluationError(f"histogram() needs lo <= hi, got lo = {lo}, hi = {hi}")
    if not np.isfinite(hi - lo):
        raise EvaluationError(f"histogram() range [{lo}, {hi}] is wider than f32 can hold")
    flat = values.reshape(-1)
    counts, _ = np.histogram(flat[~np.isnan(flat)], bins, range=(lo, hi))
    return counts.astype(np.int32)
