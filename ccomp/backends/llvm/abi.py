"""Emits the calling convention of ``ccomp.runtime.devices.llvm_abi`` (documented there):
the exported ``void k(i64* ctx, i64 begin, i64 end, ptr partial)`` that unpacks the
argument block into the internal ``k.body``'s parameters.

The ABI's description (``KernelABI``) lives in the runtime, which calls the kernels;
this module only checks that a kernel's types can be lowered and writes the entry.
"""

from __future__ import annotations

from llvmlite import ir
from xdsl.dialects.builtin import MemRefType, NoneAttr

from ccomp.backends.llvm.builder import LoweringError, describe_location
from ccomp.backends.llvm.types import I64, PTR, UnsupportedType, llvm_type, storage_type
from ccomp.dialects.kern import KernelOp
from ccomp.runtime.devices.llvm_abi import KernelABI, describe_kernel


def describe_checked(kernel: KernelOp, symbol: str) -> KernelABI:
    """The ABI of ``kernel`` (``describe_kernel``), after checking that every binding's
    type and the reduction's have an LLVM spelling: a located error otherwise."""
    for i, arg in enumerate(kernel.body.block.args):
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
    if kernel.reduce is not None:
        llvm_type(kernel.body.block.last_op.values[0].type)  # type: ignore[union-attr]
    return describe_kernel(kernel, symbol)


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
