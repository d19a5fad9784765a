"""One ``kern.launch`` of a native host schedule (see ``host.py``): fill the kernel's
``ctx`` words (``ccomp.runtime.devices.llvm_abi``), log the launch, pick the code
(the may-alias variant when a written buffer overlaps another binding), run it on
the calling thread or through the runtime's ``parallel_for``, and combine a
reduction's per-chunk partials.

The choices are the Python device's (``ccomp.runtime.devices.llvm``): a launch runs
on the calling thread below ``RT_MIN_PARALLEL`` points (a point of a kernel that
loops weighs ``llvm_abi.point_weight``), else in ``threads * RT_CHUNKS_PER_THREAD`` chunks;
partials are folded in float64/int64 from the identity and cast to the yielded type,
as ``llvm._combine`` does, so a reduction gives the same value under either host.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llvmlite import ir

from ccomp.backends.llvm.host_calls import emit_stamp
from ccomp.backends.llvm.types import F64, I1, I64, PTR, const, is_float, llvm_type, storage_type
from ccomp.dialects import kern
from ccomp.runtime.devices import native_host_abi as abi_
from ccomp.runtime.devices.base import element_layout
from ccomp.runtime.devices.llvm_abi import KernelABI

if TYPE_CHECKING:
    from ccomp.backends.llvm.host import HostEmitter

KERNEL_TYPE = ir.FunctionType(ir.VoidType(), [PTR, I64, I64, PTR])


@dataclass(frozen=True)
class KernelInfo:
    """What a launch needs of a lowered kernel."""

    abi: KernelABI
    entry: ir.Function  # the exported ``void k(ctx, begin, end, partial)``
    weight: int  # points one point counts as (``llvm_abi.point_weight``: its loops)


def emit_launch(em: HostEmitter, op: kern.LaunchOp, info: KernelInfo, index: int) -> ir.Value | None:
    """Emit ``op``; returns the reduction's value for a reduce kernel."""
    b, abi = em.builder, info.abi
    ctx_ptr = em.entry_words(abi.ctx_words)

    def put(i: int, v: ir.Value) -> None:
        b.store(v, em.word_ptr(ctx_ptr, i), align=8)

    spans: list[tuple[ir.Value, ir.Value, bool]] = []  # (start, end, written) of each buffer
    for bind, arg in zip(abi.bindings, op.args, strict=True):
        value = em.values[arg]
        if bind.is_buffer:
            start = b.ptrtoint(b.extract_value(value, 1), I64)
            put(bind.index, start)
            size = ir.Constant(I64, element_layout(bind.type.element_type).dtype.itemsize  # type: ignore[attr-defined]
                               * element_layout(bind.type.element_type).lanes)  # type: ignore[attr-defined]
            for d in range(bind.rank):
                dim = b.extract_value(value, 2 + d)
                put(bind.dims_offset + d, dim)
                size = b.mul(size, dim)
            spans.append((start, b.add(start, size), bind.written))
        else:
            box = em.entry_alloca(storage_type(llvm_type(bind.type)))
            em.store_scalar(value, box)
            put(bind.index, b.ptrtoint(box, I64))
    grid = [em.values[g] for g in op.grid]
    for d, g in enumerate(grid):
        put(abi.extents_offset + d, g)
    entry = _log(em, index, grid)
    zero, one = ir.Constant(I64, 0), ir.Constant(I64, 1)
    rows = grid[0] if abi.rank == 1 else (grid[1] if abi.rank == 2 else b.mul(grid[1], grid[2]))
    positive = ir.Constant(I1, 1)
    for g in grid:
        positive = b.and_(positive, b.icmp_signed(">", g, zero))
    rows = b.select(positive, rows, zero)
    code = _code(em, info, index, spans)
    partials, stride = _partials(em, abi)
    points = grid[0]
    for g in grid[1:]:
        points = b.mul(points, g)
    if info.weight > 1:
        points = b.mul(points, ir.Constant(I64, info.weight))
    threads = em.word(em.rt, abi_.RT_THREADS)
    serial = b.or_(b.icmp_signed("<=", threads, one), b.icmp_signed("<", points, em.word(em.rt, abi_.RT_MIN_PARALLEL)))
    serial = b.or_(serial, b.icmp_signed("<=", rows, one))
    serial = b.or_(serial, b.icmp_unsigned("==", em.word(em.rt, abi_.RT_PARALLEL_FOR), zero))
    chunks = b.mul(threads, em.word(em.rt, abi_.RT_CHUNKS_PER_THREAD))
    chunks = _smin(b, _smin(b, chunks, rows), ir.Constant(I64, abi_.MAX_CHUNKS))
    chunks = b.select(serial, one, chunks)
    run_bb, alone_bb, shared_bb, done_bb = (b.append_basic_block(n) for n in
                                            ("launch", "launch.alone", "launch.shared", "launched"))
    emit_stamp(em, entry, 0)
    b.cbranch(b.icmp_signed(">", rows, zero), run_bb, done_bb)
    b.position_at_end(run_bb)
    b.cbranch(serial, alone_bb, shared_bb)
    b.position_at_end(alone_bb)
    b.call(b.inttoptr(code, ir.PointerType(KERNEL_TYPE)), [ctx_ptr, zero, rows, partials])
    b.branch(done_bb)
    b.position_at_end(shared_bb)
    em.rt_call(abi_.RT_PARALLEL_FOR, ir.VoidType(),
               [b.inttoptr(code, PTR), ctx_ptr, rows, chunks, partials, ir.Constant(I64, stride), threads])
    b.branch(done_bb)
    b.position_at_end(done_bb)
    if abi.reduce is None:
        emit_stamp(em, entry, 1)
        return None
    value = _combine(em, abi, partials, stride, b.select(b.icmp_signed(">", rows, zero), chunks, zero))
    emit_stamp(em, entry, 1)
    return value


def _smin(b: ir.IRBuilder, x: ir.Value, y: ir.Value) -> ir.Value:
    return b.select(b.icmp_signed("<", x, y), x, y)


def _log(em: HostEmitter, index: int, grid: list[ir.Value]) -> ir.Value:
    """Append ``(kernel, x, y, z)`` to the launch log, flushing it to Python when full;
    returns the entry's index (where its profiling timestamps go)."""
    b = em.builder
    count = em.word(em.rt, abi_.RT_LOG_COUNT)
    full, go = b.append_basic_block("log.flush"), b.append_basic_block("log")
    b.cbranch(b.icmp_signed(">=", count, em.word(em.rt, abi_.RT_LOG_CAPACITY)), full, go)
    b.position_at_end(full)
    em.rt_call(abi_.RT_FLUSH, ir.VoidType(), [])
    b.branch(go)
    b.position_at_end(go)
    count = em.word(em.rt, abi_.RT_LOG_COUNT)  # zero after a flush
    entry = em.word_ptr(em.word(em.rt, abi_.RT_LOG, PTR), b.mul(count, ir.Constant(I64, abi_.LOG_WORDS)))
    values = [ir.Constant(I64, index), *grid] + [ir.Constant(I64, 0)] * (3 - len(grid))
    for i, v in enumerate(values):
        b.store(v, em.word_ptr(entry, i), align=8)
    b.store(b.add(count, ir.Constant(I64, 1)), em.word_ptr(em.rt, abi_.RT_LOG_COUNT), align=8)
    return count


def _code(em: HostEmitter, info: KernelInfo, index: int, spans: list[tuple[ir.Value, ir.Value, bool]]) -> ir.Value:
    """The address of the code to run: the kernel, or its may-alias variant (asked of
    Python, which compiles it once) when a buffer it writes overlaps another binding."""
    b = em.builder
    direct = b.ptrtoint(info.entry, I64)
    pairs = [(s0, s1) for i, s0 in enumerate(spans) for s1 in spans[i + 1:] if s0[2] or s1[2]]
    if not pairs:
        return direct
    overlap = ir.Constant(I1, 0)
    for (a0, a1, _), (c0, c1, _) in pairs:
        overlap = b.or_(overlap, b.and_(b.icmp_unsigned("<", a0, c1), b.icmp_unsigned("<", c0, a1)))
    pre, alias_bb, join = b.block, b.append_basic_block("alias"), b.append_basic_block("code")
    b.cbranch(overlap, alias_bb, join)
    b.position_at_end(alias_bb)
    variant = b.ptrtoint(em.rt_call(abi_.RT_ALIAS, PTR, [ir.Constant(I64, index)]), I64)
    em.exit_if(b.icmp_unsigned("==", variant, ir.Constant(I64, 0)), abi_.ALIAS_FAILED)
    after = b.block
    b.branch(join)
    b.position_at_end(join)
    code = b.phi(I64)
    code.add_incoming(direct, pre)
    code.add_incoming(variant, after)
    return code


def _partials(em: HostEmitter, abi: KernelABI) -> tuple[ir.Value, int]:
    """The partials area (shared by the function's reduce launches) and a chunk's stride."""
    if abi.reduce is None:
        return ir.Constant(PTR, None), 0
    if em.partials is None:
        em.partials = em.entry_words(abi_.MAX_CHUNKS * 16)
    if abi.reduce_lanes > 16:
        raise NotImplementedError(f"@{abi.name}: a reduction of {abi.reduce_lanes} lanes")
    return em.partials, 8 * abi.reduce_lanes


def _combine(em: HostEmitter, abi: KernelABI, partials: ir.Value, stride: int, chunks: ir.Value) -> ir.Value:
    """Fold ``chunks`` partials from the identity (float64 or int64 lanes), then cast to
    the yielded type: float narrowing rounds, integers wrap, ``i1`` is non-zero."""
    b = em.builder
    assert abi.reduce_type is not None
    scalar = F64 if abi.reduce_float else I64
    wide = ir.VectorType(scalar, abi.reduce_lanes) if abi.reduce_lanes > 1 else scalar
    target = llvm_type(abi.reduce_type)
    dtype = element_layout(abi.reduce_type).dtype
    if abi.reduce == "add":
        identity: float | int = -0.0 if abi.reduce_float else 0
    elif abi.reduce_float:
        identity = math.inf if abi.reduce == "min" else -math.inf
    else:
        bits = 8 if dtype.kind == "b" else dtype.itemsize * 8
        identity = (1 << (bits - 1)) - 1 if abi.reduce == "min" else -(1 << (bits - 1))
    pre = b.block
    header, body, done = (b.append_basic_block(n) for n in ("fold", "fold.body", "folded"))
    b.branch(header)
    b.position_at_end(header)
    i, acc = b.phi(I64), b.phi(wide)
    i.add_incoming(ir.Constant(I64, 0), pre)
    acc.add_incoming(const(wide, identity), pre)
    b.cbranch(b.icmp_signed("<", i, chunks), body, done)
    b.position_at_end(body)
    at = b.gep(partials, [b.mul(i, ir.Constant(I64, stride))], source_etype=ir.IntType(8))
    part = b.load(at, typ=wide, align=8)
    if abi.reduce == "add":
        folded = b.fadd(acc, part) if abi.reduce_float else b.add(acc, part)
    else:
        name = ("minimum" if abi.reduce == "min" else "maximum") if abi.reduce_float else \
            ("smin" if abi.reduce == "min" else "smax")
        folded = em.intrinsic(name, [acc, part])
    i.add_incoming(b.add(i, ir.Constant(I64, 1)), b.block)
    acc.add_incoming(folded, b.block)
    b.branch(header)
    b.position_at_end(done)
    if is_float(target):
        return b.fptrunc(acc, target) if target != wide else acc
    if target == I1 or (isinstance(target, ir.VectorType) and target.element == I1):
        return b.icmp_signed("!=", acc, const(wide, 0))
    return b.trunc(acc, target) if target != wide else acc
