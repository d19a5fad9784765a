"""Kernels that pack a dense matrix into a sparse format: count, then emit.

Packing has a data-dependent size, so it runs in three launches the host strings
together (``sparse-lower``): a *count* kernel gives each major slice (row, column
or block row) its number of stored entries, a sequential *scan* turns counts into
the pointer array and the host reads the total back to allocate indices and
values, then an *emit* kernel writes every slice's entries at its pointer.
Slices are independent, so count and emit run in parallel over them; blocks of a
BSR matrix that lie partly outside the matrix are zero-padded.
"""

from __future__ import annotations

from xdsl.dialects import arith
from xdsl.dialects.builtin import f32, i1
from xdsl.ir import Attribute, SSAValue
from xdsl.dialects.builtin import LocationAttr as Location

from ccomp.dialects import kern
from ccomp.dialects.sparse_format import FormatAttr
from ccomp.passes.lowering.builder import IRBuilder, KernelBuilder
from ccomp.passes.lowering.sparse_kernels import IDX, mat_of, vec_of, zero
from ccomp.passes.lowering.sparse_kernels import nonzero as _nonzero


def _block_value(b: IRBuilder, dense: SSAValue, fmt: FormatAttr, bi: SSAValue, bj: SSAValue,
                 r: SSAValue, c: SSAValue) -> SSAValue:
    """Entry (r, c) of block (bi, bj): the matrix element, or 0 in the padding."""
    rs, cs = fmt.block
    row, col = b.addi(b.muli(bi, b.index(rs)), r), b.addi(b.muli(bj, b.index(cs)), c)
    rows, cols = b.dim(dense, 0), b.dim(dense, 1)
    inside = b.add(arith.AndIOp(b.cmpi("slt", row, rows), b.cmpi("slt", col, cols)))
    v = b.load(dense, b.clamp(row, rows), b.clamp(col, cols))
    return b.select(inside, v, zero(b, v.type))


def _block_nonzero(b: IRBuilder, dense: SSAValue, fmt: FormatAttr, bi: SSAValue, bj: SSAValue) -> SSAValue:
    rs, cs = fmt.block
    false = b.add(arith.ConstantOp.from_int_and_width(0, i1))

    def over_r(b: IRBuilder, r: SSAValue, anyv: list[SSAValue]) -> list[SSAValue]:
        def over_c(b: IRBuilder, c: SSAValue, anyv: list[SSAValue]) -> list[SSAValue]:
            return [b.add(arith.OrIOp(anyv[0], _nonzero(b, _block_value(b, dense, fmt, bi, bj, r, c))))]
        return b.loop(b.index(0), b.index(cs), anyv, over_c)
    (found,) = b.loop(b.index(0), b.index(rs), [false], over_r)
    return found


def _slices(b: IRBuilder, dense: SSAValue, fmt: FormatAttr) -> tuple[SSAValue, SSAValue]:
    """(number of major slices, length of each) for the format's major axis."""
    rows, cols = b.dim(dense, 0), b.dim(dense, 1)
    k = fmt.kind.data
    if k == "csc":
        return cols, rows
    if k == "bsr":
        rs, cs = fmt.block
        return b.ceil_div(rows, b.index(rs)), b.ceil_div(cols, b.index(cs))
    return rows, cols


def slice_count(b: IRBuilder, dense: SSAValue, fmt: FormatAttr) -> SSAValue:
    """Host-side: how many major slices a dense matrix has in ``fmt``."""
    return _slices(b, dense, fmt)[0]


def _element(b: IRBuilder, dense: SSAValue, fmt: FormatAttr, m: SSAValue, n: SSAValue) -> SSAValue:
    return b.load(dense, n, m) if fmt.kind.data == "csc" else b.load(dense, m, n)


def count_kernel(name: str, fmt: FormatAttr, loc: Location, elem: Attribute = f32) -> kern.KernelOp:
    """``counts[m]`` = stored entries (blocks, for bsr) of major slice ``m``; bindings: D, counts."""
    kb = KernelBuilder(name, 1, [mat_of(elem), IDX], loc)
    dense, counts = kb.args
    m = kb.point(0)
    _, length = _slices(kb, dense, fmt)
    bsr = fmt.kind.data == "bsr"

    def one(b: IRBuilder, n: SSAValue, total: list[SSAValue]) -> list[SSAValue]:
        hit = _block_nonzero(b, dense, fmt, m, n) if bsr else _nonzero(b, _element(b, dense, fmt, m, n))
        return [b.addi(total[0], b.select(hit, b.i32(1), b.i32(0)))]
    (total,) = kb.loop(kb.index(0), length, [kb.i32(0)], one)
    kb.store(total, counts, m)
    return kb.finish()


def emit_kernel(name: str, fmt: FormatAttr, loc: Location, elem: Attribute = f32) -> kern.KernelOp:
    """Write slice ``m``'s entries from ``ptr[m]`` on. Bindings: D, ptr, then the
    format's index and value buffers (coo: row, col, data; others: indices, data)."""
    coo, bsr = fmt.kind.data == "coo", fmt.kind.data == "bsr"
    outs = [IDX, IDX, vec_of(elem)] if coo else [IDX, vec_of(elem)]
    kb = KernelBuilder(name, 1, [mat_of(elem), IDX, *outs], loc)
    dense, ptr, *out = kb.args
    m = kb.point(0)
    _, length = _slices(kb, dense, fmt)
    start = kb.load_index(ptr, m)

    def one(b: IRBuilder, n: SSAValue, pos: list[SSAValue]) -> list[SSAValue]:
        p = pos[0]
        if bsr:
            idx, data = out
            rs, cs = fmt.block

            def write(b: IRBuilder) -> list[SSAValue]:
                b.store(b.to_i32(n), idx, p)
                base = b.muli(p, b.index(rs * cs))

                def row(b: IRBuilder, r: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
                    def col(b: IRBuilder, c: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
                        v = _block_value(b, dense, fmt, m, n, r, c)
                        b.store(v, data, b.addi(base, b.addi(b.muli(r, b.index(cs)), c)))
                        return []
                    b.loop(b.index(0), b.index(cs), [], col)
                    return []
                # loops, not unrolled: compile time must not grow with the block size
                b.loop(b.index(0), b.index(rs), [], row)
                return [b.addi(p, b.index(1))]
            return b.if_(_block_nonzero(b, dense, fmt, m, n), write, lambda b: [p], [p.type])
        v = _element(b, dense, fmt, m, n)

        def put(b: IRBuilder) -> list[SSAValue]:
            if coo:
                b.store(b.to_i32(m), out[0], p)
                b.store(b.to_i32(n), out[1], p)
            else:
                b.store(b.to_i32(n), out[0], p)
            b.store(v, out[-1], p)
            return [b.addi(p, b.index(1))]
        return b.if_(_nonzero(b, v), put, lambda b: [p], [p.type])
    kb.loop(kb.index(0), length, [start], one)
    return kb.finish()


