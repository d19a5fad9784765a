"""Lowers the ``kern.kernel`` ops of an L2 module to LLVM IR (llvmlite ``ir``).

xDSL 0.74 has no arith/scf/memref -> llvm lowering, so this backend emits LLVM IR
directly from the xDSL ops. Each kernel becomes an internal ``k.body`` holding the
index-space loops around its body and an exported ``k`` that unpacks the argument
block; ``abi.py`` documents that calling convention.

The loops are shaped for LLVM's vectorisers: a call runs a contiguous range of rows,
and for each row the full ``x`` range in an innermost counted loop. Ops that do not
depend on ``x`` are emitted once per row; when the body clamps ``x``-relative
neighbour reads, the interior columns run a clamp-free copy of the body
(``interior.py`` says why and how). LLVM vectorises scalar bodies across ``x`` by
itself, but refuses bodies over ``vector<NxT>`` values: those run their interior
``VF`` columns per iteration, widened here (``widen.py``).

``emit_llvm_ir`` gives the unoptimised text (``ccomp build --emit llvm``);
``lower_module`` gives the llvmlite module plus the ABI of every kernel;
``codegen.emit_llvm_code`` turns that into the text the runtime's device compiles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from llvmlite import ir
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation

from ccomp.backends.llvm.abi import body_signature, describe_checked, emit_entry
from ccomp.backends.llvm.emitter import PURE_OPS, KernelEmitter
from ccomp.backends.llvm.interior import BodyPlan, plan_body
from ccomp.backends.llvm.ops_vector import combine
from ccomp.backends.llvm.types import F64, I64, const, is_float, like
from ccomp.backends.llvm.widen import WideEmitter, choose_width
from ccomp.dialects.kern import KernelOp
from ccomp.runtime.devices.llvm_abi import KernelABI

_ACC_COMBINE = {("add", True): "fadd", ("add", False): "add", ("min", True): "fminimum",
                ("min", False): "smin", ("max", True): "fmaximum", ("max", False): "smax"}


@dataclass
class LoweredModule:
    """An llvmlite module of kernels, and the ABI of each by kernel name."""

    module: ir.Module
    kernels: dict[str, KernelABI]

    def __str__(self) -> str:
        return str(self.module)


def emit_llvm_ir(module: ModuleOp) -> str:
    """The unoptimised LLVM IR of every kernel in ``module`` (what ``--emit llvm`` prints)."""
    return str(lower_module(module))


def lower_module(module: ModuleOp, prefix: str = "", noalias: bool = True,
                 only: Sequence[str] | None = None, widen: bool = True) -> LoweredModule:
    """Lower the kernels of ``module`` (or just those named in ``only``).

    ``prefix`` is prepended to every LLVM symbol so that several modules can live in
    one JIT; ``noalias=False`` drops the no-aliasing promise on buffer parameters;
    ``widen=False`` turns off x-widening (``widen.py``), leaving one column per
    iteration (for comparison and tests)."""
    out = ir.Module(name="ccomp")
    kernels: dict[str, KernelABI] = {}
    for op in module.walk():
        if isinstance(op, KernelOp) and (only is None or op.kernel_name in only):
            kernels[op.kernel_name] = lower_kernel(out, op, prefix + op.kernel_name, noalias, widen)
    return LoweredModule(out, kernels)


def lower_kernel(module: ir.Module, kernel: KernelOp, symbol: str, noalias: bool = True,
                 widen: bool = True) -> KernelABI:
    """Emit ``symbol.body`` and the exported ``symbol`` for one kernel; returns its ABI."""
    abi = describe_checked(kernel, symbol)
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), body_signature(abi)), name=symbol + ".body")
    fn.linkage = "internal"
    fn.attributes.add("nounwind")
    em = KernelEmitter(module, ir.IRBuilder(fn.append_basic_block("entry")))
    params = iter(fn.args)
    for bind, arg in zip(abi.bindings, kernel.body.block.args, strict=True):
        if bind.is_buffer:
            ptr = next(params)
            if noalias:
                ptr.add_attribute("noalias")
            em.buffers[arg] = (ptr, [next(params) for _ in range(bind.rank)])
        else:
            em.values[arg] = next(params)
    em.extents = [next(params) for _ in range(abi.rank)]
    begin, end, partial = next(params), next(params), next(params)
    acc = _reduction_slot(em, abi)
    plan = plan_body(kernel.body.block, set(PURE_OPS))
    em.skip = plan.hoisted_ops
    vf = choose_width(kernel.body.block, abi.reduce is not None) if widen else 1
    b = em.builder
    one = ir.Constant(I64, 1)
    if abi.rank == 1:
        em.index = [one]  # index[0], x, is set by each x loop
        _emit_row(em, kernel, plan, begin, end, vf)
    else:

        def row(r: ir.Value, carried: list[ir.Value]) -> list[ir.Value]:
            if abi.rank == 2:
                em.index = [one, r]
            else:
                z = b.sdiv(r, em.extents[1])
                em.index = [one, b.sub(r, b.mul(z, em.extents[1])), z]
            _emit_row(em, kernel, plan, ir.Constant(I64, 0), em.extents[0], vf)
            return []

        em.loop(begin, end, one, [], row, name="row")
    if acc is not None:
        b.store(b.load(acc, typ=acc.allocated_type, align=8), partial, align=8)
    b.ret_void()
    emit_entry(module, abi, fn)
    return abi


def _reduction_slot(em: KernelEmitter, abi: KernelABI) -> ir.AllocaInstr | None:
    """For a reduce kernel: an accumulator (double or i64 lanes) set to the identity,
    and a yield hook folding each point's value into it."""
    if abi.reduce is None:
        return None
    b = em.builder
    scalar = F64 if abi.reduce_float else I64
    t = ir.VectorType(scalar, abi.reduce_lanes) if abi.reduce_lanes > 1 else scalar
    acc = b.alloca(t, name="acc")
    if abi.reduce == "add":
        identity: float | int = 0.0 if abi.reduce_float else 0
    elif abi.reduce_float:
        identity = math.inf if abi.reduce == "min" else -math.inf
    else:
        identity = (1 << 63) - 1 if abi.reduce == "min" else -(1 << 63)
    b.store(const(t, identity), acc, align=8)
    base = _ACC_COMBINE[(abi.reduce, abi.reduce_float)]

    def accumulate(op: Operation, vals: list[ir.Value]) -> None:
        v = vals[0]
        if is_float(v.type):
            wide = b.fpext(v, t) if v.type != like(v.type, F64) else v
        elif v.type == like(v.type, ir.IntType(1)):
            wide = b.zext(v, t)
        else:
            wide = b.sext(v, t) if v.type != t else v
        flags = ("reassoc",) if base == "fadd" else ()
        b.store(combine(em, base, b.load(acc, typ=t, align=8), wide, flags), acc, align=8)

    em.on_yield = accumulate
    return acc


def _emit_row(em: KernelEmitter, kernel: KernelOp, plan: BodyPlan, xlo: ir.Value, xhi: ir.Value,
              vf: int) -> None:
    """One row: its x-invariant ops, then the x loops over ``[xlo, xhi)``.

    ``[ia, ib)`` is the interior, where every recognised clamp of x is the identity;
    it runs the clamp-free body, ``vf`` columns per iteration when ``vf > 1``. The
    rest — the border columns and the columns left over from the wide loop — runs
    the body as written, in one loop that jumps the gap."""
    b = em.builder
    for op in plan.hoisted:
        em.emit_op(op)
    block = kernel.body.block
    one = ir.Constant(I64, 1)

    def body(x: ir.Value, carried: list[ir.Value]) -> list[ir.Value]:
        em.index[0] = x
        em.emit_block(block)
        return []

    if not plan.clamps and vf == 1:
        em.loop(xlo, xhi, one, [], body, name="x")
        return

    def as_i64(v: ir.Value) -> ir.Value:
        return b.sext(v, I64) if v.type != I64 else v

    lo, hi = xlo, xhi
    for bound in plan.bounds:
        offset: ir.Value = ir.Constant(I64, 0)
        for sign, term in bound.terms:
            offset = (b.add if sign > 0 else b.sub)(offset, as_i64(em.values[term]))
        value = ir.Constant(I64, bound.bound) if isinstance(bound.bound, int) else as_i64(em.values[bound.bound])
        limit = b.sub(value, offset)
        if bound.upper:
            hi = em.intrinsic("smin", [hi, b.add(limit, one)])
        else:
            lo = em.intrinsic("smax", [lo, limit])
    ia = em.intrinsic("smin", [lo, xhi])
    ib = em.intrinsic("smin", [em.intrinsic("smax", [hi, ia]), xhi])
    if vf > 1:
        step = ir.Constant(I64, vf)
        ib = b.add(ia, b.mul(b.udiv(b.sub(ib, ia), step), step))
    start = b.select(b.icmp_signed("==", ia, xlo), ib, xlo)

    def next_border(x: ir.Value) -> ir.Value:
        nxt = b.add(x, one, flags=("nsw",))
        return b.select(b.icmp_signed("==", nxt, ia), ib, nxt)

    em.loop(start, xhi, one, [], body, next_index=next_border, name="border")
    em.substitute = {c.op: c.operand for c in plan.clamps}
    if vf > 1:
        wide = WideEmitter(em, vf)

        def wide_body(x: ir.Value, carried: list[ir.Value]) -> list[ir.Value]:
            wide.emit_block(block, x, plan.hoisted_ops)
            return []

        em.loop(ia, ib, step, [], wide_body, name="wide")
    else:
        em.loop(ia, ib, one, [], body, name="x")
    em.substitute = {}
