"""Builds the blocked kernel of ``temporal-block``: ``steps`` stencil steps per launch.

The kernel is rank 1 over *bands* of ``tile`` rows. A band walks its tiles (``tile``
rows by ``tile_x`` columns: wide tiles make long vector loops) left to right, and for each tile runs every step over a region that shrinks by the stencil's
radius per step, so that after the last step the tile itself is exact::

    step s (1-based) covers the tile grown by (steps - s) * radius, clipped to the image
    step 1      reads the state buffer itself      writes scratch A
    step 2..    reads the scratch the step before  writes the other scratch
    last step   reads scratch                      writes the tile into the next state

The middle steps run in a loop over pairs (A to B, B to A), so the kernel's size does
not grow with ``k`` (LLVM's compile time does with every copy of the body).

A step's reads stay inside what the step before wrote: the body clamps the *global*
coordinate to the image first (as the original kernel does) and only then is the
address mapped into the scratch plane, so every cell computes exactly the float
operations of the unblocked kernel, in the same order — results are bit-identical.

Scratch is two planes per band (``[band, y - y_origin, x - x_origin]``), reused by the
band's tiles one after another; a point of the launch touches only its own planes,
which is what ``kern.kernel`` demands of parallel points. Each tile row runs three
column ranges: the border columns (clamps as written) and the interior, where every
clamp of ``x`` is the identity and is dropped so the loop vectorises.
"""

from __future__ import annotations

from xdsl.dialects import memref
from xdsl.dialects.builtin import DYNAMIC_INDEX, MemRefType
from xdsl.ir import Operation, SSAValue

from ccomp.dialects import kern
from ccomp.passes.lowering.builder import IRBuilder, KernelBuilder
from ccomp.passes.lowering.stencil import Stencil


def scratch_type(st: Stencil) -> MemRefType:
    """``[band, row, column]`` planes of the state's element type."""
    return MemRefType(st.state.type.element_type, [DYNAMIC_INDEX] * 3)


def scratch_side(st: Stencil, steps: int, tile: int) -> int:
    """Rows (or columns) of one scratch plane: the tile and the halo the first step fills."""
    return tile + 2 * (steps - 1) * st.radius


def _x_dependent(st: Stencil) -> set[Operation]:
    """Ops that must run per column: those using ``x`` (transitively), and all memory
    accesses (a load of scratch belongs to the step that wrote it)."""
    dependent: set[Operation] = set()
    values: set[SSAValue] = set()
    for op in st.kernel.body.block.ops:
        if (isinstance(op, (memref.LoadOp, memref.StoreOp)) or (isinstance(op, kern.IndexOp) and op.dim.value.data == 0)
                or any(o in values for o in op.operands)):
            dependent.add(op)
            values.update(op.results)
    return dependent


class _Step:
    """Emits one step of one tile: which buffers it reads and writes, and the origin of
    the scratch planes in global coordinates."""

    def __init__(self, st: Stencil, args: dict[SSAValue, SSAValue], src: SSAValue, dst: SSAValue,
                 band: SSAValue, origin: tuple[SSAValue, SSAValue]):
        self.st, self.args, self.src, self.dst, self.band, self.origin = st, args, src, dst, band, origin
        self.dependent = _x_dependent(st)

    def row(self, b: IRBuilder, y: SSAValue) -> dict[SSAValue, SSAValue]:
        """The row's column-invariant ops, once per row; the value map they leave."""
        vmap = dict(self.args)
        for op in self.st.kernel.body.block.ops:
            if op not in self.dependent and not isinstance(op, kern.YieldOp):
                self._emit(b, op, vmap, y, None, interior=False)
        return vmap

    def columns(self, b: IRBuilder, row: dict[SSAValue, SSAValue], y: SSAValue, x: SSAValue, interior: bool) -> None:
        vmap = dict(row)
        for op in self.st.kernel.body.block.ops:
            if op in self.dependent:
                self._emit(b, op, vmap, y, x, interior)

    def _emit(self, b: IRBuilder, op: Operation, vmap: dict[SSAValue, SSAValue], y: SSAValue,
              x: SSAValue | None, interior: bool) -> None:
        st = self.st
        if isinstance(op, kern.IndexOp):
            vmap[op.result] = x if op.dim.value.data == 0 else y
        elif interior and op in st.x_clamps:
            vmap[op.results[0]] = vmap[st.x_clamps[op]]
        elif interior and op in st.x_shifts:
            shift = st.x_shifts[op]
            vmap[op.results[0]] = x if shift == 0 else b.addi(x, b.index(shift))
        elif op in st.state_loads and self.src is not self.args[st.state]:
            oy, ox = self.origin
            at = [self.band, b.subi(vmap[op.indices[0]], oy), b.subi(vmap[op.indices[1]], ox)]
            vmap[op.res] = b.insert(memref.LoadOp.get(self.src, at)).res
        elif op is st.store and self.dst is not self.args[st.out]:
            at = [self.band, b.subi(y, self.origin[0]), b.subi(x, self.origin[1])]
            b.insert(memref.StoreOp.get(vmap[op.value], self.dst, at))
        else:
            clone = op.clone(value_mapper=vmap)
            b.insert(clone)
            vmap.update(zip(op.results, clone.results))


def build_blocked_kernel(st: Stencil, name: str, steps: int, tile: int, tile_x: int) -> kern.KernelOp:
    """The kernel running ``steps`` steps of ``st`` per launch, over bands of ``tile``
    rows cut into tiles of ``tile_x`` columns; its bindings are the original kernel's,
    then the two scratch buffers."""
    old = st.kernel.body.block
    kb = KernelBuilder(name, 1, [a.type for a in old.args] + [scratch_type(st)] * 2, st.kernel.location)
    args = dict(zip(old.args, kb.args))
    state, out = args[st.state], args[st.out]
    scratch = kb.args[-2:]
    r, halo = st.radius, (steps - 1) * st.radius
    zero, side, side_x = kb.index(0), kb.index(tile), kb.index(tile_x)
    height, width = kb.dim(state, 0), kb.dim(state, 1)
    band = kb.point(0)
    y0 = kb.muli(band, side)
    y_end = kb.mini(kb.addi(y0, side), height)
    y_origin = kb.maxi(kb.subi(y0, kb.index(halo)), zero)
    # the interior's end also keeps x + radius inside i32, where frontends compute
    # coordinates: that bound lets LLVM see the shifted reads as contiguous
    x_interior = (kb.index(r), kb.mini(kb.subi(width, kb.index(r)), kb.index(2**31 - 1 - r)))

    def tile_body(b: IRBuilder, tx: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
        x0 = b.muli(tx, side_x)
        x_end = b.mini(b.addi(x0, side_x), width)
        x_origin = b.maxi(b.subi(x0, b.index(halo)), zero)

        def run(sb: IRBuilder, s: SSAValue | int, src: SSAValue, dst: SSAValue) -> None:
            """Step ``s`` (1-based, a constant or the step loop's value) from ``src`` to ``dst``."""
            step = _Step(st, args, src, dst, band, (y_origin, x_origin))
            grow = (sb.index((steps - s) * r) if isinstance(s, int)
                    else sb.subi(sb.index(steps * r), sb.muli(s, sb.index(r))))
            ya, yb = sb.maxi(sb.subi(y0, grow), zero), sb.mini(sb.addi(y_end, grow), height)
            xa, xb = sb.maxi(sb.subi(x0, grow), zero), sb.mini(sb.addi(x_end, grow), width)
            ia, ib = sb.maxi(xa, x_interior[0]), sb.mini(xb, x_interior[1])
            sb.loop(ya, yb, [], lambda rb, y, _c: _row(rb, step, y, (xa, ia, ib, xb)))

        # step 1: state -> A; middle steps in pairs A -> B -> A (one loop, so code size
        # does not grow with k); an odd one out A -> B; the last step into the next state
        a, c = scratch
        run(b, 1, state, a)
        pairs = (steps - 2) // 2
        if pairs:
            def pair(pb: IRBuilder, p: SSAValue, _c: list[SSAValue]) -> list[SSAValue]:
                s = pb.addi(pb.muli(p, pb.index(2)), pb.index(2))
                run(pb, s, a, c)
                run(pb, pb.addi(s, pb.index(1)), c, a)
                return []
            b.loop(b.index(0), b.index(pairs), [], pair)
        last = a
        if (steps - 2) % 2:
            run(b, steps - 1, a, c)
            last = c
        run(b, steps, last, out)
        return []

    kb.loop(zero, kb.ceil_div(width, side_x), [], tile_body)
    return kb.finish()


def _row(b: IRBuilder, step: _Step, y: SSAValue, cols: tuple[SSAValue, ...]) -> list[SSAValue]:
    """One row of a step over ``[xa, xb)``: the clamp-free interior ``[ia, ib)`` (empty
    when ``ib <= ia``; its bounds are plain ``max``/``min`` of constants so LLVM knows
    the range of ``x``), and the border columns ``[xa, min(ia, xb))`` and
    ``[max(ia, ib), xb)`` in one loop over the two segments."""
    xa, ia, ib, xb = cols
    row = step.row(b, y)
    left_end, right_start = b.mini(ia, xb), b.maxi(ia, ib)

    def segment(sb: IRBuilder, seg: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
        first = sb.cmpi("eq", seg, sb.index(0))
        lo, hi = sb.select(first, xa, right_start), sb.select(first, left_end, xb)
        sb.loop(lo, hi, [], lambda xb_, x, _c: step.columns(xb_, row, y, x, interior=False) or [])
        return []

    b.loop(b.index(0), b.index(2), [], segment)
    b.loop(ia, ib, [], lambda xb_, x, _c: step.columns(xb_, row, y, x, interior=True) or [])
    return []
