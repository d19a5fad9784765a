"""The kernels ``sparse-lower`` generates: products, conversions and counts per format.

Storage (the runtime fills it in exactly this layout, :mod:`ccomp.runtime.sparse.formats`):

=======  ==================================================================
format   parts (``memref<?xi32>`` indices, ``memref<?xT>`` values, T f32 or f64)
=======  ==================================================================
csr      indptr (rows+1), indices (column ids, sorted per row), data
csc      indptr (cols+1), indices (row ids, sorted per column), data
coo      row, col (sorted row-major, no duplicates), data
bsr R×C  indptr (block rows+1), indices (block column ids), data flat:
         entry (r, c) of block k at ``(k*R + r)*C + c``; padding is zero
dense    values ``memref<?x?xT>`` (T f32, f64, i32 or i64)
=======  ==================================================================

Every kernel is data-parallel over the rows of its result where the format allows:
CSR, BSR and dense rows are independent, and a row-sorted COO finds each row's
entries by binary search. CSC stores columns, so its products scatter into rows
and run as one sequential invocation (``auto`` never picks CSC for that reason).
Indices read from storage are clamped into their buffer: memory safety never
depends on the runtime's validation alone. Every kernel takes the element type of
its values (``elem``, f32 unless given) and does its arithmetic in it (:func:`add`,
:func:`mul`): an f64 product accumulates in double, an i32 one wraps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from xdsl.dialects import arith
from xdsl.dialects.builtin import DYNAMIC_INDEX, MemRefType, f32, i32
from xdsl.ir import Attribute, SSAValue
from xdsl.dialects.builtin import LocationAttr as Location

from ccomp.dialects import kern
from ccomp.dialects.sparse_format import FormatAttr
from ccomp.dialects.sparse_parts import storage_parts
from ccomp.passes.lowering.builder import IRBuilder, KernelBuilder
from ccomp.passes.lowering.sparse_elements import add, elem_of, mat_of, mul, nonzero, vec_of, zero

IDX = MemRefType(i32, [DYNAMIC_INDEX])
VAL = MemRefType(f32, [DYNAMIC_INDEX])
VEC = MemRefType(f32, [DYNAMIC_INDEX])
MAT = MemRefType(f32, [DYNAMIC_INDEX, DYNAMIC_INDEX])



Entry = Callable[[IRBuilder, SSAValue, SSAValue, list[SSAValue]], Sequence[SSAValue]]


def part_types(fmt: FormatAttr | None, elem: Attribute = f32) -> list[tuple[str, MemRefType]]:
    """The storage buffers of a format holding ``elem`` values, in binding order."""
    if fmt is None:
        return list(zip(storage_parts("dense"), [mat_of(elem)]))
    return list(zip(storage_parts(fmt.kind.data), [IDX, IDX, vec_of(elem)], strict=True))


def kind(fmt: FormatAttr | None) -> str:
    return "dense" if fmt is None else fmt.kind.data


def _lower_bound(b: IRBuilder, keys: SSAValue, n: SSAValue, target: SSAValue) -> SSAValue:
    """First position in ``keys[0:n)`` (sorted) whose key is not below ``target``;
    32 halvings cover any buffer an ``i32`` index can address."""
    def step(b: IRBuilder, _k: SSAValue, lh: list[SSAValue]) -> list[SSAValue]:
        lo, hi = lh
        more = b.cmpi("slt", lo, hi)
        mid = b.divi(b.addi(lo, hi), b.index(2))
        key = b.load_index(keys, b.clamp(mid, b.maxi(n, b.index(1))))
        right = b.add(arith.AndIOp(more, b.cmpi("slt", key, target)))
        left = b.add(arith.AndIOp(more, b.cmpi("sge", key, target)))
        return [b.select(right, b.addi(mid, b.index(1)), lo), b.select(left, mid, hi)]
    lo, _ = b.loop(b.index(0), b.index(32), [b.index(0), n], step)
    return lo


def _row_range(b: IRBuilder, fmt: FormatAttr, parts: list[SSAValue], row: SSAValue, nnz: SSAValue | None
               ) -> tuple[SSAValue, SSAValue, SSAValue, SSAValue]:
    """``(lo, hi, columns, values)``: row ``row``'s entries are positions ``[lo, hi)``
    of ``columns``/``values`` (csr and row-sorted coo)."""
    if kind(fmt) == "coo":
        rows, colv, data = parts
        lo = _lower_bound(b, rows, nnz, row)
        return lo, _lower_bound(b, rows, nnz, b.addi(row, b.index(1))), colv, data
    ptr, idx, data = parts
    return b.load_index(ptr, row), b.load_index(ptr, b.addi(row, b.index(1))), idx, data


SPLIT = 4  # independent partial sums per row: a single chain is bound by the add latency


def split_sum(b: IRBuilder, lo: SSAValue, hi: SSAValue, term: Callable[[IRBuilder, SSAValue], SSAValue],
              elem: Attribute = f32) -> SSAValue:
    """``sum(term(p) for p in [lo, hi))`` with ``SPLIT`` interleaved partial sums and a
    tail, so consecutive additions do not wait on each other."""
    nothing = zero(b, elem)
    main = b.addi(lo, b.muli(b.divi(b.subi(hi, lo), b.index(SPLIT)), b.index(SPLIT)))

    def unrolled(b: IRBuilder, p: SSAValue, accs: list[SSAValue]) -> list[SSAValue]:
        return [add(b, a, term(b, b.addi(p, b.index(j)))) for j, a in enumerate(accs)]
    accs = b.loop(lo, main, [nothing] * SPLIT, unrolled, step=SPLIT)
    (tail,) = b.loop(main, hi, [nothing], lambda b, p, acc: [add(b, acc[0], term(b, p))])
    total = accs[0]
    for a in [*accs[1:], tail]:
        total = add(b, total, a)
    return total


def row_entries(b: IRBuilder, fmt: FormatAttr | None, parts: list[SSAValue], row: SSAValue,
                cols: SSAValue, nnz: SSAValue | None, inits: Sequence[SSAValue], entry: Entry) -> list[SSAValue]:
    """Visit the stored entries ``(column, value)`` of ``row`` in column order, carrying
    ``inits`` (csr, coo, bsr and dense; not csc). ``cols`` bounds the columns."""
    k = kind(fmt)
    if k == "dense":
        (values,) = parts
        return b.loop(b.index(0), cols, inits, lambda b, j, c: entry(b, j, b.load(values, row, j), c))
    if k in ("coo", "csr"):
        lo, hi, colv, data = _row_range(b, fmt, parts, row, nnz)
        return b.loop(lo, hi, inits, lambda b, p, c: entry(b, b.load_index(colv, p), b.load(data, p), c))
    ptr, idx, data = parts
    r_size, c_size = fmt.block
    bi, r = b.divi(row, b.index(r_size)), b.remi(row, b.index(r_size))
    lo, hi = b.load_index(ptr, bi), b.load_index(ptr, b.addi(bi, b.index(1)))

    def block(b: IRBuilder, p: SSAValue, carried: list[SSAValue]) -> list[SSAValue]:
        first = b.muli(b.load_index(idx, p), b.index(c_size))
        base = b.muli(b.addi(b.muli(p, b.index(r_size)), r), b.index(c_size))

        def lane(b: IRBuilder, c: SSAValue, carried: list[SSAValue]) -> list[SSAValue]:
            col = b.addi(first, c)
            if not carried:
                b.if_(b.cmpi("slt", col, cols), lambda b: entry(b, col, b.load(data, b.addi(base, c)), []))
                return []
            return b.if_(b.cmpi("slt", col, cols), lambda b: entry(b, col, b.load(data, b.addi(base, c)), carried),
                         lambda b: carried, [v.type for v in carried])
        return b.loop(b.index(0), b.index(c_size), carried, lane)
    return b.loop(lo, hi, inits, block)


def _binding_parts(kb: KernelBuilder, fmt: FormatAttr | None) -> tuple[list[SSAValue], list[SSAValue]]:
    n = len(part_types(fmt))
    return kb.args[:n], kb.args[n:]


def _extra(fmt: FormatAttr | None) -> list:
    """Scalar bindings after the buffers: the stored-entry count for coo."""
    return [i32] if kind(fmt) == "coo" else []


Product = Callable[[KernelBuilder, FormatAttr | None, list[SSAValue], SSAValue, SSAValue, SSAValue | None], None]


def _product_kernel(name: str, fmt: FormatAttr | None, loc: Location, matrix: bool, rows: Product,
                    elem: Attribute = f32) -> kern.KernelOp:
    """The frame matvec and matmul share. Bindings: A's parts, the right-hand side and
    the result (vectors, or matrices if ``matrix``), then nnz for coo. CSC goes to
    ``_csc_product``; every other format to ``rows(kb, fmt, parts, rhs, out, nnz)``,
    which writes the result row of point 0."""
    dense = mat_of(elem) if matrix else vec_of(elem)
    types = [t for _, t in part_types(fmt, elem)] + [dense, dense] + _extra(fmt)
    if kind(fmt) == "csc":
        return _csc_product(name, types, loc, matrix)
    kb = KernelBuilder(name, 1, types, loc)
    parts, (rhs, out, *rest) = _binding_parts(kb, fmt)
    rows(kb, fmt, parts, rhs, out, kb.to_index(rest[0]) if rest else None)
    return kb.finish()


def matvec_kernel(name: str, fmt: FormatAttr | None, loc: Location, elem: Attribute = f32) -> kern.KernelOp:
    """``y = A x``; bindings: A's parts, x, y (and nnz for coo)."""
    return _product_kernel(name, fmt, loc, False, _matvec_row, elem)


def _matvec_row(kb: KernelBuilder, fmt: FormatAttr | None, parts: list[SSAValue], x: SSAValue, y: SSAValue,
                nnz: SSAValue | None) -> None:
    i, cols = kb.point(0), kb.dim(x, 0)
    if kind(fmt) in ("csr", "coo"):
        lo, hi, colv, data = _row_range(kb, fmt, parts, i, nnz)

        def term(b: IRBuilder, p: SSAValue) -> SSAValue:
            return mul(b, b.load(data, p), b.load(x, b.clamp(b.load_index(colv, p), cols)))
        kb.store(split_sum(kb, lo, hi, term, elem_of(y)), y, i)
        return

    def fma(b: IRBuilder, col: SSAValue, val: SSAValue, acc: list[SSAValue]) -> list[SSAValue]:
        xv = b.load(x, b.clamp(col, cols))
        return [add(b, acc[0], mul(b, val, xv))]
    (acc,) = row_entries(kb, fmt, parts, i, cols, nnz, [zero(kb, elem_of(y))], fma)
    kb.store(acc, y, i)


def matmul_kernel(name: str, fmt: FormatAttr | None, loc: Location, elem: Attribute = f32) -> kern.KernelOp:
    """``Y = A B`` with B dense; one point per row of Y, whose columns the innermost
    loop walks contiguously (LLVM vectorises it); bindings: A's parts, B, Y (, nnz)."""
    return _product_kernel(name, fmt, loc, True, _matmul_row, elem)


def _matmul_row(kb: KernelBuilder, fmt: FormatAttr | None, parts: list[SSAValue], bm: SSAValue, ym: SSAValue,
                nnz: SSAValue | None) -> None:
    i, inner, width = kb.point(0), kb.dim(bm, 0), kb.dim(ym, 1)
    nothing = zero(kb, elem_of(ym))
    kb.loop(kb.index(0), width, [], lambda b, c, _: (b.store(nothing, ym, i, c), [])[1])

    def axpy(b: IRBuilder, col: SSAValue, val: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
        j = b.clamp(col, inner)

        def lane(b: IRBuilder, c: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
            prod = mul(b, val, b.load(bm, j, c))
            b.store(add(b, b.load(ym, i, c), prod), ym, i, c)
            return []
        return b.loop(b.index(0), width, [], lane)
    row_entries(kb, fmt, parts, i, inner, nnz, [], axpy)


def _csc_product(name: str, types: list, loc: Location, matrix: bool) -> kern.KernelOp:
    """CSC products scatter into the rows of the result: one sequential invocation."""
    kb = KernelBuilder(name, 1, types, loc)
    (ptr, idx, data, rhs, out) = kb.args
    rows = kb.dim(out, 0)
    width = kb.dim(out, 1) if matrix else None
    nothing = zero(kb, elem_of(out))

    def zero_row(b: IRBuilder, i: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
        if matrix:
            b.loop(b.index(0), width, [], lambda b, c, _: (b.store(nothing, out, i, c), [])[1])
        else:
            b.store(nothing, out, i)
        return []
    kb.loop(kb.index(0), rows, [], zero_row)

    def column(b: IRBuilder, j: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
        def entry(b: IRBuilder, p: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
            i, val = b.clamp(b.load_index(idx, p), rows), b.load(data, p)
            if not matrix:
                prod = mul(b, val, b.load(rhs, j))
                b.store(add(b, b.load(out, i), prod), out, i)
                return []

            def lane(b: IRBuilder, c: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
                prod = mul(b, val, b.load(rhs, j, c))
                b.store(add(b, b.load(out, i, c), prod), out, i, c)
                return []
            return b.loop(b.index(0), width, [], lane)
        return b.loop(b.load_index(ptr, j), b.load_index(ptr, b.addi(j, b.index(1))), [], entry)
    kb.loop(kb.index(0), kb.dim(rhs, 0), [], column)
    return kb.finish()


def fill_kernel(name: str, rank: int, loc: Location, elem: Attribute = f32) -> kern.KernelOp:
    """``out[...] = value`` over a rank-1 or rank-2 buffer; bindings: out, value."""
    kb = KernelBuilder(name, rank, [vec_of(elem) if rank == 1 else mat_of(elem), elem], loc)
    out, value = kb.args
    kb.store(value, out, *([kb.point(0)] if rank == 1 else [kb.point(1), kb.point(0)]))
    return kb.finish()


def to_dense_kernel(name: str, fmt: FormatAttr, loc: Location, elem: Attribute = f32) -> kern.KernelOp:
    """Scatter stored entries into a zeroed dense matrix; one point per row (per
    column for csc). Bindings: parts, D (, nnz)."""
    kb = KernelBuilder(name, 1, [t for _, t in part_types(fmt, elem)] + [mat_of(elem)] + _extra(fmt), loc)
    parts, (dense, *rest) = _binding_parts(kb, fmt)
    rows, cols = kb.dim(dense, 0), kb.dim(dense, 1)
    if kind(fmt) == "csc":
        ptr, idx, data = parts
        j = kb.point(0)

        def entry(b: IRBuilder, p: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
            b.store(b.load(data, p), dense, b.clamp(b.load_index(idx, p), rows), j)
            return []
        kb.loop(kb.load_index(ptr, j), kb.load_index(ptr, kb.addi(j, kb.index(1))), [], entry)
        return kb.finish()
    i = kb.point(0)
    nnz = kb.to_index(rest[0]) if rest else None

    def put(b: IRBuilder, col: SSAValue, val: SSAValue, _: list[SSAValue]) -> list[SSAValue]:
        b.store(val, dense, i, b.clamp(col, cols))
        return []
    row_entries(kb, fmt, parts, i, cols, nnz, [], put)
    return kb.finish()


def nnz_kernel(name: str, fmt: FormatAttr | None, loc: Location, rank: int = 2, elem: Attribute = f32) -> kern.KernelOp:
    """Count nonzero values (a reduce kernel). Sparse: one point per stored value, with
    the stored count bound so padding is skipped; dense: one point per element."""
    if fmt is None:
        kb = KernelBuilder(name, rank, [mat_of(elem) if rank == 2 else vec_of(elem)], loc, reduce="add")
        v = kb.load(kb.args[0], *([kb.point(1), kb.point(0)] if rank == 2 else [kb.point(0)]))
        stored = nonzero(kb, v)
    else:
        kb = KernelBuilder(name, 1, [vec_of(elem), i32], loc, reduce="add")
        data, stored = kb.args
        k = kb.point(0)
        v = kb.load(data, kb.clamp(k, kb.dim(data, 0)))
        inside = kb.cmpi("slt", k, kb.to_index(stored))
        stored = kb.add(arith.AndIOp(inside, nonzero(kb, v)))
    return kb.finish(kb.select(stored, kb.i32(1), kb.i32(0)))


def reduce_kernel(name: str, how: str, rank: int, loc: Location, elem: Attribute = f32) -> kern.KernelOp:
    """Combine every element of a dense tensor (``add``, ``min``, ``max``), in its element type."""
    kb = KernelBuilder(name, rank, [vec_of(elem) if rank == 1 else mat_of(elem)], loc, reduce=how)
    src = kb.args[0]
    return kb.finish(kb.load(src, *([kb.point(0)] if rank == 1 else [kb.point(1), kb.point(0)])))


def read_last_kernel(name: str, loc: Location) -> kern.KernelOp:
    """The last element of an ``i32`` buffer, as a one-point ``add`` reduction: how
    the host learns a prefix sum's total (the size of the arrays to allocate)."""
    kb = KernelBuilder(name, 1, [IDX], loc, reduce="add")
    buf = kb.args[0]
    return kb.finish(kb.load(buf, kb.subi(kb.dim(buf, 0), kb.index(1))))


def scan_kernel(name: str, loc: Location) -> kern.KernelOp:
    """``ptr[0] = 0; ptr[m+1] = ptr[m] + counts[m]``: one sequential invocation (the
    counts are per row or per block row, so this is short next to the data)."""
    kb = KernelBuilder(name, 1, [IDX, IDX], loc)
    counts, ptr = kb.args
    kb.store(kb.i32(0), ptr, kb.index(0))

    def step(b: IRBuilder, m: SSAValue, total: list[SSAValue]) -> list[SSAValue]:
        s = b.addi(total[0], b.load(counts, m))
        b.store(s, ptr, b.addi(m, b.index(1)))
        return [s]
    kb.loop(kb.index(0), kb.dim(counts, 0), [kb.i32(0)], step)
    return kb.finish()
