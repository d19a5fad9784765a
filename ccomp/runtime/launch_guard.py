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

from xdsl.dialects import arith, memref, scf
from xdsl.dialects.builtin import IndexType, IntegerAttr, MemRefType, ModuleOp
from xdsl.ir import BlockArgument, Operation, SSAValue

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
    shapes = _Shapes()
    for launch in launches:
        _guard(launch, bounds[launch.kernel_name], shapes)
    for alloc in [op for op in module.walk() if isinstance(op, memref.AllocOp)]:
        _guard_alloc(alloc)
    return bounds


def _guard_alloc(alloc: memref.AllocOp) -> None:
    """A size that is not a buffer's size or a constant is checked not to be negative, so
    an edited schedule gets a located error, not NumPy's exception from the allocator."""
    ops: list[Operation] = []
    for axis, size in enumerate(alloc.dynamic_sizes):
        constant = _const(size)
        if isinstance(size.owner, memref.DimOp) or (constant is not None and constant >= 0):
            continue
        zero = arith.ConstantOp(IntegerAttr(0, IndexType()))
        ok = arith.CmpiOp(size, zero.result, "sge")
        check = kern.CheckOp(ok.result, f"{GUARD_PREFIX} an allocation of {{0}} elements along axis {axis}: "
                                        "refused before running", [size])
        check.location = alloc.location
        ops += [zero, ok, check]
    if ops:
        alloc.parent_block().insert_ops_before(ops, alloc)


class _Shapes:
    """Symbolic sizes of the host schedule's buffers, to prove launches fit without a
    run-time check. A size is a *term*: ``("axis", buffer, i)`` for a size known only
    at run time (an input's, or a buffer of unknown origin), or the SSA value an
    allocation was given. ``memref.dim`` of a buffer is its term; a repeat zone's state
    keeps its initial value's shape when every iteration yields a buffer of that same
    shape (checked by induction, the assumption undone when it fails)."""

    def __init__(self) -> None:
        self.memo: dict[SSAValue, tuple] = {}

    def term(self, v: SSAValue) -> object:
        op = v.owner
        if isinstance(op, memref.DimOp):
            axis = _const(op.index)
            shape = self.shape(op.source)
            if axis is not None and 0 <= axis < len(shape):
                return shape[axis]
        return v

    def shape(self, b: SSAValue) -> tuple:
        if b in self.memo:
            return self.memo[b]
        rank = b.type.get_num_dims() if isinstance(b.type, MemRefType) else 0
        opaque = tuple(("axis", b, i) for i in range(rank))
        self.memo[b] = opaque  # also what a cycle sees
        op = b.owner
        if isinstance(op, memref.AllocOp) and len(op.dynamic_sizes) == rank:
            self.memo[b] = tuple(self.term(s) for s in op.dynamic_sizes)
        elif isinstance(b, BlockArgument) and isinstance(op.parent_op(), scf.ForOp) and b.index >= 1:
            self.memo[b] = self._carried(op.parent_op(), b.index - 1, b)
        elif isinstance(op, scf.ForOp):
            self.memo[b] = self._carried(op, list(op.results).index(b), b)
        return self.memo[b]

    def _carried(self, loop: scf.ForOp, k: int, b: SSAValue) -> tuple:
        """The shape of the ``k``-th state of ``loop`` (``b``: its iteration argument or result)."""
        arg, result = loop.body.block.args[k + 1], loop.results[k]
        initial = self.shape(loop.iter_args[k])
        before = set(self.memo)
        self.memo[arg] = initial  # the induction hypothesis
        if self.shape(loop.body.block.last_op.operands[k]) == initial:
            self.memo[result] = initial
            return initial
        for key in set(self.memo) - before:  # computed under a false hypothesis
            del self.memo[key]
        for v in (arg, result):
            self.memo[v] = tuple(("axis", v, i) for i in range(len(initial)))
        return self.memo[b]

    def fits(self, launch: kern.LaunchOp, c: Cover) -> bool:
        """``grid[d] <= dim(arg, axis)`` holds by construction: the two are one size."""
        return not c.offset and self.term(launch.grid[c.grid_dim]) == self.shape(launch.args[c.arg])[c.axis]

    def is_size(self, launch: kern.LaunchOp, d: int) -> bool:
        """``grid[d]`` is the size of a buffer the launch binds (so not negative: an
        allocation of a negative size fails before the launch)."""
        t = self.term(launch.grid[d])
        return (isinstance(t, tuple) and t[0] == "axis") or \
            any(t in self.shape(a) for a in launch.args if isinstance(a.type, MemRefType))

    def grid_sized(self, launch: kern.LaunchOp, arg: int, axis: int) -> bool:
        """``dim(arg, axis)`` is one of the grid's sizes: not empty whenever the grid is not."""
        size = self.shape(launch.args[arg])[axis]
        return any(self.term(g) == size for g in launch.grid)


def _guard(launch: kern.LaunchOp, b: Bounds, shapes: _Shapes) -> None:
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
        if not shapes.is_size(launch, d):
            check(add(arith.CmpiOp(g, index(0), "sge")), f"has a negative grid size {{0}} along axis {d}", [g])
    for c in sorted(b.covers, key=lambda c: (c.arg, c.axis, c.grid_dim, c.offset)):
        if shapes.fits(launch, c):
            continue
        dim = add(memref.DimOp(launch.args[c.arg], index(c.axis)))
        need = add(arith.AddiOp(launch.grid[c.grid_dim], index(c.offset))) if c.offset else launch.grid[c.grid_dim]
        fits = add(arith.OrIOp(add(arith.CmpiOp(need, dim, "sle")), grid_empty()))
        check(fits, f"covers {{0}} points along grid axis {c.grid_dim} but its binding {c.arg} has {{1}} "
              f"along axis {c.axis}", [need, dim])
    covered = {(c.arg, c.axis) for c in b.covers}  # dim >= grid size > 0 when the grid is not empty
    for arg, axis in sorted(b.nonempty - covered):
        if shapes.grid_sized(launch, arg, axis):
            continue
        dim = add(memref.DimOp(launch.args[arg], index(axis)))
        fits = add(arith.OrIOp(add(arith.CmpiOp(dim, index(1), "sge")), grid_empty()))
        check(fits, f"reads its binding {arg}, which is empty along axis {axis}", [dim])
    if ops:
        block.insert_ops_before(ops, launch)
