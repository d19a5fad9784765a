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
x-affine value and a row-invariant one, an ``index_cast`` of one, or another
recognised clamp (inside the interior it equals its operand, so two-sided clamps
compose).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xdsl.dialects import memref
from xdsl.dialects.builtin import IndexType, IntegerType
from xdsl.ir import Block, Operation, SSAValue

from ccomp.dialects import kern

_NOT_HOISTED = {
    "arith.divsi", "arith.divui", "arith.remsi", "arith.remui",
    "arith.floordivsi", "arith.ceildivsi", "arith.ceildivui",
}
_ALWAYS_HOISTABLE = (kern.ExtentOp, memref.DimOp)
_PURE_PREFIXES = ("arith.", "math.", "vector.")


Terms = tuple[tuple[int, SSAValue], ...]  # x + sum(sign * term)


@dataclass(frozen=True)
class Bound:
    """``x + sum(sign * term) <= bound`` when ``upper``, else ``>= bound``: one side of
    the interval where the interior copy of the body is valid. ``bound`` is a
    row-invariant value or a constant."""

    terms: Terms
    bound: SSAValue | int
    upper: bool


@dataclass(frozen=True)
class Clamp:
    """``op`` (``arith.minsi``/``arith.maxsi``) equals its x-affine ``operand`` wherever
    ``bound`` holds."""

    op: Operation
    operand: SSAValue
    bound: Bound


@dataclass
class BodyPlan:
    """The analysis result: ops to emit once per row, the clamps of ``x``, and every
    bound on the interior (the clamps', and the no-overflow ranges of narrow
    integers the x-affine values pass through)."""

    hoisted: list[Operation] = field(default_factory=list)  # in program order
    hoisted_ops: set[Operation] = field(default_factory=set)
    clamps: list[Clamp] = field(default_factory=list)
    bounds: list[Bound] = field(default_factory=list)


def _int_width(v: SSAValue) -> int | None:
    t = v.type
    if isinstance(t, IndexType):
        return 64
    if isinstance(t, IntegerType) and t.width.data > 1:
        return t.width.data
    return None


def _hoistable(op: Operation, invariant: set[SSAValue], supported: set[type[Operation]]) -> bool:
    if op.regions or op.name in _NOT_HOISTED or any(o not in invariant for o in op.operands):
        return False
    if isinstance(op, kern.IndexOp):
        return op.dim.value.data != 0
    if isinstance(op, _ALWAYS_HOISTABLE):
        return True
    return op.name.startswith(_PURE_PREFIXES) and type(op) in supported


def _affine_terms(op: Operation, affine: dict[SSAValue, Terms], invariant: set[SSAValue]) -> Terms | None:
    """The terms of ``op``'s result if it is x-affine: the index itself, a cast of an
    x-affine value, or one plus/minus a row-invariant value."""
    if isinstance(op, kern.IndexOp):
        return ()
    if op.name == "arith.index_cast" and op.operands[0] in affine:
        return affine[op.operands[0]]
    if op.name in ("arith.addi", "arith.subi"):
        a, b = op.operands
        if a in affine and b in invariant:
            return affine[a] + ((1 if op.name == "arith.addi" else -1, b),)
        if b in affine and a in invariant and op.name == "arith.addi":
            return affine[b] + ((1, a),)
    return None


def plan_body(block: Block, supported: set[type[Operation]]) -> BodyPlan:
    """Analyse a kernel body: ``supported`` holds the op classes of the pure op tables.

    x-affine values may pass through narrower integers (frontends compute coordinates
    in ``i32`` and cast to ``index``): each such value adds the bounds that keep it
    free of wrap-around, so in the interior it is exactly ``x`` plus its terms."""
    plan = BodyPlan()
    invariant: set[SSAValue] = set(block.args)
    affine: dict[SSAValue, Terms] = {}
    for op in block.ops:
        if _hoistable(op, invariant, supported):
            plan.hoisted.append(op)
            plan.hoisted_ops.add(op)
            invariant.update(op.results)
            continue
        if len(op.results) != 1 or (width := _int_width(op.results[0])) is None:
            continue
        res = op.results[0]
        terms = _affine_terms(op, affine, invariant)
        if terms is not None:
            affine[res] = terms
            if width < 64:
                plan.bounds += [Bound(terms, -(1 << (width - 1)), False), Bound(terms, (1 << (width - 1)) - 1, True)]
        elif op.name in ("arith.minsi", "arith.maxsi"):
            a, b = op.operands
            if a in invariant and b in affine:
                a, b = b, a
            if a in affine and b in invariant:
                bound = Bound(affine[a], b, op.name == "arith.minsi")
                plan.clamps.append(Clamp(op, a, bound))
                plan.bounds.append(bound)
                affine[res] = affine[a]
    return plan
