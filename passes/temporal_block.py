"""``temporal-block``: a host loop of stencil steps runs ``k`` steps per pass over the image.

Run on the ``kern`` level, after ``loop-pingpong`` (and canonicalize/cse, so a loop
body holds only what it needs). A repeat zone whose body is one stencil step of its
state becomes, after ``loop-pingpong``, an ``scf.for`` launching one kernel per
iteration from one ping-pong buffer into the other; every iteration streams the
whole image through memory. This pass fuses ``k`` iterations into one launch of a
blocked kernel (``lowering/stencil_tiles.py``) whose tiles, with a halo of
``(k - 1) * radius`` cells, stay in cache for all ``k`` steps::

    %r:3 = scf.for %i = 0 to %n iter_args(%u = %u0, %a = %p, %b = %q) {
      kern.launch @heat_0 [%w, %h] (%u, %a)
      scf.yield %a, %b, %a
    }
  ==>
    %sa = memref.alloc(%bands, %side, %side)     %sb = memref.alloc(...)
    %m:3 = scf.for %i = 0 to %n / k iter_args(%u = %u0, %a = %p, %b = %q) {
      kern.launch @heat_0_tb [%bands] (%u, %a, %sa, %sb)
      scf.yield %a, %b, %a
    }
    %r:3 = scf.for %i = 0 to %n - k * (%n / k) iter_args(%m#0, %m#1, %m#2) { ...as before... }

A loop qualifies when it counts from 0 by 1, its body is only ``memref.dim``s, one
launch and the yield, the launch's grid is the state's extent, its kernel is a 2-D
stencil of the state (``lowering/stencil.py`` proves it), it writes the buffer the
loop yields as the next state, and every other argument comes from outside the loop
and is not one of the loop's buffers. Anything else is left alone, silently: this is
an optimisation, never a diagnostic. The results are bit-identical to one step per
launch (each cell computes the same float operations in the same order).

**The cost rule** (``choose_blocking``): per cell and step, a blocked launch costs
``redundancy * (1 + ROW_CELLS / Px) + MEMORY_WEIGHT * traffic`` for tiles of ``T``
rows and ``Tx`` columns, ``g(s) = 2(k-s)r`` and scratch planes of ``Py = T + g(1)`` by
``Px = Tx + g(1)``. ``redundancy`` is the work done over the shrinking halo regions
relative to the tile, ``sum_s (T + g(s)) (Tx + g(s)) / (k T Tx)``; ``traffic`` the bytes
moved between cache and memory relative to an unblocked step (which reads the state
and writes the next one: 3 element transfers with the write's read-for-ownership),
``(Py Px / (T Tx) + 2) / (3k)``. ``MEMORY_WEIGHT`` is how many times longer an
unblocked step waits for memory than it computes (about 3 for a 5-point f32 stencil
on the 2-core machine this was tuned on: 2.2 Gcell/s streaming against roughly 7 in
cache). Short rows cost more per cell (loop set-up, border columns, the vector loop's
remainder): a row of a step costs about ``ROW_CELLS`` cells more. Candidates are ``k``
in 2..8 (past 8 the modelled gain is a few percent while halos grow), ``T`` of 32..256
rows and ``Tx`` of 1, 2 or 4 times ``T``, whose two scratch planes fit
``CACHE_BYTES`` (half of the 2 MB L2 of that machine, where a band's tile stays). A
blocking whose cost is not below an unblocked step's (``1 + MEMORY_WEIGHT``) is not
applied. Heat (f32, radius 1) gets k = 8 and 128 x 512 tiles. Measured there (heat
1024², one thread each, 2 cores shared with other work, so roughly): 128 x 512 tiles
7% faster than 256 x 256, those 20-40% faster than 128 x 128, and k = 8 at least as
fast as 4, 6, 12 or 16.

Blocking pays only when the state does not fit in cache (a small image stays
cached between steps anyway, and its few tiles would idle cores), and the size is
known only when the program runs: the host takes the blocked loop only when the
state holds more than ``min-bytes`` (``MIN_BYTES``, 1 MiB, by default: the state and
the next state then overflow a 2 MiB L2) and runs every step unblocked otherwise.
Scratch is allocated in the blocked loop (the buffer pool returns the same two buffers
every iteration), so a run without blocks allocates none.

**Options:** ``temporal-block{k=4 tile=64}`` forces a blocking (at any size: a
forced ``k`` makes ``min-bytes`` 0 unless given), ``k=0`` (or 1) forbids it; ``k=-1``
(the default), ``tile=0``, ``tile-x=0`` (columns; square when only ``tile`` is given)
and ``min-bytes=-1`` leave each to the cost rule.
``ccomp.driver.pipeline`` turns ``CCOMP_TEMPORAL_BLOCK`` (e.g. ``k=0``) into these
options, which is how ``bench/heat.py`` compares with and without.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, func, memref, scf
from xdsl.dialects.builtin import IntegerAttr, MemRefType, ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint
from xdsl.traits import SymbolTable

from ccomp.dialects import kern
from ccomp.passes.lowering.builder import IRBuilder
from ccomp.passes.lowering.stencil import Stencil, match_stencil
from ccomp.passes.lowering.stencil_tiles import build_blocked_kernel, scratch_side, scratch_type

MEMORY_WEIGHT = 3.0
CACHE_BYTES = 1 << 20
ROW_CELLS = 16
MIN_BYTES = 1 << 20
STEPS = range(2, 9)
TILES = (32, 64, 128, 256)
WIDTHS = (1, 2, 4)  # tile columns per tile row


def blocking_cost(steps: int, tile: int, radius: int, tile_x: int | None = None) -> float:
    """Modelled cost of one cell-step with this blocking (1 + MEMORY_WEIGHT unblocked)
    for tiles of ``tile`` rows and ``tile_x`` (default ``tile``) columns."""
    tx = tile_x or tile
    redundancy = sum((tile + 2 * (steps - s) * radius) * (tx + 2 * (steps - s) * radius)
                     for s in range(1, steps + 1)) / (steps * tile * tx)
    grown = 2 * (steps - 1) * radius
    traffic = ((tile + grown) * (tx + grown) / (tile * tx) + 2) / (3 * steps)
    return redundancy * (1 + ROW_CELLS / (tx + grown)) + MEMORY_WEIGHT * traffic


def choose_blocking(radius: int, element_bytes: int) -> tuple[int, int, int] | None:
    """``(steps, tile rows, tile columns)`` of least modelled cost whose scratch fits the
    cache budget, or ``None`` when no blocking beats one step per launch."""
    best, best_cost = None, 1.0 + MEMORY_WEIGHT
    for steps in STEPS:
        grown = 2 * (steps - 1) * radius
        for tile in TILES:
            for tx in (tile * w for w in WIDTHS):
                if 2 * (tile + grown) * (tx + grown) * element_bytes > CACHE_BYTES:
                    continue
                cost = blocking_cost(steps, tile, radius, tx)
                if cost < best_cost:
                    best, best_cost = (steps, tile, tx), cost
    return best


def _element_bytes(t: MemRefType) -> int:
    element = t.element_type
    lanes = 1
    if hasattr(element, "get_shape"):  # vector<NxT>
        lanes = element.get_shape()[0]
        element = element.element_type
    return lanes * max(1, element.bitwidth // 8)


def _const(value: SSAValue) -> int | None:
    op = value.owner
    if isinstance(op, arith.ConstantOp) and isinstance(op.value, IntegerAttr):
        return op.value.value.data
    return None


@dataclass
class _Candidate:
    loop: scf.ForOp
    launch: kern.LaunchOp
    stencil: Stencil


def _match_loop(loop: scf.ForOp, table: Operation) -> _Candidate | None:
    """The stencil loop ``loop`` is, or ``None`` (see the module docstring)."""
    if _const(loop.lb) != 0 or _const(loop.step) != 1:
        return None
    body = loop.body.block
    ops = list(body.ops)
    launches = [op for op in ops if isinstance(op, kern.LaunchOp)]
    if len(launches) != 1 or launches[0].res or not all(
            isinstance(op, (memref.DimOp, kern.LaunchOp, scf.YieldOp)) for op in ops):
        return None
    launch = launches[0]
    carried = list(body.args[1:])
    in_loop = [a for a in launch.args if a in carried]
    if len(in_loop) != 2 or len(launch.args) != len(set(launch.args)):
        return None
    state, out = in_loop
    slot = carried.index(state)
    if body.last_op.operands[slot] is not out:
        return None
    if state in body.last_op.operands:  # the state must not become another buffer of the loop
        return None
    inits = list(loop.iter_args)
    for a in launch.args:
        if a in carried:
            continue
        # read-only inputs from outside; of the loop's buffers only the initial state,
        # which the loop never writes
        if _inside(a, loop) or (a in inits and not (a is inits[slot] and inits.count(a) == 1)):
            return None
    if not _grid_is_extent(launch.grid, state):
        return None
    kernel = SymbolTable.lookup_symbol(table, launch.kernel_name)
    if not isinstance(kernel, kern.KernelOp):
        return None
    stencil = match_stencil(kernel, list(launch.args).index(state), list(launch.args).index(out))
    return None if stencil is None else _Candidate(loop, launch, stencil)


def _inside(value: SSAValue, loop: scf.ForOp) -> bool:
    op = value.owner if isinstance(value.owner, Operation) else value.owner.parent_op()
    while op is not None:
        if op is loop:
            return True
        op = op.parent_op()
    return False


def _grid_is_extent(grid: tuple[SSAValue, ...], state: SSAValue) -> bool:
    """``[dim(state, 1), dim(state, 0)]``: one point per cell of the state."""
    if len(grid) != 2:
        return False
    for axis, g in zip((1, 0), grid):
        op = g.owner
        if not (isinstance(op, memref.DimOp) and op.source is state and _const(op.index) == axis):
            return False
    return True


def _rewrite(c: _Candidate, steps: int, tiles: tuple[int, int], min_bytes: int, names: set[str]) -> None:
    """Put the blocked loop before ``c.loop`` and leave ``c.loop`` the remainder."""
    loop, launch, st = c.loop, c.launch, c.stencil
    name = f"{st.kernel.kernel_name}_tb{steps}"
    while name in names:
        name += "_"
    names.add(name)
    tile, tile_x = tiles
    blocked = build_blocked_kernel(st, name, steps, tile, tile_x)
    st.kernel.parent_block().insert_op_after(blocked, st.kernel)

    b = IRBuilder(InsertPoint.before(loop), location=launch.location)
    slot = list(loop.body.block.args[1:]).index(launch.args[st.state.index])
    init = loop.iter_args[slot]
    count, k = loop.ub, b.index(steps)
    height, width = b.dim(init, 0), b.dim(init, 1)
    # blocking pays only for state that does not fit in cache: decided when it runs
    size = b.muli(b.muli(height, width), b.index(_element_bytes(st.state.type)))
    whole = b.select(b.cmpi("sgt", size, b.index(min_bytes)), b.divi(count, k), b.index(0))
    rest = b.subi(count, b.muli(whole, k))
    side, side_x = b.index(scratch_side(st, steps, tile)), b.index(scratch_side(st, steps, tile_x))
    bands = b.ceil_div(height, b.index(tile))

    fused = loop.clone()
    b.insert(fused)
    fused.operands[1] = whole
    old = next(op for op in fused.body.block.ops if isinstance(op, kern.LaunchOp))
    # scratch is allocated in the loop, so nothing is allocated when no block runs; from
    # the second iteration on the buffer pool hands back the same two buffers
    inner = IRBuilder(InsertPoint.before(old), location=launch.location)
    planes = [inner.add(memref.AllocOp([bands, side, side_x], [], scratch_type(st))) for _ in range(2)]
    new = kern.LaunchOp(name, [bands], [*old.args, *planes])
    new.location = old.location
    fused.body.block.insert_op_before(new, old)
    old.detach()
    old.erase()
    for dim in [op for op in fused.body.block.ops if isinstance(op, memref.DimOp) and not op.result.uses]:
        dim.detach()
        dim.erase()
    loop.operands[1] = rest
    for i, result in enumerate(fused.results):
        loop.operands[3 + i] = result


@dataclass(frozen=True)
class TemporalBlockPass(ModulePass):
    """Fuse ``k`` steps of stencil host loops into blocked launches (module docstring)."""

    name = "temporal-block"

    k: int = -1
    tile: int = 0
    tile_x: int = 0
    min_bytes: int = -1

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.k in (0, 1):
            return
        names = {k.kernel_name for k in op.body.block.ops if isinstance(k, kern.KernelOp)}
        found = [c for fn in op.body.block.ops if isinstance(fn, func.FuncOp)
                 for loop in fn.walk() if isinstance(loop, scf.ForOp)
                 if (c := _match_loop(loop, op)) is not None]
        for c in found:
            st = c.stencil
            choice = choose_blocking(st.radius, _element_bytes(st.state.type))
            steps = self.k if self.k > 1 else (choice[0] if choice else 0)
            tile = self.tile if self.tile > 0 else (choice[1] if choice else 64)
            # columns: as given, else square when the rows were given, else the rule's
            tile_x = self.tile_x if self.tile_x > 0 else (tile if self.tile > 0 or not choice else choice[2])
            min_bytes = self.min_bytes if self.min_bytes >= 0 else (0 if self.k > 1 else MIN_BYTES)
            if steps > 1:
                _rewrite(c, steps, (tile, tile_x), min_bytes, names)
