"""The lowering of ``graph.blur``: a box filter as neighbour reads, a sum and a scale.

``graph-fuse`` calls this while it builds a sink's fused map, because what one tap
reads depends on the fusion decision made there: a load from an image (the blur's
input, or a field graph-fuse materialised first), or the producing field recomputed
at the clamped neighbour. This module owns what a blur *is*: its window, its cost,
and the arithmetic of the mean; ``tap`` supplies each neighbour's value.

    %b = graph.blur %src radius 1        ==>   9 x tap(x+dx, y+dy), 8 x arith.addf,
                                               arith.mulf by 1/9 (a vector splat for vectors)

A blur of a volume is the (2r+1)^3 window, taps ordered dz, dy, dx (x fastest).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from xdsl.dialects import arith, vector
from xdsl.dialects.builtin import FloatAttr, VectorType, f32
from xdsl.ir import SSAValue

from ccomp.dialects import graph
from ccomp.passes.lowering.builder import IRBuilder

Tap = Callable[..., SSAValue]  # the input's value at (x, y[, z]), each i32


def taps(op: graph.BlurOp) -> int:
    """How many neighbours one output element reads."""
    r = op.radius.value.data
    return (2 * r + 1) ** graph.rank_of(op.result.type)


def blur_cost(op: graph.BlurOp, input_cost: int) -> int:
    """Ops per output element: every tap computes the input once and adds it."""
    return taps(op) * (input_cost + 1)


def lower_blur(b: IRBuilder, op: graph.BlurOp, coords: tuple[SSAValue, ...], tap: Tap) -> SSAValue:
    """The blur of ``op``'s input at ``coords`` (x, y[, z]): the mean of ``tap`` over the
    window, built with ``b`` (whose location should be the blur's)."""
    r = op.radius.value.data
    total: SSAValue | None = None
    for offsets in itertools.product(range(-r, r + 1), repeat=len(coords)):  # (dz,) dy, dx
        moved = [c if d == 0 else b.addi(c, b.i32(d)) for c, d in zip(coords, reversed(offsets))]
        value = tap(*moved)
        total = value if total is None else b.add(arith.AddfOp(total, value))
    scale = b.add(arith.ConstantOp(FloatAttr(1.0 / taps(op), f32)))
    if isinstance(total.type, VectorType):
        scale = b.add(vector.BroadcastOp(scale, total.type))
    return b.add(arith.MulfOp(total, scale))
