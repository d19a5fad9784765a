"""``graph-fuse``: splice every pointwise producer into the consumer that materialises it.

After this pass each sink — ``graph.capture`` and ``graph.reduce`` — consumes one
``graph.map`` whose inputs are all images, so each sink becomes exactly one kernel.
Producers are duplicated into every sink that needs them (pointwise recomputation
is cheaper than a round trip through memory). A ``graph.blur`` becomes neighbour
reads (``graph.load``) in the consumer's body; if the blurred value is itself an
un-captured field, it is first materialised over the consumer's extent, since a
stencil cannot read a value that exists only per element. Results never change:
every rewrite here is an exact substitution of the producer's computation.

    %b = graph.blur %src radius 1 : ...             %m = graph.map(%src) {
    %m = graph.map(%b) { ... }              ==>        9 x graph.load %src[x+dx, y+dy], sum, scale
    %c = graph.capture %m, %sz : ...                   ... }
                                                     %c = graph.capture %m, %sz : ...
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith
from xdsl.dialects.builtin import FloatAttr, IntegerAttr, ModuleOp, VectorType, f32, i32
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from ccomp.dialects import graph


class _Fuser:
    """Builds one fused ``graph.map`` for one sink, inserting captures before it."""

    def __init__(self, sink: Operation, size: SSAValue):
        self.sink, self.size = sink, size
        self.block = Block()
        self.inputs: list[SSAValue] = []
        self.memo: dict[SSAValue, SSAValue] = {}
        self.coords: tuple[SSAValue, SSAValue] | None = None

    def add(self, op: Operation, loc_from: Operation | None = None) -> SSAValue:
        if loc_from is not None:
            op.location = loc_from.location
        self.block.add_op(op)
        return op.results[0] if op.results else None  # type: ignore[return-value]

    def coord(self) -> tuple[SSAValue, SSAValue]:
        if self.coords is None:
            self.coords = (self.add(graph.CoordOp(0)), self.add(graph.CoordOp(1)))
        return self.coords

    def element(self, value: SSAValue) -> SSAValue:
        """The value of field or image ``value`` at the current element, in the new body."""
        if value in self.memo:
            return self.memo[value]
        owner = value.owner
        if isinstance(value.type, graph.ImageType):
            self.inputs.append(value)
            result = self.block.insert_arg(value.type.element, len(self.block.args))
        elif isinstance(owner, graph.MapOp):
            result = self.inline_map(owner)
        elif isinstance(owner, graph.BlurOp):
            result = self.inline_blur(owner)
        else:
            raise AssertionError(f"graph-fuse: unexpected field producer {owner}")
        self.memo[value] = result
        return result

    def inline_map(self, op: graph.MapOp) -> SSAValue:
        mapping: dict[SSAValue, SSAValue] = {
            arg: self.element(inp) for arg, inp in zip(op.body.block.args, op.inputs)
        }
        for inner in op.body.block.ops:
            if isinstance(inner, graph.YieldOp):
                return mapping.get(inner.value, inner.value)
            self.block.add_op(inner.clone(value_mapper=mapping))
        raise AssertionError("graph.map without graph.yield")

    def inline_blur(self, op: graph.BlurOp) -> SSAValue:
        image = op.input
        if isinstance(image.type, graph.FieldType):
            image = materialise(image, self.size, before=self.sink, loc_from=op)
        r = op.radius.value.data
        elem = image.type.element
        x, y = self.coord()
        total: SSAValue | None = None
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                tx = x if dx == 0 else self.add(arith.AddiOp(x, self.const_i(dx, op)), op)
                ty = y if dy == 0 else self.add(arith.AddiOp(y, self.const_i(dy, op)), op)
                tap = self.add(graph.LoadOp(image, tx, ty), op)
                total = tap if total is None else self.add(arith.AddfOp(total, tap), op)
        n = (2 * r + 1) ** 2
        scale = self.add(arith.ConstantOp(FloatAttr(1.0 / n, f32)), op)
        if isinstance(elem, VectorType):
            from xdsl.dialects import vector
            scale = self.add(vector.BroadcastOp(scale, elem), op)
        return self.add(arith.MulfOp(total, scale), op)

    def const_i(self, v: int, op: Operation) -> SSAValue:
        return self.add(arith.ConstantOp(IntegerAttr(v, i32)), op)

    def build(self, root: SSAValue) -> graph.MapOp:
        value = self.element(root)
        self.add(graph.YieldOp(value), self.sink)
        elem = graph.element_of(root.type)
        fused = graph.MapOp(self.inputs, elem, Region(self.block))
        fused.location = root.owner.location if isinstance(root.owner, Operation) else self.sink.location
        return fused


def materialise(field: SSAValue, size: SSAValue, before: Operation, loc_from: Operation) -> SSAValue:
    """Insert ``graph.capture field, size`` before ``before`` and fuse it at once."""
    capture = graph.CaptureOp(field, size)
    capture.location = loc_from.location
    Rewriter.insert_op(capture, InsertPoint.before(before))
    fuse_sink(capture)
    return capture.result


def fuse_sink(sink: graph.CaptureOp | graph.ReduceOp) -> None:
    """Give ``sink`` a single fused map over images as its input, placed right before it
    (later passes rely on that: the map may then use anything the sink can)."""
    root = sink.input
    if isinstance(root.owner, graph.MapOp) and all(
        isinstance(i.type, graph.ImageType) for i in root.owner.inputs
    ) and root.has_one_use():
        root.owner.detach()
        Rewriter.insert_op(root.owner, InsertPoint.before(sink))
        return  # already fused
    fused = _Fuser(sink, sink.size).build(root)
    Rewriter.insert_op(fused, InsertPoint.before(sink))
    sink.operands[0] = fused.result


def _erase_dead(block: Block) -> None:
    changed = True
    while changed:
        changed = False
        for op in reversed(list(block.ops)):
            if isinstance(op, (graph.MapOp, graph.BlurOp)) and not op.results[0].uses:
                Rewriter.erase_op(op)
                changed = True


@dataclass(frozen=True)
class GraphFusePass(ModulePass):
    """Fuse pointwise chains and stencils into one map per sink (see module docstring)."""

    name = "graph-fuse"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        blocks = {sink.parent_block() for sink in op.walk() if isinstance(sink, (graph.CaptureOp, graph.ReduceOp))}
        for sink in [s for s in op.walk() if isinstance(s, (graph.CaptureOp, graph.ReduceOp))]:
            fuse_sink(sink)
        for block in blocks:
            if block is not None:
                _erase_dead(block)
