"""``graph-schedule``: decide which sinks share a kernel, in what order, within what limits.

Run after ``graph-fuse``, when every ``graph.capture``/``graph.reduce`` consumes one
fused map. The block order is already a topological order of the sinks (SSA), and
each sink is computed over its explicit extent (its ``size`` operand), so the pass:

- **merges** consecutive sinks of equal extent into one kernel — several captures
  and at most one reduction (a histogram keeps a kernel of its own) — unless one
  reads what another writes (a read-after-write hazard: it reads the image captured, or a uniform computed from
  the reduction), or a value one of them produces is used before the group's last
  member (the merged kernel runs at that point), or the merged kernel would bind
  more buffers than ``max-bindings`` allows;
- **splits** a sink whose own kernel would need more than ``max-bindings`` buffers by
  materialising part of its computation: the body value reading the most images
  that still fit is captured first, over the same extent, and read back pointwise.

The decision is recorded as a ``group N`` property on each sink, which
``graph-to-kern`` follows (sinks without one get a kernel each). Write-after-read
hazards cannot occur: every capture writes a fresh buffer.

The grouping is global, not a set of local ``RewritePattern``s: whether a sink may
join a kernel depends on every sink grouped before it in its block (hazards, uses
between members, the buffers the group binds together), so one walk over each
block's sinks in order decides it.
"""


from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, i64
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from ccomp.diagnostics import PassError
from ccomp.dialects import graph
from ccomp.passes.lowering.kern_body import outer_values

Sink = graph.CaptureOp | graph.ReduceOp | graph.HistogramOp


def same_extent(a: SSAValue, b: SSAValue) -> bool:
    if a is b:
        return True
    oa, ob = a.owner, b.owner
    return isinstance(oa, graph.SizeOp) and isinstance(ob, graph.SizeOp) and oa.image is ob.image


def images_read(m: graph.MapOp) -> set[SSAValue]:
    return {v for v in [*m.inputs, *outer_values(m)] if isinstance(v.type, graph.AnyImageType)}


def buffers(sinks: list[Sink]) -> int:
    """Buffers a kernel computing ``sinks`` binds: images read plus images (or bins) written."""
    read: set[SSAValue] = set()
    for s in sinks:
        read |= images_read(s.operands[0].owner)
    return len(read) + sum(not isinstance(s, graph.ReduceOp) for s in sinks)


def depends_on(value: SSAValue, targets: set[SSAValue], block: Block, seen: set[SSAValue]) -> bool:
    """Whether ``value`` is, or is computed in ``block`` from, one of ``targets``."""
    if value in targets:
        return True
    if value in seen:
        return False
    seen.add(value)
    owner = value.owner
    if not isinstance(owner, Operation) or owner.parent_block() is not block:
        return False
    operands = list(owner.operands)
    if isinstance(owner, graph.MapOp):
        operands += outer_values(owner)
    return any(depends_on(v, targets, block, seen) for v in operands)


class _Scheduler:
    def __init__(self, block: Block, limit: int):
        self.block, self.limit = block, limit
        self.position = {op: i for i, op in enumerate(block.ops)}

    def used_before(self, value: SSAValue, index: int) -> bool:
        for use in value.uses:
            op = use.operation
            while op is not None and op.parent_block() is not self.block:
                op = op.parent_op()
            if op is not None and self.position.get(op, index + 1) < index and not isinstance(op, graph.MapOp):
                return True
        return False

    def can_join(self, group: list[Sink], sink: Sink) -> bool:
        if not same_extent(group[0].size, sink.size):
            return False
        if isinstance(sink, graph.HistogramOp) or isinstance(group[0], graph.HistogramOp):
            return False  # a histogram's kernel counts and does nothing else
        if isinstance(sink, graph.ReduceOp) and any(isinstance(s, graph.ReduceOp) for s in group):
            return False
        produced = {s.results[0] for s in group}
        fused = sink.operands[0].owner
        if any(depends_on(v, produced, self.block, set()) for v in [*fused.inputs, *outer_values(fused)]):
            return False  # read after write
        index = self.position[sink]
        if any(self.used_before(v, index) for v in produced):
            return False
        return self.limit <= 0 or buffers(group + [sink]) <= self.limit

    def run(self) -> None:
        sinks = [op for op in self.block.ops if isinstance(op, graph.SINKS)]
        groups: list[list[Sink]] = []
        for sink in sinks:
            if groups and self.can_join(groups[-1], sink):
                groups[-1].append(sink)
            else:
                groups.append([sink])
        for n, group in enumerate(groups):
            for sink in group:
                sink.group = IntegerAttr(n, i64)
            share_identical_maps(group)


def share_identical_maps(group: list[Sink]) -> None:
    """graph-fuse copies a field into every sink that reads it; sinks computed by one
    kernel can share one copy, so the kernel evaluates it once."""
    kept: list[graph.MapOp] = []
    for sink in group:
        fused = sink.operands[0].owner
        block = fused.parent_block()
        twin = next((k for k in kept if k.is_structurally_equivalent(fused, {block: block})), None)
        if twin is None:
            kept.append(fused)
        else:
            sink.operands[0] = twin.result
            if not fused.result.uses:
                Rewriter.erase_op(fused)


def split_for_bindings(sink: Sink, limit: int) -> None:
    """Materialise parts of ``sink``'s map until its kernel fits ``limit`` buffers."""
    while buffers([sink]) > limit:
        fused: graph.MapOp = sink.operands[0].owner
        deps: dict[SSAValue, frozenset[SSAValue]] = {}
        for arg, img in zip(fused.body.block.args, fused.inputs):
            deps[arg] = frozenset([img])
        best: tuple[int, SSAValue] | None = None
        for op in fused.body.block.ops:
            if isinstance(op, graph.YieldOp):
                break
            d = frozenset().union(*(deps.get(v, frozenset([v]) if isinstance(v.type, graph.AnyImageType) else frozenset())
                                    for v in op.operands))
            for r in op.results:
                deps[r] = d
                if 2 <= len(d) <= limit - 1 and (best is None or len(d) > best[0]):
                    best = (len(d), r)
        if best is None:
            raise PassError(sink, f"this kernel reads {buffers([sink]) - 1} images; the target "
                                  f"binds at most {limit} buffers and it cannot be split")

        materialise_value(sink, fused, best[1])


def materialise_value(sink: Sink, fused: graph.MapOp, value: SSAValue) -> None:
    """Compute ``value`` of ``fused``'s body in a map of its own, captured over the
    sink's extent before the sink, and read it back pointwise in its place."""
    body = fused.body.block
    needed: list[Operation] = []
    stack = [value.owner]
    while stack:
        op = stack.pop()
        if op in needed or op.parent_block() is not body:
            continue
        needed.append(op)
        stack.extend(v.owner for v in op.operands if isinstance(v.owner, Operation))
    order = [op for op in body.ops if op in needed]
    part = Block()
    mapping: dict[SSAValue, SSAValue] = {}
    inputs: list[SSAValue] = []
    for arg, img in zip(body.args, fused.inputs):
        if any(arg in op.operands for op in order):
            mapping[arg] = part.insert_arg(arg.type, len(part.args))
            inputs.append(img)
    for op in order:
        clone = op.clone(value_mapper=mapping)
        part.add_op(clone)
    part.add_op(graph.YieldOp(mapping[value]))
    new_map = graph.MapOp(inputs, value.type, Region(part), graph.rank_of(fused.result.type))
    capture = graph.CaptureOp(new_map.result, sink.size)
    new_map.location = capture.location = sink.location
    Rewriter.insert_op([new_map, capture], InsertPoint.before(fused))
    arg = body.insert_arg(value.type, len(body.args))
    fused.operands = [*fused.operands, capture.result]
    value.replace_all_uses_with(arg)
    for op in reversed(order):
        if not any(r.uses for r in op.results):
            Rewriter.erase_op(op)
    prune_inputs(fused)


def prune_inputs(m: graph.MapOp) -> None:
    """Drop the inputs a map's body no longer reads."""
    block = m.body.block
    keep = [i for i, arg in enumerate(block.args) if arg.uses]
    if len(keep) == len(block.args):
        return
    operands = [m.inputs[i] for i in keep]
    for i in reversed(range(len(block.args))):
        if i not in keep:
            block.erase_arg(block.args[i])
    m.operands = operands


@dataclass(frozen=True)
class GraphSchedulePass(ModulePass):
    """Group sinks into kernels (see module docstring); ``max-bindings`` 0 means no limit."""

    name = "graph-schedule"
    max_bindings: int = 0

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        blocks: list[Block] = []
        for sink in [o for o in op.walk() if isinstance(o, graph.SINKS)]:
            if self.max_bindings > 0:
                split_for_bindings(sink, self.max_bindings)
        for o in op.walk():
            if isinstance(o, graph.SINKS) and o.parent_block() not in blocks:
                blocks.append(o.parent_block())
        for block in blocks:
            _Scheduler(block, self.max_bindings).run()
