"""What ``graph.histogram`` becomes (used by graph-to-kern): host code that checks and
prepares the range, a kernel that zeroes the bins, and per point of the counting
kernel the bin of its value and one ``kern.atomic_add``.

The bins must equal ``numpy.histogram(values, bins, range=(lo, hi))`` with ``lo``,
``hi`` given as f32, including values exactly on a bin edge. NumPy then computes in
f32 (``numpy/lib/_histograms_impl.py``, the equal-bins fast path):

- it keeps ``lo <= x <= hi`` (NaN fails both);
- widens an empty range: ``lo == hi`` counts in ``[lo - 0.5, hi + 0.5]``;
- the edges are ``linspace``'s: ``edge[i] = f32(f32(i * step) + lo)`` with
  ``step = f32(f32(hi - lo) / bins)``, and ``edge[bins] = hi``;
- it estimates ``i = int((x - lo) / (hi - lo) * bins)``, moves ``i == bins`` to
  ``bins - 1``, then corrects by one against the edges: ``x < edge[i]`` goes down,
  ``x >= edge[i + 1]`` goes up unless ``i`` is the last bin (closed on the right).

The estimate may be off by one ulp on a device (OpenCL and GLSL divide to 2.5 ulp),
which the edge correction absorbs; the edges themselves must be exact, so ``step``
and the widened range are computed on the host (whose arithmetic is NumPy's), and the
backends keep ``i * step + lo`` as two rounded operations (no fused multiply-add).
NumPy's denormal-step special case (``step == 0``) is not followed: such a range is
below 1e-38 wide.
"""

from __future__ import annotations

from xdsl.dialects import arith, math
from xdsl.dialects.builtin import DYNAMIC_INDEX, MemRefType, f32, i32
from xdsl.dialects.builtin import LocationAttr as Location
from xdsl.ir import SSAValue

from ccomp.dialects import kern
from ccomp.passes.lowering.builder import IRBuilder, KernelBuilder

BINS = MemRefType(i32, [DYNAMIC_INDEX])
"""The counters of a histogram, one ``i32`` per bin."""


def zero_kernel(name: str, loc: Location) -> kern.KernelOp:
    """``bins[i] = 0`` over a rank-1 launch of the bin count: the counters start at zero
    (a pooled buffer holds whatever it held)."""
    kb = KernelBuilder(name, 1, [BINS], loc)
    kb.store(kb.i32(0), kb.args[0], kb.point(0))
    return kb.finish()


def _cmpf(b: IRBuilder, pred: str, x: SSAValue, y: SSAValue) -> SSAValue:
    return b.add(arith.CmpfOp(x, y, pred))


def host_range(b: IRBuilder, lo: SSAValue, hi: SSAValue, bins: int) -> tuple[SSAValue, SSAValue, SSAValue]:
    """On the host: stop (``kern.check``) on a range NumPy refuses — not finite, or
    ``lo > hi`` — or one wider than f32 holds; widen an empty one. Returns ``(lo, hi,
    step)`` as the counting kernel binds them."""
    inf = b.f32(float("inf"))
    finite = [_cmpf(b, "olt", b.add(math.AbsFOp(v)), inf) for v in (lo, hi)]
    b.add(kern.CheckOp(b.add(arith.AndIOp(*finite)), "histogram() range [{0}, {1}] is not finite", [lo, hi]))
    b.add(kern.CheckOp(_cmpf(b, "ole", lo, hi), "histogram() needs lo <= hi, got lo = {0}, hi = {1}", [lo, hi]))
    width = b.add(arith.SubfOp(hi, lo))
    b.add(kern.CheckOp(_cmpf(b, "olt", width, inf), "histogram() range [{0}, {1}] is wider than f32 can hold",
                       [lo, hi]))
    empty = _cmpf(b, "oeq", lo, hi)
    half = b.f32(0.5)
    lo = b.select(empty, b.add(arith.SubfOp(lo, half)), lo)
    hi = b.select(empty, b.add(arith.AddfOp(hi, half)), hi)
    step = b.add(arith.DivfOp(b.add(arith.SubfOp(hi, lo)), b.f32(float(bins))))
    return lo, hi, step


def count(b: IRBuilder, x: SSAValue, lo: SSAValue, hi: SSAValue, step: SSAValue, bins: int,
          counters: SSAValue) -> None:
    """In the counting kernel: add one to the bin of ``x`` (nothing outside ``[lo, hi]``
    or for NaN), found as NumPy finds it (module docstring)."""
    inside = b.add(arith.AndIOp(_cmpf(b, "oge", x, lo), _cmpf(b, "ole", x, hi)))

    def add_one(t: IRBuilder) -> list[SSAValue]:
        last = t.i32(bins - 1)
        scaled = t.add(arith.MulfOp(t.add(arith.DivfOp(t.add(arith.SubfOp(x, lo)), t.add(arith.SubfOp(hi, lo)))),
                                    t.f32(float(bins))))
        i = t.mini(t.maxi(t.add(arith.FPToSIOp(scaled, i32)), t.i32(0)), last)

        def edge(k: SSAValue) -> SSAValue:
            at = t.add(arith.AddfOp(t.add(arith.MulfOp(t.add(arith.SIToFPOp(k, f32)), step)), lo))
            return t.select(t.cmpi("eq", k, t.i32(bins)), hi, at)
        i = t.select(_cmpf(t, "olt", x, edge(i)), t.subi(i, t.i32(1)), i)
        up = t.add(arith.AndIOp(_cmpf(t, "oge", x, edge(t.addi(i, t.i32(1)))), t.cmpi("ne", i, last)))
        i = t.mini(t.maxi(t.select(up, t.addi(i, t.i32(1)), i), t.i32(0)), last)  # memory safety only
        t.add(kern.AtomicAddOp(t.i32(1), counters, [t.to_index(i)]))
        return []
    b.if_(inside, add_one)
