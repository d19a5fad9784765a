"""Recognises a kernel that is one step of a 2-D stencil over a state buffer.

``temporal-block`` may fuse several launches of a kernel into one only when every
point reads the state at a bounded offset from itself, so a tile plus a halo of
``steps * radius`` cells holds everything its last step needs. This module proves
that from the kernel IR alone, by a small abstract interpretation over the body:

* ``kern.index d`` is ``d + 0``; ``index_cast``, and ``addi``/``subi`` of a constant,
  keep a value of that form (``Affine(d, c)``: the coordinate along ``d`` plus ``c``);
* ``maxsi(Affine, 0)`` and ``minsi(Affine, dim - 1)`` (either order, either operand
  order), with ``dim`` the state's extent along that axis, make a clamped read;
* every ``memref.load`` of the state must index ``[y, x]`` with a clamp of each axis
  (or the unshifted coordinate itself); the largest ``|c|`` is the radius;
* the body writes the next state once, at ``[y, x]``, and nothing else.

It also lists the clamps of ``x``: in the columns ``[radius, width - radius)`` each is
the identity, so the blocked kernel runs a copy of the body without them there, which
LLVM vectorises (the same reason the LLVM backend splits rows; see
``backends/llvm/interior.py``). And it lists the ``index`` values that are ``x + c``
(frontends compute coordinates in ``i32`` and cast back): there the copy computes
``x + c`` in ``index`` directly, so every read is a constant offset from one address
rather than a sign-extended ``i32`` sum per read. Neither changes an address or a
float operation (in those columns ``x + c`` cannot wrap in ``i32``), so results stay
bit-identical.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xdsl.dialects import arith, memref
from xdsl.dialects.builtin import IndexType, IntegerAttr, MemRefType
from xdsl.ir import BlockArgument, Operation, SSAValue

from ccomp.dialects import kern


@dataclass(frozen=True)
class Affine:
    axis: int  # kernel axis: 0 = x, 1 = y
    offset: int


@dataclass(frozen=True)
class Clamped:
    """The coordinate plus ``offset``, clamped below (``low``) and/or above (``high``)."""

    axis: int
    offset: int
    low: bool
    high: bool


@dataclass(frozen=True)
class Const:
    value: int


@dataclass(frozen=True)
class Extent:
    axis: int  # kernel axis whose state extent this is
    minus: int  # extent - minus


@dataclass
class Stencil:
    """A kernel proven to be one stencil step: ``state`` is read only at clamped offsets
    up to ``radius``, ``out`` written once at the point itself."""

    kernel: kern.KernelOp
    state: BlockArgument
    out: BlockArgument
    radius: int
    state_loads: list[memref.LoadOp] = field(default_factory=list)
    store: memref.StoreOp | None = None
    x_clamps: dict[Operation, SSAValue] = field(default_factory=dict)  # clamp -> the operand it equals inside
    x_shifts: dict[Operation, int] = field(default_factory=dict)  # index-typed op -> c, where it is x + c


_PURE_PREFIXES = ("arith.", "math.", "vector.")


def _const(op: Operation) -> int | None:
    if isinstance(op, arith.ConstantOp) and isinstance(op.value, IntegerAttr):
        return op.value.value.data
    return None


def _clamp_of(op: Operation, facts: dict[SSAValue, object]) -> tuple[Clamped, SSAValue] | None:
    """``op`` as a clamp of an affine (or half-clamped) value: the fact and that operand."""
    high = isinstance(op, arith.MinSIOp)
    for value, bound in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
        v, b = facts.get(value), facts.get(bound)
        if isinstance(v, Affine):
            v = Clamped(v.axis, v.offset, False, False)
        if not isinstance(v, Clamped):
            continue
        if high and isinstance(b, Extent) and b.axis == v.axis and b.minus == 1:
            return Clamped(v.axis, v.offset, v.low, True), value
        if not high and isinstance(b, Const) and b.value == 0:
            return Clamped(v.axis, v.offset, True, v.high), value
    return None


def _fact(op: Operation, facts: dict[SSAValue, object], state: SSAValue, rank: int) -> object | None:
    if isinstance(op, kern.IndexOp):
        return Affine(op.dim.value.data, 0)
    if (c := _const(op)) is not None:
        return Const(c)
    if isinstance(op, arith.IndexCastOp):
        return facts.get(op.input)
    if isinstance(op, memref.DimOp) and op.source is state and isinstance(a := facts.get(op.index), Const):
        return Extent(rank - 1 - a.value, 0)
    if isinstance(op, (arith.AddiOp, arith.SubiOp)):
        a, b = facts.get(op.lhs), facts.get(op.rhs)
        sign = 1 if isinstance(op, arith.AddiOp) else -1
        if isinstance(a, Affine) and isinstance(b, Const):
            return Affine(a.axis, a.offset + sign * b.value)
        if sign == 1 and isinstance(b, Affine) and isinstance(a, Const):
            return Affine(b.axis, b.offset + a.value)
        if sign == -1 and isinstance(a, Extent) and isinstance(b, Const):
            return Extent(a.axis, a.minus + b.value)
    return None


def match_stencil(kernel: kern.KernelOp, state_index: int, out_index: int) -> Stencil | None:
    """The stencil step ``kernel`` computes, reading binding ``state_index`` and writing
    binding ``out_index``; ``None`` when the body is anything else (then the caller
    leaves the loop alone: the analysis is conservative, never a diagnostic)."""
    if kernel.rank.value.data != 2 or kernel.reduce is not None:
        return None
    args = kernel.body.block.args
    state, out = args[state_index], args[out_index]
    if not (isinstance(state.type, MemRefType) and state.type == out.type and state.type.get_num_dims() == 2):
        return None
    found = Stencil(kernel, state, out, 0)
    facts: dict[SSAValue, object] = {}
    x_clamps: list[tuple[Operation, SSAValue, int]] = []
    for op in kernel.body.block.ops:
        if op.regions:
            return None
        if isinstance(op, memref.LoadOp):
            if op.memref is out:
                return None
            if op.memref is state:
                radius = _state_read(op, facts)
                if radius is None:
                    return None
                found.radius = max(found.radius, radius)
                found.state_loads.append(op)
            continue
        if isinstance(op, memref.StoreOp):
            at = [facts.get(i) for i in op.indices]
            if found.store is not None or op.memref is not out or at != [Affine(1, 0), Affine(0, 0)]:
                return None
            found.store = op
            continue
        if isinstance(op, (arith.MinSIOp, arith.MaxSIOp)) and (clamp := _clamp_of(op, facts)) is not None:
            facts[op.result] = clamp[0]
            if clamp[0].axis == 0:
                x_clamps.append((op, clamp[1], clamp[0].offset))
            continue
        if isinstance(op, memref.DimOp) and op.source is out:
            return None
        if not (isinstance(op, (kern.IndexOp, kern.YieldOp, memref.DimOp)) or op.name.startswith(_PURE_PREFIXES)):
            return None
        if len(op.results) == 1 and (fact := _fact(op, facts, state, 2)) is not None:
            facts[op.results[0]] = fact
    if found.store is None or any(use.operation not in found.state_loads and not isinstance(use.operation, memref.DimOp)
                                  for use in state.uses):
        return None
    # a clamp is the identity in the interior columns only if its shift is within the radius
    found.x_clamps = {op: value for op, value, offset in x_clamps if abs(offset) <= found.radius}
    found.x_shifts = {op: fact.offset for op in kernel.body.block.ops
                      if len(op.results) == 1 and isinstance(op.results[0].type, IndexType)
                      and not isinstance(op, kern.IndexOp)
                      and isinstance(fact := facts.get(op.results[0]), Affine) and fact.axis == 0
                      and abs(fact.offset) <= found.radius}
    return found


def _state_read(op: memref.LoadOp, facts: dict[SSAValue, object]) -> int | None:
    """The largest offset of a read of the state, or ``None`` unless it reads ``[y, x]``
    clamped to the state on every shifted axis."""
    radius = 0
    for axis, index in zip((1, 0), op.indices):
        fact = facts.get(index)
        if fact == Affine(axis, 0):
            continue
        if not (isinstance(fact, Clamped) and fact.axis == axis and fact.low and fact.high):
            return None
        radius = max(radius, abs(fact.offset))
    return radius
