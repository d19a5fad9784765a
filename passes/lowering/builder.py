"""The one builder every pass and lowering uses: xDSL's ``Builder`` plus a location.

Passes build IR op by op — host code, kernel bodies, loops over row pointers — and
every op they build must point at the ``.cn`` expression it came from, so a later
error (a ``kern.check`` at run time, a located compile error) can quote it. xDSL's
:class:`~xdsl.builder.Builder` tracks *where* ops go (an ``InsertPoint``); this
subclass adds *which source location* they get, typed constants, the integer
arithmetic index computations need, and ``scf.for``/``scf.if`` built through
callbacks. ``insert`` (xDSL's) keeps an op's own location — right for ops cloned
from L1 — and ``add`` stamps the builder's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from xdsl.builder import Builder
from xdsl.dialects import arith, memref, scf
from xdsl.dialects.builtin import FloatAttr, IndexType, IntegerAttr, LocationAttr, UnknownLoc, f32, i32
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.rewriter import InsertPoint

from ccomp.dialects import kern

INDEX = IndexType()


@dataclass(eq=False)
class IRBuilder(Builder):
    """Inserts ops at ``insertion_point``; ``add`` gives them ``location``."""

    location: LocationAttr = field(default_factory=UnknownLoc)

    @staticmethod
    def at_end(block: Block, location: LocationAttr) -> IRBuilder:
        return IRBuilder(InsertPoint.at_end(block), location=location)

    def located(self, location: LocationAttr) -> IRBuilder:
        """A builder at the same insertion point that stamps another location."""
        return IRBuilder(self.insertion_point, location=location)

    def add(self, op: Operation) -> SSAValue:
        """Insert ``op`` at this builder's location; its first result (None if it has none)."""
        op.location = self.location
        self.insert(op)
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
             body: Callable[[IRBuilder, SSAValue, list[SSAValue]], Sequence[SSAValue]],
             step: int = 1) -> list[SSAValue]:
        """``scf.for`` from ``lo`` to ``hi`` carrying ``inits``; ``body`` gets a builder
        for the loop body, the induction variable and the carried values and returns the
        next carried values."""
        block = Block(arg_types=[INDEX] + [v.type for v in inits])
        inner = IRBuilder.at_end(block, self.location)
        nxt = body(inner, block.args[0], list(block.args[1:]))
        inner.add(scf.YieldOp(*nxt))
        op = scf.ForOp(lo, hi, self.index(step), list(inits), Region(block))
        self.add(op)
        return list(op.results)

    def if_(self, cond: SSAValue, then: Callable[[IRBuilder], Sequence[SSAValue]],
            other: Callable[[IRBuilder], Sequence[SSAValue]] | None = None,
            result_types: Sequence[Attribute] = ()) -> list[SSAValue]:
        """``scf.if``; with ``result_types`` both arms return values of those types."""
        regions = []
        for arm in (then, other):
            block = Block()
            inner = IRBuilder.at_end(block, self.location)
            values = arm(inner) if arm is not None else []
            inner.add(scf.YieldOp(*values))
            regions.append(Region(block))
        op = scf.IfOp(cond, list(result_types), regions[0], regions[1])
        self.add(op)
        return list(op.results)


class KernelBuilder(IRBuilder):
    """Builds one ``kern.kernel``: bindings are its block arguments."""

    def __init__(self, name: str, rank: int, bindings: Sequence[Attribute], location: LocationAttr,
                 reduce: str | None = None):
        self.block = Block(arg_types=list(bindings))
        super().__init__(InsertPoint.at_end(self.block), location=location)
        self.name, self.rank, self.reduce = name, rank, reduce
        self.args = list(self.block.args)

    def point(self, dim: int) -> SSAValue:
        return self.add(kern.IndexOp(dim))

    def finish(self, *values: SSAValue) -> kern.KernelOp:
        self.add(kern.YieldOp(values))
        op = kern.KernelOp(self.name, self.rank, Region(self.block), self.reduce)
        op.location = self.location
        return op
