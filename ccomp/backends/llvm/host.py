"""Lowers a host schedule (an L2 ``func.func``) to one native function in the kernels'
LLVM module, so a program call crosses from Python into native code once.

The convention — ``rt``/``args``/``outs``/``status`` words, buffer headers, return
codes — is ``ccomp.runtime.devices.native_host_abi``; this module writes its native
side. What the Python host (``ccomp.runtime.host``) does with a register file and
closures happens here in SSA form:

* a memref value is a struct ``{header, data, d0, d1, d2}``; ``scf.for`` carries
  them (and scalars) in ``phi`` nodes, so a ping-pong swap is a renaming, not a copy;
* every memref SSA value owns one reference to its buffer: ``memref.alloc`` creates
  it, loop ``iter_args``/``scf.yield``/``func.return`` take a new one, and a value is
  released right after its last use in its block (uses inside a nested loop count
  as uses by the loop op, as in the Python host). When the count drops to zero
  Python's pool gets the buffer back at once (``RT_RELEASE``), so buffers of
  disjoint lifetimes share storage exactly as before;
* scalar ops go through the kernels' op tables (``PURE_OPS``): host arithmetic has
  the kernels' semantics, which the differential tests hold to the reference;
* outermost repeat zones poll Python (``RT_POLL``) after an iteration when a
  progress callback is set, else at most every ``RT_POLL_NS``: Ctrl-C and progress
  keep working without a Python call per iteration;
* an early exit (a failed ``kern.check``, a stop, a failed allocation) returns at
  once: Python drops every buffer of the call, so nothing needs unwinding here.

Launches are ``host_launch.emit_launch``.
"""

from __future__ import annotations

from llvmlite import ir
from xdsl.dialects import func, memref, scf
from xdsl.dialects.builtin import MemRefType
from xdsl.ir import Block, Operation, SSAValue

from ccomp.backends.llvm.builder import Lowering, unsupported
from ccomp.backends.llvm.emitter import PURE_OPS
from ccomp.backends.llvm.host_calls import alloc_function, emit_poll, release_function
from ccomp.backends.llvm.host_launch import KernelInfo, emit_launch
from ccomp.backends.llvm.types import I32, I64, PTR, llvm_type, storage_type
from ccomp.dialects import kern
from ccomp.runtime.devices import native_host_abi as abi_
from ccomp.runtime.devices.native_host_abi import HostABI, describe_host

MEMREF = ir.LiteralStructType([PTR, PTR, I64, I64, I64])


def lower_host(module: ir.Module, fn: func.FuncOp, kernels: dict[str, KernelInfo]) -> HostABI:
    """Emit ``fn``'s native host function into ``module`` (whose kernels are lowered)."""
    abi = describe_host(fn)
    HostEmitter(module, fn, abi, kernels).emit()
    digest = ir.Function(module, ir.FunctionType(I64, []), name=abi.symbol + ".abi")
    ir.IRBuilder(digest.append_basic_block("entry")).ret(ir.Constant(I64, abi.fingerprint))
    return abi


def _used_values(op: Operation) -> list[SSAValue]:
    used = list(op.operands)
    for region in op.regions:
        for inner in region.walk():
            used.extend(inner.operands)
    return used


def _is_buffer(v: SSAValue) -> bool:
    return isinstance(v.type, MemRefType)


class HostEmitter(Lowering):
    """Emits one host function; ``values`` maps SSA values to LLVM values."""

    def __init__(self, module: ir.Module, fn: func.FuncOp, abi: HostABI, kernels: dict[str, KernelInfo]):
        self.fn, self.abi, self.kernels = fn, abi, kernels
        self.ir_fn = ir.Function(module, ir.FunctionType(I32, [PTR, PTR, PTR, PTR]), name=abi.symbol)
        self.rt, self.args, self.outs, self.status = self.ir_fn.args
        self.allocas = ir.IRBuilder(self.ir_fn.append_basic_block("entry"))  # stack slots only
        self.start = self.ir_fn.append_basic_block("start")
        super().__init__(module, ir.IRBuilder(self.start))
        self.values: dict[SSAValue, ir.Value] = {}
        self.alloc_index = {op: i for i, op in enumerate(o for o in fn.walk() if isinstance(o, memref.AllocOp))}
        self.check_index = {op: i for i, op in enumerate(abi.checks)}
        self.kernel_index = {name: i for i, name in enumerate(abi.kernels)}
        self.depth = 0
        self.partials: ir.Value | None = None  # shared by every reduce launch
        self.clock = self.entry_words(2)

    # -- helpers ---------------------------------------------------------------------

    def entry_alloca(self, t: ir.Type) -> ir.Value:
        return self.allocas.alloca(t)

    def entry_words(self, n: int) -> ir.Value:
        """``n`` stack words (an ``i64*``), allocated once in the entry block."""
        return self.allocas.alloca(I64, size=ir.Constant(I64, n))

    def word_ptr(self, base: ir.Value, i: int | ir.Value) -> ir.Value:
        index = ir.Constant(I64, i) if isinstance(i, int) else i
        return self.builder.gep(base, [index], inbounds=True, source_etype=I64)

    def word(self, base: ir.Value, i: int | ir.Value, t: ir.Type = I64) -> ir.Value:
        return self.builder.load(self.word_ptr(base, i), typ=t, align=8)

    def rt_call(self, slot: int, ret: ir.Type, args: list[ir.Value]) -> ir.Value:
        """Call the function whose address is ``rt[slot]``."""
        fnty = ir.FunctionType(ret, [a.type for a in args])
        target = self.builder.inttoptr(self.word(self.rt, slot), ir.PointerType(fnty))
        return self.builder.call(target, args)

    def exit_if(self, cond: ir.Value, code: int) -> None:
        """Return ``code`` when ``cond`` holds; continue in a fresh block otherwise."""
        b = self.builder
        fail, ok = b.append_basic_block("exit"), b.append_basic_block("go")
        b.cbranch(cond, fail, ok)
        b.position_at_end(fail)
        b.ret(ir.Constant(I32, code))
        b.position_at_end(ok)

    def buffer(self, header: ir.Value, data: ir.Value, dims: list[ir.Value]) -> ir.Value:
        b = self.builder
        value = b.insert_value(b.insert_value(ir.Constant(MEMREF, ir.Undefined), header, 0), data, 1)
        for d in range(3):
            value = b.insert_value(value, dims[d] if d < len(dims) else ir.Constant(I64, 0), 2 + d)
        return value

    def retain(self, v: SSAValue) -> None:
        b = self.builder
        header = b.extract_value(self.values[v], 0)
        b.store(b.add(b.load(header, typ=I64, align=8), ir.Constant(I64, 1)), header, align=8)

    def release(self, v: SSAValue) -> None:
        self.builder.call(release_function(self.module), [self.rt, self.builder.extract_value(self.values[v], 0)])

    # -- the function ----------------------------------------------------------------

    def emit(self) -> None:
        b = self.builder
        for arg, t, off in zip(self.fn.body.block.args, self.abi.arg_types, self.abi.arg_offsets, strict=True):
            if isinstance(t, MemRefType):
                dims = [self.word(self.args, off + 2 + d) for d in range(t.get_num_dims())]
                self.values[arg] = self.buffer(self.word(self.args, off, PTR), self.word(self.args, off + 1, PTR), dims)
            else:
                lt = llvm_type(t)
                value = b.load(self.word(self.args, off, PTR), typ=storage_type(lt), align=1)
                self.values[arg] = b.trunc(value, lt) if storage_type(lt) != lt else value
        ret, dying = self.emit_block(self.fn.body.block)
        for v, t, off in zip(ret.operands, self.abi.result_types, self.abi.result_offsets, strict=True):
            if isinstance(t, MemRefType):
                self.retain(v)
                m = self.values[v]
                b.store(b.extract_value(m, 0), self.word_ptr(self.outs, off), align=8)
                b.store(b.extract_value(m, 1), self.word_ptr(self.outs, off + 1), align=8)
                for d in range(t.get_num_dims()):
                    b.store(b.extract_value(m, 2 + d), self.word_ptr(self.outs, off + 2 + d), align=8)
            else:
                self.store_scalar(self.values[v], self.word_ptr(self.outs, off))
        for v in dying:
            self.release(v)
        b.ret(ir.Constant(I32, abi_.OK))
        self.allocas.branch(self.start)

    def store_scalar(self, value: ir.Value, ptr: ir.Value) -> None:
        st = storage_type(value.type)
        self.builder.store(self.builder.zext(value, st) if st != value.type else value, ptr, align=1)

    def emit_block(self, block: Block) -> tuple[Operation, list[SSAValue]]:
        """Emit ``block`` up to its terminator, releasing each local buffer value after its
        last use; returns the terminator and the buffer values that die at it."""
        ops = list(block.ops)
        last: dict[SSAValue, int] = {}
        for i, op in enumerate(ops):
            for v in _used_values(op):
                last[v] = i
        local = set(block.args) | {r for op in ops for r in op.results}
        for a in block.args:
            if _is_buffer(a) and a not in last:
                self.release(a)
        for i, op in enumerate(ops[:-1]):
            self.emit_op(op)
            for r in op.results:
                if _is_buffer(r) and r not in last:
                    self.release(r)
            for v, j in last.items():
                if j == i and v in local and _is_buffer(v):
                    self.release(v)
        return ops[-1], [v for v, j in last.items() if j == len(ops) - 1 and v in local and _is_buffer(v)]

    def emit_op(self, op: Operation) -> None:
        lower = PURE_OPS.get(type(op))
        if lower is not None:
            rt = [llvm_type(r.type) for r in op.results]
            self.values[op.results[0]] = lower(self, op, [self.values[o] for o in op.operands], rt)
        elif isinstance(op, kern.LaunchOp):
            result = emit_launch(self, op, self.kernels[op.kernel_name], self.kernel_index[op.kernel_name])
            if op.res:
                self.values[op.res[0]] = result
        elif isinstance(op, memref.DimOp):
            self.emit_dim(op)
        elif isinstance(op, memref.AllocOp):
            self.emit_alloc(op)
        elif isinstance(op, memref.DeallocOp):
            self.release(op.memref)
        elif isinstance(op, scf.ForOp):
            self.emit_for(op)
        elif isinstance(op, kern.CheckOp):
            self.emit_check(op)
        else:
            raise unsupported(op, "in a native host schedule")

    def emit_dim(self, op: memref.DimOp) -> None:
        b, m = self.builder, self.values[op.source]
        index = self.values[op.index]
        rank = op.source.type.get_num_dims()
        if isinstance(index, ir.Constant):
            self.values[op.result] = b.extract_value(m, 2 + int(index.constant))
            return
        value = b.extract_value(m, 2)
        for d in range(1, rank):
            value = b.select(b.icmp_signed("==", index, ir.Constant(I64, d)), b.extract_value(m, 2 + d), value)
        self.values[op.result] = value

    def emit_alloc(self, op: memref.AllocOp) -> None:
        b = self.builder
        t: MemRefType = op.memref.type
        dynamic = iter(op.dynamic_sizes)
        dims = [self.values[next(dynamic)] if s < 0 else ir.Constant(I64, s) for s in t.get_shape()]
        for d in range(3):  # unused sizes 0: the prepared table compares all three
            v = dims[d] if d < len(dims) else ir.Constant(I64, 0)
            b.store(v, self.word_ptr(self.rt, abi_.RT_DIMS + d), align=8)
        header = b.call(alloc_function(self.module), [self.rt, ir.Constant(I64, self.alloc_index[op])])
        self.exit_if(b.icmp_unsigned("==", b.ptrtoint(header, I64), ir.Constant(I64, 0)), abi_.ALLOC_FAILED)
        data = b.load(b.gep(header, [ir.Constant(I64, 2)], source_etype=I64), typ=PTR, align=8)
        self.values[op.memref] = self.buffer(header, data, dims)

    def emit_check(self, op: kern.CheckOp) -> None:
        b = self.builder
        fail, ok = b.append_basic_block("check.fail"), b.append_basic_block("check.ok")
        b.cbranch(self.values[op.cond], ok, fail)
        b.position_at_end(fail)
        b.store(ir.Constant(I64, self.check_index[op]), self.word_ptr(self.status, 0), align=8)
        at = 1
        for v in op.values:
            self.store_scalar(self.values[v], self.word_ptr(self.status, at))
            at += abi_.words_of(v.type)
        b.ret(ir.Constant(I32, abi_.CHECK_FAILED))
        b.position_at_end(ok)

    def emit_for(self, op: scf.ForOp) -> None:
        b = self.builder
        lb, ub, step = (self.values[v] for v in (op.lb, op.ub, op.step))
        for v in op.iter_args:
            if _is_buffer(v):
                self.retain(v)
        top = self.depth == 0
        if top:  # len(range(lb, ub, step)), as the Python host reports it
            span = b.sub(ub, lb)
            total = b.select(b.icmp_signed(">", span, ir.Constant(I64, 0)),
                             b.sdiv(b.sub(b.add(span, step), ir.Constant(I64, 1)), step), ir.Constant(I64, 0))
        pre = b.block
        header, body_bb, exit_bb = (b.append_basic_block(n) for n in ("for.header", "for.body", "for.exit"))
        b.branch(header)
        b.position_at_end(header)
        iv = b.phi(I64)
        iv.add_incoming(lb, pre)
        carried = []
        for v in op.iter_args:
            phi = b.phi(self.values[v].type)
            phi.add_incoming(self.values[v], pre)
            carried.append(phi)
        b.cbranch(b.icmp_signed("<", iv, ub), body_bb, exit_bb)
        b.position_at_end(body_bb)
        block = op.body.block
        self.values[block.args[0]] = iv
        for arg, phi in zip(block.args[1:], carried, strict=True):
            self.values[arg] = phi
        self.depth += 1
        term, dying = self.emit_block(block)
        self.depth -= 1
        for v in term.operands:
            if _is_buffer(v):
                self.retain(v)
        yields = [self.values[v] for v in term.operands]
        for v in dying:
            self.release(v)
        if top:
            emit_poll(self, b.add(b.sdiv(b.sub(iv, lb), step), ir.Constant(I64, 1)), total)
        latch = b.block
        iv.add_incoming(b.add(iv, step), latch)
        for phi, v in zip(carried, yields, strict=True):
            phi.add_incoming(v, latch)
        b.branch(header)
        b.position_at_end(exit_bb)
        for r, phi in zip(op.results, carried, strict=True):
            self.values[r] = phi
