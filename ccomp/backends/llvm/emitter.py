"""Lowers the ops of one kernel body — control flow, memory and ``kern`` ops here, the
pure ops through the tables — into the llvmlite function the index-space loops
(``lower.py``) are building.

Regions become basic blocks: ``scf.for`` a header/body/latch loop whose ``phi`` nodes
carry the induction variable and ``iter_args``; ``scf.if`` two arms joined by ``phi``
nodes for its results. Buffer addresses are computed row-major from the sizes passed
in with each binding, over the element's *scalar* type, so ``vector<3xf32>``
elements are packed 12 bytes apart as in NumPy; vector accesses use the scalar's
alignment because NumPy only guarantees that much.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from llvmlite import ir
from xdsl.dialects import arith, memref, scf
from xdsl.dialects.builtin import IntegerAttr
from xdsl.ir import Block, Operation, SSAValue

from ccomp.backends.dispatch import cannot_emit, emits, op_table
from ccomp.backends.llvm.builder import Lowering, unsupported
from ccomp.dialects import kern
from ccomp.backends.llvm.ops_arith import ARITH_OPS
from ccomp.backends.llvm.ops_math import MATH_OPS
from ccomp.backends.llvm.ops_vector import VECTOR_OPS
from ccomp.backends.llvm.types import I64, UnsupportedType, element_of, llvm_type, storage_type

PURE_OPS = {**ARITH_OPS, **MATH_OPS, **VECTOR_OPS}
"""Op class -> lowering of the ops without regions or memory effects (the op tables)."""

Buffer = tuple[ir.Value, list[ir.Value]]  # (pointer, sizes)


def byte_size(t: ir.Type) -> int:
    """Bytes of the scalar (lane) type of ``t``: the alignment NumPy guarantees."""
    t = element_of(t)
    return max(1, t.width // 8) if isinstance(t, ir.IntType) else {
        ir.HalfType: 2, ir.FloatType: 4, ir.DoubleType: 8}[type(t)]


class KernelEmitter(Lowering):
    """Emits kernel-body ops at the builder's position, reading and writing ``values``."""

    def __init__(self, module: ir.Module, builder: ir.IRBuilder):
        super().__init__(module, builder)
        self.values: dict[SSAValue, ir.Value] = {}
        self.buffers: dict[SSAValue, Buffer] = {}
        self.index: list[ir.Value] = []  # kern.index d
        self.extents: list[ir.Value] = []  # kern.extent d
        self.substitute: dict[Operation, SSAValue] = {}  # op -> operand it equals here
        self.skip: set[Operation] = set()  # ops already emitted (hoisted)
        self.on_yield: Callable[[Operation, list[ir.Value]], None] | None = None
        self.handlers = op_table(type(self))

    # -- blocks and ops -------------------------------------------------------------

    def emit_block(self, block: Block) -> list[ir.Value]:
        """Emit ``block``'s ops; returns the values its terminator yields."""
        for op in block.ops:
            if isinstance(op, (scf.YieldOp, kern.YieldOp)):
                vals = [self.values[v] for v in op.operands]
                if isinstance(op, kern.YieldOp) and self.on_yield is not None and vals:
                    self.on_yield(op, vals)
                return vals
            if op not in self.skip:
                self.emit_op(op)
        return []

    def emit_op(self, op: Operation) -> None:
        """Lower one op and record its results."""
        if op in self.substitute:
            self.values[op.results[0]] = self.values[self.substitute[op]]
            return
        try:
            result_types = [llvm_type(r.type) for r in op.results]
            results = self._dispatch(op, result_types)
        except UnsupportedType as err:
            raise unsupported(op, str(err)) from None
        if isinstance(results, ir.Value):
            results = [results]
        for res, val in zip(op.results, results, strict=True):
            self.values[res] = val

    def _dispatch(self, op: Operation, rt: list[ir.Type]) -> ir.Value | Sequence[ir.Value]:
        """The op tables first (pure ops), then this class's ``@emits`` methods."""
        lower = PURE_OPS.get(type(op))
        if lower is not None:
            return lower(self, op, [self.values[o] for o in op.operands], rt)
        handler = self.handlers.get(type(op))
        if handler is None:
            raise cannot_emit(op, "llvm")
        return handler(self, op, rt)

    # -- kern ----------------------------------------------------------------------

    @emits(kern.IndexOp)
    def _kern_index(self, op: Operation, rt: list[ir.Type]) -> ir.Value:
        return self.index[op.properties["dim"].value.data]  # type: ignore[attr-defined]

    @emits(kern.ExtentOp)
    def _kern_extent(self, op: Operation, rt: list[ir.Type]) -> ir.Value:
        return self.extents[op.properties["dim"].value.data]  # type: ignore[attr-defined]

    # -- memref --------------------------------------------------------------------

    def _buffer(self, op: Operation, ref: SSAValue) -> Buffer:
        if ref not in self.buffers:
            raise unsupported(op, "only kernel bindings can be accessed as buffers")
        return self.buffers[ref]

    def address(self, op: Operation, ref: SSAValue, indices: Sequence[ir.Value], t: ir.Type) -> ir.Value:
        """The address of element ``indices`` (row-major) of buffer ``ref``, whose
        elements have type ``t`` (a vector type counts its lanes as packed scalars)."""
        ptr, dims = self._buffer(op, ref)
        b = self.builder
        offset: ir.Value = ir.Constant(I64, 0)
        for k, v in enumerate(indices):
            offset = v if k == 0 else b.add(b.mul(offset, dims[k], flags=("nsw",)), v, flags=("nsw",))
        lanes = t.count if isinstance(t, ir.VectorType) else 1
        if lanes > 1:
            offset = b.mul(offset, ir.Constant(I64, lanes), flags=("nsw",))
        return b.gep(ptr, [offset], inbounds=True, source_etype=element_of(storage_type(t)))

    def load(self, addr: ir.Value, t: ir.Type) -> ir.Value:
        """Load a ``t`` from a buffer (``i1`` lanes are stored as bytes)."""
        value = self.builder.load(addr, typ=storage_type(t), align=byte_size(t))
        return self.builder.trunc(value, t) if storage_type(t) != t else value

    def store(self, value: ir.Value, addr: ir.Value) -> None:
        """Store ``value`` into a buffer (``i1`` lanes are stored as bytes)."""
        t = value.type
        if storage_type(t) != t:
            value = self.builder.zext(value, storage_type(t))
        self.builder.store(value, addr, align=byte_size(t))

    @emits(memref.LoadOp)
    def _memref_load(self, op: Operation, rt: list[ir.Type]) -> ir.Value:
        indices = [self.values[i] for i in op.operands[1:]]
        return self.load(self.address(op, op.operands[0], indices, rt[0]), rt[0])

    @emits(memref.StoreOp)
    def _memref_store(self, op: Operation, rt: list[ir.Type]) -> Sequence[ir.Value]:
        value = self.values[op.operands[0]]
        indices = [self.values[i] for i in op.operands[2:]]
        self.store(value, self.address(op, op.operands[1], indices, value.type))
        return []

    @emits(kern.AtomicAddOp)
    def _kern_atomic_add(self, op: Operation, rt: list[ir.Type]) -> Sequence[ir.Value]:
        """``atomicrmw add`` (monotonic: only the final counts matter) on the shared
        element. A launch's row chunks run on several threads that may hit the same bin;
        per-thread copies merged afterwards would avoid the contended cache line, but
        need a buffer per thread that the kernel ABI does not have, and the kernel runs
        one memory-bound pass anyway."""
        value = self.values[op.operands[0]]
        indices = [self.values[i] for i in op.operands[2:]]
        self.builder.atomic_rmw("add", self.address(op, op.operands[1], indices, value.type), value, "monotonic")
        return []

    @emits(memref.DimOp)
    def _memref_dim(self, op: Operation, rt: list[ir.Type]) -> ir.Value:
        _, dims = self._buffer(op, op.operands[0])
        index = op.operands[1]
        owner = index.owner
        if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr):
            k = owner.value.value.data
            if not 0 <= k < len(dims):
                raise unsupported(op, f"dimension {k} of a rank-{len(dims)} memref")
            return dims[k]
        result = dims[-1]
        for k in range(len(dims) - 2, -1, -1):
            is_k = self.builder.icmp_signed("==", self.values[index], ir.Constant(I64, k))
            result = self.builder.select(is_k, dims[k], result)
        return result

    # -- scf -----------------------------------------------------------------------

    def loop(self, start: ir.Value, end: ir.Value, step: ir.Value, inits: Sequence[ir.Value],
             body: Callable[[ir.Value, list[ir.Value]], list[ir.Value]],
             next_index: Callable[[ir.Value], ir.Value] | None = None, name: str = "loop") -> list[ir.Value]:
        """``for (i = start; i < end; i = next_index(i) or i + step)`` carrying ``inits``
        through ``body(i, carried) -> carried``; returns the carried values at exit."""
        b = self.builder
        pre = b.block
        header = b.append_basic_block(f"{name}.header")
        body_bb = b.append_basic_block(f"{name}.body")
        exit_bb = b.append_basic_block(f"{name}.exit")
        b.branch(header)
        b.position_at_end(header)
        iv = b.phi(start.type, name=f"{name}.i")
        iv.add_incoming(start, pre)
        carried = []
        for v in inits:
            phi = b.phi(v.type)
            phi.add_incoming(v, pre)
            carried.append(phi)
        b.cbranch(b.icmp_signed("<", iv, end), body_bb, exit_bb)
        b.position_at_end(body_bb)
        new = body(iv, list(carried))
        nxt = next_index(iv) if next_index is not None else b.add(iv, step, flags=("nsw",))
        latch = b.block
        iv.add_incoming(nxt, latch)
        for phi, v in zip(carried, new, strict=True):
            phi.add_incoming(v, latch)
        b.branch(header)
        b.position_at_end(exit_bb)
        return list(carried)

    @emits(scf.ForOp)
    def _scf_for(self, op: Operation, rt: list[ir.Type]) -> list[ir.Value]:
        lb, ub, step, *inits = (self.values[o] for o in op.operands)
        block = op.regions[0].block

        def body(iv: ir.Value, carried: list[ir.Value]) -> list[ir.Value]:
            self.values[block.args[0]] = iv
            for arg, v in zip(block.args[1:], carried, strict=True):
                self.values[arg] = v
            return self.emit_block(block)

        return self.loop(lb, ub, step, inits, body, name="for")

    @emits(scf.IfOp)
    def _scf_if(self, op: Operation, rt: list[ir.Type]) -> list[ir.Value]:
        b = self.builder
        cond = self.values[op.operands[0]]
        then_bb = b.append_basic_block("if.then")
        else_bb = b.append_basic_block("if.else")
        merge = b.append_basic_block("if.end")
        b.cbranch(cond, then_bb, else_bb)
        arms = []
        for bb, region in ((then_bb, op.regions[0]), (else_bb, op.regions[1])):
            b.position_at_end(bb)
            vals = self.emit_block(region.block) if region.blocks else []
            arms.append((vals, b.block))
            b.branch(merge)
        b.position_at_end(merge)
        results = []
        for k, t in enumerate(rt):
            phi = b.phi(t)
            for vals, bb in arms:
                phi.add_incoming(vals[k], bb)
            results.append(phi)
        return results
