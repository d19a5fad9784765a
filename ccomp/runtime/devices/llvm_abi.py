"""The calling convention between the LLVM device and a compiled kernel, and the code
the LLVM backend hands that device.

It lives in the runtime because both sides need it and the runtime must not import the
backend (a host that loads a build folder needs no compiler): the backend's lowering
emits functions of this shape, the device fills their argument block.

Every ``kern.kernel @k`` becomes one exported function::

    void k(i64* ctx, i64 begin, i64 end, ptr partial)

``ctx`` is an array of 64-bit words, filled by the host once per launch:

* ``ctx[0 .. B)``: one word per binding, in binding order — the address of a buffer's
  first element (a C-contiguous NumPy array), or the address of a scalar binding's
  value stored in its natural layout (``i1`` as one byte);
* then, for every memref binding in order, its ``rank`` sizes (NumPy shape order,
  without the lanes axis of a ``vector<NxT>`` element: ``memref<?x?xvector<4xf32>>``
  of shape ``(h, w, 4)`` contributes ``h, w``);
* then the index space's extents, ``x`` first (``kern.extent 0``).

``[begin, end)`` is the slice of *rows* the call covers, so the host can split a launch
into chunks across threads: for rank 1 a row is one ``x``; for rank 2 a row is one
``y`` (every call runs the full ``x`` range, which LLVM vectorises); for rank 3 rows
are ``(z, y)`` pairs flattened as ``z * extent(1) + y``.

For a reduce kernel, ``partial`` points to ``lanes`` slots (``lanes`` = 1 for a scalar
yield) where the call writes the combination of its own points: float yields are
accumulated in ``double`` and integer yields in ``i64`` (sign-extended; ``min``/``max``
compare signed, ``i1`` counts as 0/1); the host combines the partials of all chunks
in float64/int64 and casts to the yielded type. Other kernels ignore ``partial``.

The exported function unpacks ``ctx`` and calls an internal ``k.body`` whose buffer
parameters are ``noalias``, which is what lets LLVM vectorise. ``LLVMCode`` also
carries, per kernel, a module holding the same two functions without ``noalias``: the
device compiles it the first time a launch binds overlapping buffers one of which the
kernel writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xdsl.dialects import memref, scf
from xdsl.dialects.builtin import MemRefType
from xdsl.ir import Attribute, Operation

from ccomp.dialects.kern import AtomicAddOp, KernelOp
from ccomp.runtime.devices.base import element_layout


@dataclass(frozen=True)
class LLVMCode:
    """What the LLVM backend generates for the device: LLVM IR text, never lowered again.

    ``module`` defines every kernel's exported function, named after the kernel;
    ``may_alias`` maps each kernel name to a module defining the same function without
    the no-aliasing promise on its buffers."""

    module: str
    may_alias: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BindingABI:
    """One kernel binding: where its word and sizes sit in ``ctx``."""

    index: int
    type: Attribute  # a MemRefType for buffers, else the scalar's type
    rank: int  # memref rank; 0 for scalars
    dims_offset: int  # first ctx word of the sizes (buffers only; -1 for scalars)
    read: bool
    written: bool

    @property
    def is_buffer(self) -> bool:
        return isinstance(self.type, MemRefType)


@dataclass(frozen=True)
class KernelABI:
    """Everything the runtime needs to call one compiled kernel."""

    name: str  # the kern.kernel symbol
    symbol: str  # the exported LLVM function
    rank: int
    bindings: tuple[BindingABI, ...]
    extents_offset: int
    ctx_words: int
    reduce: str | None = None  # "add", "min", "max"
    reduce_type: Attribute | None = None  # the yielded MLIR type
    reduce_lanes: int = 1
    reduce_float: bool = False

    def rows(self, grid: tuple[int, ...]) -> int:
        """How many rows (units of ``begin``/``end``) a launch over ``grid`` has."""
        if self.rank == 1:
            return grid[0]
        return grid[1] * (grid[2] if self.rank == 3 else 1)


def describe_kernel(kernel: KernelOp, symbol: str) -> KernelABI:
    """The ABI of ``kernel``: binding words, size words, extent words, reduction.

    Reads the ``kern.kernel`` op only, so the backend (emitting the function) and the
    device (calling it, from a build's ``host.mlir``) agree by construction. The types
    are assumed supported: the backend checks them before it emits anything."""
    args = kernel.body.block.args
    used: dict[int, set[str]] = {i: set() for i in range(len(args))}
    for op in kernel.walk():
        if isinstance(op, (memref.LoadOp, memref.StoreOp)):
            target = op.memref
            if target in args:
                used[args.index(target)].add("written" if isinstance(op, memref.StoreOp) else "read")
        elif isinstance(op, AtomicAddOp) and op.buffer in args:
            used[args.index(op.buffer)] |= {"read", "written"}
    bindings, offset = [], len(args)
    for i, arg in enumerate(args):
        t = arg.type
        if isinstance(t, MemRefType):
            rank = len(t.get_shape())
            bindings.append(BindingABI(i, t, rank, offset, "read" in used[i], "written" in used[i]))
            offset += rank
        else:
            bindings.append(BindingABI(i, t, 0, -1, True, False))
    rank = kernel.rank.value.data
    reduce = kernel.reduce.data if kernel.reduce is not None else None
    red_type, lanes, is_float = None, 1, False
    if reduce is not None:
        red_type = kernel.body.block.last_op.values[0].type  # type: ignore[union-attr]
        layout = element_layout(red_type)
        lanes, is_float = layout.lanes, layout.dtype.kind == "f"
    return KernelABI(kernel.kernel_name, symbol, rank, tuple(bindings), offset, offset + rank,
                     reduce, red_type, lanes, is_float)


LOOP_WEIGHT = 32  # points a kernel point counts as, per level of loop nesting in its body


def point_weight(kernel: KernelOp) -> int:
    """How many points one point of ``kernel`` counts as when a launch decides whether
    sharing it between threads pays: ``LOOP_WEIGHT ** depth`` of its deepest loop nest.
    A sparse row (one loop) counts 32; a temporally blocked band (steps x rows x
    columns) counts 32^3, so a launch of eight bands is shared, as it must be."""

    def depth(op: Operation) -> int:
        inner = max((depth(o) for r in op.regions for b in r.blocks for o in b.ops), default=0)
        return inner + isinstance(op, scf.ForOp)

    return LOOP_WEIGHT ** min(depth(kernel), 4)
