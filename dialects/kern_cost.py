"""Static work estimates of ``kern.kernel`` bodies: floating-point operations and
bytes of buffer traffic per point of the index space.

Two parts need the same numbers and may not import each other: the
``partition-devices`` pass (which places kernels by estimated time) and the runtime's
profiler (which turns measured time into GB/s and GFLOP/s). Both may import
``ccomp.dialects``, so the estimator lives here and reads nothing but the IR.

The model, deliberately simple and documented in ``docs/profiling.md``:

* a float ``arith``/``math`` op is one FLOP per lane (``fma`` two); integer and index
  arithmetic is address work and does not count;
* every buffer binding a point touches outside a loop counts one element, however
  many taps read it (neighbouring points share the cache lines: a 5-point stencil
  moves one element in and one out per point, not six);
* inside an ``scf.for`` every op weighs its static trip count when the bounds are
  constants, else ``LOOP_TRIPS`` (a sparse row, a block of steps), as
  ``llvm_abi.point_weight`` weighs loops for the thread rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects import arith, memref, scf
from xdsl.dialects.builtin import IntegerAttr, MemRefType, ModuleOp, VectorType
from xdsl.ir import Attribute, Operation, SSAValue

from ccomp.dialects import kern

LOOP_TRIPS = 32  # iterations assumed for a loop whose bounds are only known at run time
_TWO_FLOPS = {"math.fma", "vector.fma"}
_FLOAT_PREFIXES = ("arith.addf", "arith.subf", "arith.mulf", "arith.divf", "arith.remf", "arith.negf",
                   "arith.maximumf", "arith.minimumf", "arith.maxnumf", "arith.minnumf", "arith.cmpf")


@dataclass(frozen=True)
class KernelCost:
    """Work of one point of a kernel: ``flops`` float operations, ``bytes`` of buffer
    traffic (loads and stores), ``depth``, how deeply its loops nest (0: none), and
    ``gathers``: whether a point reads elements other than its own (a stencil, a sparse
    row). Drivers run such kernels at very different rates from streaming ones (PoCL's
    vectoriser gives up on clamped neighbour reads), so profiles measure both."""

    name: str
    flops: float
    bytes: float
    depth: int
    gathers: bool = False  # loads other points' elements (a stencil's taps, a sparse row's columns)

    def launch(self, points: int) -> tuple[float, float]:
        """(FLOPs, bytes) of a launch over ``points`` points."""
        return self.flops * points, self.bytes * points


def _lanes(t: Attribute) -> int:
    return t.get_shape()[0] if isinstance(t, VectorType) else 1


def _element_bytes(t: MemRefType) -> int:
    element = t.element_type
    lanes = _lanes(element)
    scalar = element.element_type if isinstance(element, VectorType) else element
    width = getattr(scalar, "width", None)
    bits = width.data if width is not None else getattr(scalar, "bitwidth", 64)
    return max(1, (bits + 7) // 8) * lanes


def _trips(op: scf.ForOp) -> float:
    """The static trip count of ``op``, or ``LOOP_TRIPS`` when a bound is dynamic."""
    values = []
    for v in (op.lb, op.ub, op.step):
        owner = v.owner
        if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr):
            values.append(owner.value.value.data)
        else:
            return float(LOOP_TRIPS)
    lb, ub, step = values
    return float(max(0, -(-(ub - lb) // step))) if step > 0 else float(LOOP_TRIPS)


def _is_float_op(op: Operation) -> bool:
    if op.name.startswith("math.") or op.name in _TWO_FLOPS:
        return any(_is_float_type(r.type) for r in op.results)
    return op.name.startswith(_FLOAT_PREFIXES)


def _is_float_type(t: Attribute) -> bool:
    t = t.element_type if isinstance(t, VectorType) else t
    return t.name.startswith("f") if hasattr(t, "name") else False


def kernel_cost(kernel: kern.KernelOp) -> KernelCost:
    """The per-point work of ``kernel`` (see the module docstring)."""
    flops = 0.0
    touched: dict[SSAValue, int] = {}  # buffer -> element bytes, accessed outside loops
    looped = 0.0
    depth = 0
    own = _own_point(kernel)
    gathers = False

    def walk(ops: list[Operation], weight: float, level: int) -> None:
        nonlocal flops, looped, depth, gathers
        for op in ops:
            if isinstance(op, scf.ForOp):
                depth = max(depth, level + 1)
                walk(list(op.body.block.ops), weight * _trips(op), level + 1)
                continue
            for region in op.regions:  # scf.if: both sides counted, as an upper bound
                for block in region.blocks:
                    walk(list(block.ops), weight, level)
            if isinstance(op, (memref.LoadOp, memref.StoreOp, kern.AtomicAddOp)):
                ref = op.memref if not isinstance(op, kern.AtomicAddOp) else op.buffer
                size = _element_bytes(ref.type)
                if isinstance(op, memref.LoadOp) and list(op.indices) != own:
                    gathers = True
                if weight == 1:
                    touched[ref] = size
                else:
                    looped += weight * size
            elif _is_float_op(op):
                lanes = max((_lanes(r.type) for r in op.results), default=1)
                flops += weight * lanes * (2 if op.name in _TWO_FLOPS else 1)

    walk(list(kernel.body.block.ops), 1.0, 0)
    return KernelCost(kernel.kernel_name, flops, float(sum(touched.values())) + looped, depth, gathers)


def _own_point(kernel: kern.KernelOp) -> list[SSAValue | None]:
    """The indices of a point's own element, ``[index rank-1, ..., index 0]``."""
    found: dict[int, SSAValue] = {}
    for op in kernel.walk():
        if isinstance(op, kern.IndexOp):
            found.setdefault(op.dim.value.data, op.result)
    return [found.get(d) for d in reversed(range(kernel.rank.value.data))]


def module_costs(module: ModuleOp) -> dict[str, KernelCost]:
    """``kernel_cost`` of every kernel of ``module``, by name."""
    return {op.kernel_name: kernel_cost(op) for op in module.walk() if isinstance(op, kern.KernelOp)}


def points(grid: tuple[int, ...] | list[int]) -> int:
    """The number of points of an index space."""
    n = 1
    for g in grid:
        n *= max(0, int(g))
    return n


__all__ = ["KernelCost", "LOOP_TRIPS", "kernel_cost", "module_costs", "points"]
