"""``loop-pingpong``: repeat zones over buffers become host loops (``scf.for``).

Run after ``graph-to-kern``. Each iteration of a zone allocates the buffer its next
state is written to. Where that buffer has the size of the state it replaces (the
``memref.alloc`` takes its sizes from ``memref.dim`` of the state), the zone is
double-buffered: two buffers are allocated once, before the loop, and swap roles
every iteration — the first iteration reads the initial value, so the caller's input
is never written, and the final state is whichever buffer was written last (right
for odd and even counts alike; a count of zero returns the initial value). State
whose size changes per iteration keeps its per-iteration allocation, sized afresh
each time; the runtime's buffer pool recycles those. No ``loop`` op is left
afterwards (a located internal error otherwise).


    %r = loop.repeat %n (%u0) {              %a = memref.alloc(...)   %b = memref.alloc(...)
      %next = memref.alloc(dims of %u)  ==>  %r:3 = scf.for %i = 0 to n iter_args(%u = %u0, %x = %a, %y = %b) {
      kern.launch @k (%u, %next)               kern.launch @k (%u, %x)
      loop.yield %next                         scf.yield %x, %y, %x
    }                                        }
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, func, memref, scf

from xdsl.dialects.builtin import IndexType, IntegerAttr, MemRefType, ModuleOp, i32
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, PatternRewriteWalker, RewritePattern, op_type_rewrite_pattern
from xdsl.rewriter import InsertPoint, Rewriter

from ccomp.dialects import kern, loop
from ccomp.passes.lowering.builder import IRBuilder
from ccomp.passes.lowering.legality import check_legal



def _const_index(op: Operation | None) -> int | None:
    if isinstance(op, arith.ConstantOp) and isinstance(op.value, IntegerAttr):
        return op.value.value.data
    return None


def _same_size_alloc(value: SSAValue, state: SSAValue) -> bool:
    """``value`` is a fresh buffer allocated with exactly the dims of ``state``."""
    alloc = value.owner
    if not isinstance(alloc, memref.AllocOp) or not isinstance(state.type, MemRefType):
        return False
    sizes = list(alloc.dynamic_sizes)
    if len(sizes) != state.type.get_num_dims():
        return False
    for axis, size in enumerate(sizes):
        dim = size.owner
        if not (isinstance(dim, memref.DimOp) and dim.source is state and _const_index(dim.index.owner) == axis):
            return False
    return True


def _only_read(state: SSAValue) -> bool:
    """The state buffer is only read in the body (so its storage is free afterwards)."""
    return all(isinstance(use.operation, (memref.DimOp, kern.LaunchOp)) for use in state.uses)


def _yielded_once(value: SSAValue, term: Operation) -> bool:
    """``value`` becomes one state and nothing else: it is yielded once and otherwise
    only written or read by launches. A buffer yielded as two states, or passed on in
    any other way, would outlive the iteration after next, when ping-pong overwrites it."""
    uses = list(value.uses)
    return sum(use.operation is term for use in uses) == 1 and all(
        use.operation is term or isinstance(use.operation, (memref.DimOp, kern.LaunchOp)) for use in uses)


class LowerRepeat(RewritePattern):
    """One ``loop.repeat`` becomes allocations and an ``scf.for`` in its place: a local
    rewrite, applied innermost zone first (an outer zone then holds plain loops)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: loop.RepeatOp, rewriter: PatternRewriter) -> None:
        results = lower_repeat(op, IRBuilder(InsertPoint.before(op), location=op.location))
        for old, new in zip(op.res, results):
            rewriter.replace_all_uses_with(old, new)
        rewriter.erase(op)


def lower_repeat(op: loop.RepeatOp, b: IRBuilder) -> list[SSAValue]:
    """Build the replacement of ``op`` with ``b`` (before it); the values of its results.
    The body's ops move into the loop."""
    old = op.body.block
    term = old.last_op
    yielded = list(term.values)

    c0, c1 = b.index(0), b.index(1)
    count = b.to_index(op.count)
    pingpong = [_same_size_alloc(v, a) and _only_read(a) and _yielded_once(v, term)
                for v, a in zip(yielded, old.args[1:])]
    inits: list[SSAValue] = []
    for init, pp in zip(op.inits, pingpong):
        inits.append(init)
        if pp:
            dims = [b.add(memref.DimOp(init, b.index(d))) for d in range(init.type.get_num_dims())]
            inits += [b.add(memref.AllocOp(dims, [], init.type)), b.add(memref.AllocOp(dims, [], init.type))]

    body = Block(arg_types=[IndexType()] + [v.type for v in inits])
    iteration = arith.IndexCastOp(body.args[0], i32)
    body.add_op(iteration)
    old.args[0].replace_all_uses_with(iteration.result)
    slot, yields = 1, []
    for arg, value, pp in zip(old.args[1:], yielded, pingpong):
        arg.replace_all_uses_with(body.args[slot])
        if pp:
            spare = body.args[slot + 1]
            alloc = value.owner
            value.replace_all_uses_with(spare)
            Rewriter.erase_op(alloc)
        slot += 3 if pp else 1
    # read the yielded values only now: a state may yield another state's argument
    # (``yield b, a``), which the loop above has just replaced by the new block's
    slot = 1
    for value, pp in zip(term.operands, pingpong):
        yields += [value, body.args[slot + 2], value] if pp else [value]
        slot += 3 if pp else 1
    Rewriter.erase_op(term)
    for inner in list(old.ops):
        inner.detach()
        body.add_op(inner)
    body.add_op(scf.YieldOp(*yields))
    for_op = scf.ForOp(c0, count, c1, inits, Region(body))
    b.add(for_op)
    results, slot = [], 0
    for pp in pingpong:
        results.append(for_op.results[slot])
        slot += 3 if pp else 1
    return results


@dataclass(frozen=True)
class LoopPingPongPass(ModulePass):
    """Turn every ``loop.repeat`` into an ``scf.for``, double-buffering fixed-size state."""

    name = "loop-pingpong"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        # innermost zone first; host functions only (kernels hold no zones)
        walker = PatternRewriteWalker(LowerRepeat(), walk_regions_first=True, apply_recursively=False)
        for fn in op.body.block.ops:
            if isinstance(fn, func.FuncOp):
                walker.rewrite_region(fn.body)
        check_legal(op, loop.Loop.name, self.name)

