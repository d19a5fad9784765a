"""The calling convention between the LLVM runtime and a compiled kernel.

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
parameters are ``noalias``, which is what lets LLVM vectorise; the runtime uses a
variant compiled without ``noalias`` when a launch binds overlapping buffers one of
which the kernel writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from llvmlite import ir
from xdsl.dialects import memref
from xdsl.dialects.builtin import MemRefType, NoneAttr
from xdsl.ir import Attribute

from ccomp.backends.llvm.builder import LoweringError, describe_location
from ccomp.backends.llvm.types import I64, PTR, UnsupportedType, llvm_type, storage_type
from ccomp.dialects.kern import KernelOp


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
    """The ABI of ``kernel``: binding words, size words, extent words, reduction."""
    args = kernel.body.block.args
    used: dict[int, set[str]] = {i: set() for i in range(len(args))}
    for op in kernel.walk():
        if isinstance(op, (memref.LoadOp, memref.StoreOp)):
            target = op.memref
            if target in args:
                used[args.index(target)].add("written" if isinstance(op, memref.StoreOp) else "read")
    bindings, offset = [], len(args)
    for i, arg in enumerate(args):
        t = arg.type
        try:
            if isinstance(t, MemRefType):
                if not isinstance(t.layout, NoneAttr):
                    raise UnsupportedType(f"type {t} is not supported: only identity layouts are")
                llvm_type(t.element_type)
            else:
                llvm_type(t)
        except UnsupportedType as err:
            raise LoweringError(f"{describe_location(kernel)}: binding {i} of @{kernel.kernel_name}: {err}") from None
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
        lt = llvm_type(red_type)
        lanes = lt.count if isinstance(lt, ir.VectorType) else 1
        elem = lt.element if isinstance(lt, ir.VectorType) else lt
        is_float = not isinstance(elem, ir.IntType)
    return KernelABI(kernel.kernel_name, symbol, rank, tuple(bindings), offset, offset + rank,
                     reduce, red_type, lanes, is_float)


def emit_entry(module: ir.Module, abi: KernelABI, body: ir.Function) -> ir.Function:
    """The exported ``void symbol(i64* ctx, i64 begin, i64 end, ptr partial)``: unpack
    ``ctx`` into ``body``'s parameters (buffers, their sizes, scalars, extents)."""
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [PTR, I64, I64, PTR]), name=abi.symbol)
    ctx, begin, end, partial = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))

    def word(i: int, t: ir.Type) -> ir.Value:
        return b.load(b.gep(ctx, [ir.Constant(I64, i)], inbounds=True, source_etype=I64), typ=t, align=8)

    params: list[ir.Value] = []
    for bind in abi.bindings:
        if bind.is_buffer:
            params.append(word(bind.index, PTR))
            params.extend(word(bind.dims_offset + k, I64) for k in range(bind.rank))
        else:
            t = llvm_type(bind.type)
            value = b.load(word(bind.index, PTR), typ=storage_type(t), align=1)
            params.append(b.trunc(value, t) if storage_type(t) != t else value)
    params.extend(word(abi.extents_offset + d, I64) for d in range(abi.rank))
    b.call(body, [*params, begin, end, partial])
    b.ret_void()
    return fn


def body_signature(abi: KernelABI) -> list[ir.Type]:
    """Parameter types of the internal ``symbol.body`` that ``emit_entry`` calls."""
    types: list[ir.Type] = []
    for bind in abi.bindings:
        if bind.is_buffer:
            types.extend([PTR] + [I64] * bind.rank)
        else:
            types.append(llvm_type(bind.type))
    return types + [I64] * abi.rank + [I64, I64, PTR]
