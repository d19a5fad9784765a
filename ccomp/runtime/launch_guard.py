"""Bounds for the launches of a loaded build: a tampered ``host.mlir`` schedule must give
wrong numbers at worst, never an access outside a buffer on the host.

A build's kernels come from ccomp's code generator, which indexes buffers in two ways:
at the launch point itself (``out[y, x]`` with ``x = kern.index 0``, perhaps plus a
constant, as in ``indptr[i + 1]``), or through a clamp to the buffer's own size
(``min(max(i, 0), dim - 1)``, every neighbour read and sample). The first is in bounds
only when the launch grid fits the buffer; the second only when the buffer is not empty.
Neither is something the code generator could check: the host schedule decides both.

So at load time each ``kern.kernel`` body is read for those two shapes of index, and
before every ``kern.launch`` of the host functions a ``kern.check`` is inserted per
requirement: ``grid[d] + offset <= dim(buffer, axis)`` and, for clamped reads,
``dim(buffer, axis) >= 1`` unless the grid is empty. The host runner evaluates them like
the program's own checks, so a launch of 100000x100000 over a 4x3 buffer is refused
with a located error before the device sees it.

An index of any other shape (a sparse kernel's column index read from ``indices``, a
histogram's bin) depends on the data; such a buffer is reported as ``unchecked`` and
stays safe only as long as the schedule binds the buffers the program was compiled with
(types and ranks are still verified). docs/manifest.md states this limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xdsl.dialects import arith, memref
from xdsl.dialects.builtin import IndexType, IntegerAttr, ModuleOp
from xdsl.ir import Operation, SSAValue

from ccomp.dialects import kern
from ccomp.runtime.devices.native_host_abi import GUARD_PREFIX

_DEPTH = 16  # how far an index expression is followed (generated code needs 2)


@dataclass(frozen=True)
class Cover:
    """``grid[grid_dim] + offset <= dims(args[arg])[axis]``."""

    arg: int
    axis: int
    grid_dim: int
    offset: int


@dataclass
class Bounds:
    """What one kernel needs of each launch, and which buffers it indexes by data."""

    covers: set[Cover] = field(default_factory=set)
    nonempty: set[tuple[int, int]] = field(default_factory=set)  # (arg, axis) read clamped
    unchecked: set[int] = field(default_factory=set)  # args indexed in other ways


def kernel_bounds(kernel: kern.KernelOp) -> Bounds:
    """The requirements every access of ``kernel`` puts on a launch."""
    args = list(kernel.body.block.args)
    bounds = Bounds()
    for op in kernel.walk():
        if isinstance(op, (memref.LoadOp, memref.StoreOp)):
            buffer, indices = op.memref, list(op.indices)
        elif isinstance(op, kern.AtomicAddOp):
            buffer, indices = op.buffer, list(op.indices)
        else:
            continue
        if buffer not in args:
            bounds.unchecked.add(-1)  # a buffer the kernel made itself: not generated code
            continue
        arg = args.index(buffer)
        for axis, index in enumerate(indices):
            grid = _grid_offset(index)
            if grid is not None:
                bounds.covers.add(Cover(arg, axis, *grid))
            elif _clamped(index, buffer, axis):
                bounds.nonempty.add((arg, axis))
            else:
                bounds.unchecked.add(arg)
    return bounds


def _const(v: SSAValue) -> int | None:
    op = v.owner
    if isinstance(op, arith.ConstantOp) and isinstance(op.value, IntegerAttr):
        return op.value.value.data
    return None


def _grid_offset(v: SSAValue, depth: int = 0) -> tuple[int, int] | None:
    """``(d, c)`` when ``v`` is ``kern.index d + c`` in ``index`` arithmetic, ``c >= 0``."""
    op = v.owner
    if depth > _DEPTH or not isinstance(v.type, IndexType):
        return None
    if isinstance(op, kern.IndexOp):
        return op.dim.value.data, 0
    if isinstance(op, arith.AddiOp):
        for a, b in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            c, inner = _const(b), _grid_offset(a, depth + 1)
            if c is not None and c >= 0 and inner is not None:
                return inner[0], inner[1] + c
    return None


def _is_upper(v: SSAValue, buffer: SSAValue, axis: int) -> bool:
    """``v`` is ``memref.dim buffer, axis`` minus 1."""
    op = v.owner
    if not isinstance(op, arith.SubiOp) or _const(op.rhs) != 1:
        return False
    dim = op.lhs.owner
    return isinstance(dim, memref.DimOp) and dim.source == buffer and _const(dim.index) == axis


def _clamped(v: SSAValue, buffer: SSAValue, axis: int) -> bool:
    """``v`` is ``min(max(i, 0), dim - 1)`` or ``max(min(i, dim - 1), 0)`` of this buffer's
    axis: in bounds whenever the buffer is not empty along it."""
    op = v.owner
    if isinstance(op, arith.MinSIOp):
        for a, b in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            inner = a.owner
            if _is_upper(b, buffer, axis) and isinstance(inner, arith.MaxSIOp) and \
                    0 in (_const(inner.lhs), _const(inner.rhs)):
                return True
    if isinstance(op, arith.MaxSIOp):
        for a, b in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            inner = a.owner
            if _const(b) == 0 and isinstance(inner, arith.MinSIOp) and \
                    any(_is_upper(x, buffer, axis) for x in (inner.lhs, inner.rhs)):
                return True
    return False


def guard_launches(module: ModuleOp) -> dict[str, Bounds]:
    """Insert the bounds checks before every launch in ``module``'s host functions;
    returns each kernel's :class:`Bounds` (for the trust report and tests)."""
    kernels = {op.kernel_name: op for op in module.body.block.ops if isinstance(op, kern.KernelOp)}
    bounds = {name: kernel_bounds(op) for name, op in kernels.items()}
    launches = [op for op in module.walk() if isinstance(op, kern.LaunchOp)]
    for launch in launches:
        _guard(launch, bounds[launch.kernel_name])
    return bounds


def _size_of(v: SSAValue) -> tuple[SSAValue, int] | None:
    """``(buffer, axis)`` when ``v`` is ``memref.dim buffer, axis`` (a constant axis)."""
    op = v.owner
    if isinstance(op, memref.DimOp):
        axis = _const(op.index)
        return (op.source, axis) if axis is not None else None
    return None


def _proven(launch: kern.LaunchOp, c: Cover) -> bool:
    """The cover holds by construction: the grid size is the buffer's own size along that
    axis (``memref.dim``), or the buffer was allocated with the grid size as that axis."""
    if c.offset:
        return False
    buffer, grid = launch.args[c.arg], launch.grid[c.grid_dim]
    if _size_of(grid) == (buffer, c.axis):
        return True
    alloc = buffer.owner
    return isinstance(alloc, memref.AllocOp) and not alloc.symbol_operands and \
        len(alloc.dynamic_sizes) == alloc.memref.type.get_num_dims() and alloc.dynamic_sizes[c.axis] == grid


def _guard(launch: kern.LaunchOp, b: Bounds) -> None:
    """Insert before ``launch`` the checks its kernel's bounds need and its schedule does
    not already prove (the generated schedules prove most covers: no check, no cost)."""
    block = launch.parent_block()
    assert block is not None
    name = launch.kernel_name
    ops: list[Operation] = []
    consts: dict[int, SSAValue] = {}
    empty: list[SSAValue] = []

    def add(op: Operation) -> SSAValue:
        ops.append(op)
        return op.results[0]

    def index(n: int) -> SSAValue:
        if n not in consts:
            consts[n] = add(arith.ConstantOp(IntegerAttr(n, IndexType())))
        return consts[n]

    def grid_empty() -> SSAValue:
        """True when the launch has no points (then nothing is accessed)."""
        if not empty:
            value = None
            for g in launch.grid:
                e = add(arith.CmpiOp(g, index(0), "sle"))
                value = e if value is None else add(arith.OrIOp(value, e))
            empty.append(value)
        return empty[0]

    def check(cond: SSAValue, message: str, values: list[SSAValue]) -> None:
        op = kern.CheckOp(cond, f"{GUARD_PREFIX} the launch of @{name} {message}: refused before running", values)
        op.location = launch.location  # reported at the launch's .cn location
        ops.append(op)

    for d, g in enumerate(launch.grid):
        if _size_of(g) is None:
            check(add(arith.CmpiOp(g, index(0), "sge")), f"has a negative grid size {{0}} along axis {d}", [g])
    for c in sorted(b.covers, key=lambda c: (c.arg, c.axis, c.grid_dim, c.offset)):
        if _proven(launch, c):
            continue
        dim = add(memref.DimOp(launch.args[c.arg], index(c.axis)))
        need = add(arith.AddiOp(launch.grid[c.grid_dim], index(c.offset))) if c.offset else launch.grid[c.grid_dim]
        fits = add(arith.OrIOp(add(arith.CmpiOp(need, dim, "sle")), grid_empty()))
        check(fits, f"covers {{0}} points along grid axis {c.grid_dim} but its binding {c.arg} has {{1}} "
              f"along axis {c.axis}", [need, dim])
    for arg, axis in sorted(b.nonempty):
        dim = add(memref.DimOp(launch.args[arg], index(axis)))
        fits = add(arith.OrIOp(add(arith.CmpiOp(dim, index(1), "sge")), grid_empty()))
        check(fits, f"reads its binding {arg}, which is empty along axis {axis}", [dim])
    if ops:
        block.insert_ops_before(ops, launch)
