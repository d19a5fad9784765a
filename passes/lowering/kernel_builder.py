"""A small builder for hand-written ``kern.kernel`` bodies and host code.

``sparse-lower`` writes its kernels op by op — loops over row pointers, binary
searches, scatters — rather than deriving them from an L1 region, so it needs
``scf.for``/``scf.if`` with results and typed constants without ceremony. Every op
built here gets the location of the L1 op being lowered, so a kernel's code still
points at the ``.cn`` expression it came from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from xdsl.dialects import arith, memref, scf
from xdsl.dialects.builtin import FloatAttr, IndexType, IntegerAttr, f32, i32
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.dialects.builtin import LocationAttr as Location

from ccomp.dialects import kern

INDEX = IndexType()


class OpBuilder:
    """Appends ops to a current block; nested regions are built through callbacks."""

    def __init__(self, block: Block, location: Location):
        self.block, self.location = block, location

    def add(self, op: Operation) -> SSAValue:
        op.location = self.location
        self.block.add_op(op)
        return op.results[0] if op.results else None  # type: ignore[return-value]

    # ----- constants and casts ----------------------------------------------------------
    def index(self, value: int) -> SSAValue:
        return self.add(arith.ConstantOp(IntegerAttr(value, INDEX)))

    def i32(self, value: int) -> SSAValue:
        return self.add(arith.ConstantOp(IntegerAttr(value, i32)))

    def f32(self, value: float) -> SSAValue:
        return self.add(arith.ConstantOp(FloatAttr(value, f32)))

    def to_index(self, v: SSAValue) -> SSAValue:
        return v if isinstance(v.type, IndexType) else self.add(arith.IndexCastOp(v, INDEX))

    def to_i32(self, v: SSAValue) -> SSAValue:
        return v if v.type == i32 else self.add(arith.IndexCastOp(v, i32))

    # ----- arithmetic (index or i32) ----------------------------------------------------
    def addi(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.add(arith.AddiOp(a, b))

    def subi(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.add(arith.SubiOp(a, b))

    def muli(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.add(arith.MuliOp(a, b))

    def divi(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.add(arith.DivSIOp(a, b))

    def remi(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.add(arith.RemSIOp(a, b))

    def maxi(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.add(arith.MaxSIOp(a, b))

    def mini(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.add(arith.MinSIOp(a, b))

    def cmpi(self, pred: str, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.add(arith.CmpiOp(a, b, pred))

    def select(self, c: SSAValue, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.add(arith.SelectOp(c, a, b))

    def clamp(self, v: SSAValue, size: SSAValue) -> SSAValue:
        """``v`` clamped into ``[0, size)``: reads through stored indices stay inside
        their buffer even if an index array was changed after it was checked."""
        return self.mini(self.maxi(v, self.index(0)), self.subi(size, self.index(1)))

    def ceil_div(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.divi(self.subi(self.addi(a, b), self.add(arith.ConstantOp(IntegerAttr(1, a.type)))), b)

    # ----- memory ------------------------------------------------------------------------
    def load(self, buf: SSAValue, *indices: SSAValue) -> SSAValue:
        return self.add(memref.LoadOp.get(buf, list(indices)))

    def load_index(self, buf: SSAValue, *indices: SSAValue) -> SSAValue:
        """An ``i32`` element (a stored index) as ``index``."""
        return self.to_index(self.load(buf, *indices))

    def store(self, value: SSAValue, buf: SSAValue, *indices: SSAValue) -> None:
        self.add(memref.StoreOp.get(value, buf, list(indices)))

    def dim(self, buf: SSAValue, axis: int) -> SSAValue:
        return self.add(memref.DimOp(buf, self.index(axis)))

    # ----- control flow --------------------------------------------------------------------
    def loop(self, lo: SSAValue, hi: SSAValue, inits: Sequence[SSAValue],
             body: Callable[["OpBuilder", SSAValue, list[SSAValue]], Sequence[SSAValue]],
             step: int = 1) -> list[SSAValue]:
        """``scf.for`` from ``lo`` to ``hi`` carrying ``inits``; ``body`` gets a builder
        for the loop body, the induction variable and the carried values and returns the
        next carried values."""
        block = Block(arg_types=[INDEX] + [v.type for v in inits])
        inner = OpBuilder(block, self.location)
        nxt = body(inner, block.args[0], list(block.args[1:]))
        inner.add(scf.YieldOp(*nxt))
        op = scf.ForOp(lo, hi, self.index(step), list(inits), Region(block))
        self.add(op)
        return list(op.results)

    def if_(self, cond: SSAValue, then: Callable[["OpBuilder"], Sequence[SSAValue]],
            other: Callable[["OpBuilder"], Sequence[SSAValue]] | None = None,
            result_types: Sequence[Attribute] = ()) -> list[SSAValue]:
        """``scf.if``; with ``result_types`` both arms return values of those types."""
        regions = []
        for arm in (then, other):
            block = Block()
            inner = OpBuilder(block, self.location)
            values = arm(inner) if arm is not None else []
            inner.add(scf.YieldOp(*values))
            regions.append(Region(block))
        op = scf.IfOp(cond, list(result_types), regions[0], regions[1])
        self.add(op)
        return list(op.results)


class KernelBuilder(OpBuilder):
    """Builds one ``kern.kernel``: bindings are its block arguments."""

    def __init__(self, name: str, rank: int, bindings: Sequence[Attribute], location: Location,
                 reduce: str | None = None):
        super().__init__(Block(arg_types=list(bindings)), location)
        self.name, self.rank, self.reduce = name, rank, reduce
        self.args = list(self.block.args)

    def point(self, dim: int) -> SSAValue:
        return self.add(kern.IndexOp(dim))

    def finish(self, *values: SSAValue) -> kern.KernelOp:
        self.add(kern.YieldOp(values))
        op = kern.KernelOp(self.name, self.rank, Region(self.block), self.reduce)
        op.location = self.location
        return op
