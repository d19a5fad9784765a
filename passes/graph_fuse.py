"""``graph-fuse``: splice every pointwise producer into the consumer that materialises it.

After this pass each sink — ``graph.capture``, ``graph.reduce``, ``graph.histogram`` — consumes one
``graph.map`` whose inputs are all images, placed right before it, so each sink is
one kernel. Producers are duplicated into every sink that needs them (pointwise
recomputation is cheaper than a round trip through memory). A ``graph.blur``
becomes neighbour reads (``graph.load``) in the consumer's body; what a blur
computes (window, sum, scale) is in :mod:`ccomp.passes.lowering.blur`, and this
pass decides only where each tap reads from.

A stencil read of a field that is not materialised yet — a blur of a field, or a
neighbour read of a field the frontend captured implicitly (``graph.capture ... implicit``) —
is either **recomputed** at each neighbour, or **materialised** once and read back.
The cost rule: recompute when ``taps * cost <= cost + recompute-cost``, where
``cost`` counts the producer's ops and ``recompute-cost`` is what one extra pass over
memory is worth in ops (0 always materialises). A recomputed neighbour is evaluated
at the clamped coordinate, exactly as the materialised image would be read, so the
choice never changes results. A ``capture`` the user wrote is always kept.

    %b = graph.blur %src radius 1 : ...             %m = graph.map(%src) {
    %m = graph.map(%b) { ... }              ==>        9 x graph.load %src[x+dx, y+dy], sum, scale
    %c = graph.capture %m, %sz : ...                   ... }
                                                     %c = graph.capture %m, %sz : ...

The pass is global, not a set of local ``RewritePattern``s: the cost rule counts
*every* neighbour read of a field across all the sinks that read it (the taps), and
a materialisation inserts a new sink that must be fused before the sink that
needed it — a decision per producer over the whole block, not per op.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from ccomp.diagnostics import PassError
from ccomp.dialects import graph
from ccomp.passes.lowering.blur import blur_cost, lower_blur, taps
from ccomp.passes.lowering.builder import IRBuilder
from ccomp.passes.lowering.kern_body import extract_lane

Point = tuple[SSAValue, ...] | None  # where a value is evaluated, (x, y[, z]); None: the current element


def cost(value: SSAValue) -> int:
    """Ops needed to compute a field at one element (images cost one read)."""
    owner = value.owner
    if isinstance(value.type, graph.AnyImageType) or not isinstance(owner, Operation):
        return 1
    if isinstance(owner, graph.MapOp):
        return len(owner.body.block.ops) + sum(cost(v) for v in owner.inputs)
    if isinstance(owner, graph.BlurOp):
        return blur_cost(owner, cost(owner.input))
    return 1


class _Fuser:
    """Builds one fused ``graph.map`` for one sink, inserting captures before it."""

    def __init__(self, sink: Operation, size: SSAValue, pass_cost: int):
        self.sink, self.size, self.pass_cost = sink, size, pass_cost
        self.block = Block()
        self.b = IRBuilder.at_end(self.block, sink.location)  # ops computing the sink's element
        self.inputs: list[SSAValue] = []
        self.memo: dict[tuple[SSAValue, Point], SSAValue] = {}
        self.coords: tuple[SSAValue, ...] | None = None
        self.rank = size.type.get_shape()[0]  # 2 for an image's extent, 3 for a volume's

    def coord(self) -> tuple[SSAValue, ...]:
        if self.coords is None:
            ops = self.b.insert(tuple(graph.CoordOp(d) for d in range(self.rank)))
            self.coords = tuple(o.result for o in ops)
        return self.coords

    def recompute(self, producer_cost: int, taps: int) -> bool:
        return self.pass_cost > 0 and taps * producer_cost <= producer_cost + self.pass_cost

    def element(self, value: SSAValue, at: Point = None) -> SSAValue:
        """The value of field or image ``value`` at ``at`` (the current element if None)."""
        key = (value, at)
        if key in self.memo:
            return self.memo[key]
        owner = value.owner
        if isinstance(value.type, graph.AnyImageType):
            if at is None:
                self.inputs.append(value)
                result = self.block.insert_arg(value.type.element, len(self.block.args))
            else:
                result = self.b.add(graph.LoadOp(value, *at))
        elif isinstance(owner, graph.MapOp):
            result = self.inline_map(owner, at)
        elif isinstance(owner, graph.BlurOp):
            result = self.inline_blur(owner, at)
        else:
            raise PassError(owner if isinstance(owner, Operation) else self.sink,
                            f"graph-fuse cannot fuse a field computed by '{getattr(owner, 'name', owner)}'",
                            internal=True)
        self.memo[key] = result
        return result

    def inline_map(self, op: graph.MapOp, at: Point) -> SSAValue:
        mapping: dict[SSAValue, SSAValue] = {
            arg: self.element(inp, at) for arg, inp in zip(op.body.block.args, op.inputs)
        }
        for inner in op.body.block.ops:
            if isinstance(inner, graph.YieldOp):
                return mapping.get(inner.value, inner.value)
            if isinstance(inner, graph.CoordOp) and at is not None:
                mapping[inner.result] = at[inner.dim.value.data]
            elif isinstance(inner, graph.LoadOp) and self.recomputable(inner.image):
                capture = inner.image.owner
                coords = [inner.x, inner.y] if inner.z is None else [inner.x, inner.y, inner.z]
                point = self.clamped([mapping.get(c, c) for c in coords], capture.size, inner)
                mapping[inner.result] = self.element(capture.input, point)
            else:
                self.b.insert(inner.clone(value_mapper=mapping))
        raise PassError(op, "graph.map without graph.yield", internal=True)

    def recomputable(self, image: SSAValue) -> bool:
        """An implicit capture of a cheap field, read only by neighbour reads."""
        capture = image.owner
        if not isinstance(capture, graph.CaptureOp) or capture.implicit is None:
            return False
        if not all(isinstance(u.operation, graph.LoadOp) for u in image.uses):
            return False
        return self.recompute(cost(capture.input), sum(1 for _ in image.uses))

    def clamped(self, coords: list[SSAValue], size: SSAValue, loc: Operation) -> tuple[SSAValue, ...]:
        """(x, y[, z]) clamped into the extent ``size``: where a materialised read would land."""
        b = self.b.located(loc.location)
        out = []
        for lane, v in enumerate(coords):
            extent = b.add(extract_lane(size, lane))
            last = b.subi(extent, b.i32(1))
            out.append(b.mini(b.maxi(v, b.i32(0)), last))
        return tuple(out)

    def inline_blur(self, op: graph.BlurOp, at: Point) -> SSAValue:
        """The blur's element at ``at``: its input recomputed at each clamped neighbour
        when the cost rule says so, else read from an image (materialised if a field)."""
        source = op.input
        recompute = isinstance(source.type, graph.AnyFieldType) and self.recompute(cost(source), taps(op))
        if isinstance(source.type, graph.AnyFieldType) and not recompute:
            source = materialise(source, self.size, before=self.sink, loc_from=op, pass_cost=self.pass_cost)
        coords = at if at is not None else self.coord()
        b = self.b.located(op.location)

        def tap(*moved: SSAValue) -> SSAValue:
            if recompute:  # the field at the clamped neighbour, as the blur of an image reads it
                return self.element(source, self.clamped(list(moved), self.size, op))
            return b.add(graph.LoadOp(source, *moved))
        return lower_blur(b, op, tuple(coords), tap)

    def build(self, root: SSAValue) -> graph.MapOp:
        value = self.element(root)
        self.b.add(graph.YieldOp(value))

        elem = graph.element_of(root.type)
        fused = graph.MapOp(self.inputs, elem, Region(self.block), self.rank)
        fused.location = root.owner.location if isinstance(root.owner, Operation) else self.sink.location
        return fused


def materialise(field: SSAValue, size: SSAValue, before: Operation, loc_from: Operation, pass_cost: int) -> SSAValue:
    """Insert ``graph.capture field, size`` before ``before`` and fuse it at once."""
    capture = graph.CaptureOp(field, size)
    capture.location = loc_from.location
    Rewriter.insert_op(capture, InsertPoint.before(before))
    fuse_sink(capture, pass_cost)
    return capture.result


def fuse_sink(sink: graph.CaptureOp | graph.ReduceOp | graph.HistogramOp, pass_cost: int) -> None:
    """Give ``sink`` a single fused map over images as its input, placed right before it
    (later passes rely on that: the map may then use anything the sink can)."""
    root = sink.input
    owner = root.owner
    fuser = _Fuser(sink, sink.size, pass_cost)
    if isinstance(owner, graph.MapOp) and root.has_one_use() and all(
            isinstance(i.type, graph.AnyImageType) for i in owner.inputs) and not any(
            isinstance(o, graph.LoadOp) and fuser.recomputable(o.image)
            for o in owner.body.walk()):
        owner.detach()
        Rewriter.insert_op(owner, InsertPoint.before(sink))
        return  # already fused
    fused = fuser.build(root)

    Rewriter.insert_op(fused, InsertPoint.before(sink))
    sink.operands[0] = fused.result


def _erase_dead(block: Block) -> None:
    changed = True
    while changed:
        changed = False
        for op in reversed(list(block.ops)):
            if isinstance(op, (graph.MapOp, graph.BlurOp, *graph.SINKS)) and not op.results[0].uses:
                Rewriter.erase_op(op)
                changed = True


@dataclass(frozen=True)
class GraphFusePass(ModulePass):
    """Fuse pointwise chains and stencils into one map per sink (see module docstring)."""

    name = "graph-fuse"
    recompute_cost: int = 40

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        sinks = [s for s in op.walk() if isinstance(s, graph.SINKS)]
        blocks = {sink.parent_block() for sink in sinks}
        for sink in sinks:
            fuse_sink(sink, self.recompute_cost)
        for block in blocks:
            if block is not None:
                _erase_dead(block)
