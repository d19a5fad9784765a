"""Which parts of a kernel body depend on ``x``, and which ``x`` clamps vanish inside.

Two facts about a kernel body let the backend emit an inner ``x`` loop that LLVM
vectorises:

* **Row-invariant ops.** Top-level, side-effect-free ops that do not depend on
  ``kern.index 0`` (constants, sizes, ``y``-only index math, uniforms) are emitted
  once per row, before the ``x`` loops. Integer division and remainder stay in the
  loop: hoisted out of a loop that may run zero times they could trap.
* **Clamps of x.** Neighbour reads clamp their column, ``minsi(maxsi(x + c, 0), w - 1)``.
  The ``smax``/``smin`` make the address non-affine in ``x``, which stops LLVM from
  vectorising the loop. Every such clamp is the identity on an interval of ``x``
  computable per row, so the backend runs a second copy of the body over the
  intersection of those intervals — the image interior — with each clamp replaced by
  its operand, and the clamped copy only over the border columns.

A clamp is recognised as ``arith.minsi``/``arith.maxsi`` (either operand order) of a
row-invariant bound and an *x-affine* value: ``kern.index 0``, ``addi``/``subi`` of an
x-affine value and a row-invariant one, or another recognised clamp (inside the
interior it equals its operand, so two-sided clamps compose). Only ``index``/``i64``
values are considered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xdsl.dialects.builtin import IndexType, IntegerType
from xdsl.ir import Block, Operation, SSAValue

_NOT_HOISTED = {
    "arith.divsi", "arith.divui", "arith.remsi", "arith.remui",
    "arith.floordivsi", "arith.ceildivsi", "arith.ceildivui",
}
_ALWAYS_HOISTABLE = {"kern.extent", "memref.dim"}
_PURE_PREFIXES = ("arith.", "math.", "vector.")


@dataclass(frozen=True)
class Clamp:
    """``op`` bounds its x-affine operand ``operand = x + sum(sign * term)`` by ``bound``:
    from above (``arith.minsi``) when ``upper``, else from below (``arith.maxsi``)."""

    op: Operation
    operand: SSAValue
    terms: tuple[tuple[int, SSAValue], ...]
    bound: SSAValue
    upper: bool


@dataclass
class BodyPlan:
    """The analysis result: ops to emit once per row, and the clamps of ``x``."""

    hoisted: list[Operation] = field(default_factory=list)  # in program order
    hoisted_ops: set[Operation] = field(default_factory=set)
    clamps: list[Clamp] = field(default_factory=list)


def _is_i64_like(v: SSAValue) -> bool:
    t = v.type
    return isinstance(t, IndexType) or (isinstance(t, IntegerType) and t.width.data == 64)


def _hoistable(op: Operation, invariant: set[SSAValue], supported: set[str]) -> bool:
    if op.regions or op.name in _NOT_HOISTED or any(o not in invariant for o in op.operands):
        return False
    if op.name == "kern.index":
        return op.properties["dim"].value.data != 0  # type: ignore[attr-defined]
    if op.name in _ALWAYS_HOISTABLE:
        return True
    return op.name.startswith(_PURE_PREFIXES) and op.name in supported


def plan_body(block: Block, supported: set[str]) -> BodyPlan:
    """Analyse a kernel body: ``supported`` names the ops of the pure op tables."""
    plan = BodyPlan()
    invariant: set[SSAValue] = set(block.args)
    # x-affine value -> its terms: x + sum(sign * term)
    affine: dict[SSAValue, tuple[tuple[int, SSAValue], ...]] = {}
    for op in block.ops:
        if _hoistable(op, invariant, supported):
            plan.hoisted.append(op)
            plan.hoisted_ops.add(op)
            invariant.update(op.results)
            continue
        if len(op.results) != 1 or not _is_i64_like(op.results[0]):
            continue
        res = op.results[0]
        if op.name == "kern.index":
            affine[res] = ()
        elif op.name in ("arith.addi", "arith.subi"):
            a, b = op.operands
            if a in affine and b in invariant:
                affine[res] = affine[a] + ((1 if op.name == "arith.addi" else -1, b),)
            elif b in affine and a in invariant and op.name == "arith.addi":
                affine[res] = affine[b] + ((1, a),)
        elif op.name in ("arith.minsi", "arith.maxsi"):
            a, b = op.operands
            if a in invariant and b in affine:
                a, b = b, a
            if a in affine and b in invariant:
                plan.clamps.append(Clamp(op, a, affine[a], b, op.name == "arith.minsi"))
                affine[res] = affine[a]
    return plan
