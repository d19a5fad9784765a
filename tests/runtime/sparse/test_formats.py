"""Sparse storage formats against scipy.sparse: every input kind into every format, the exact
canonical arrays kernels rely on, edge cases, the no-copy fast path, and bad input."""

from __future__ import annotations

import gc
import itertools

import numpy as np
import pytest
import scipy.sparse as sp

import ccomp.runtime.sparse.formats as sf
import ccomp.runtime.sparse.validate as sv
from ccomp.runtime.sparse.formats import (
    Format, SparseArrays, SparseInputError, canonical_coo, convert, from_value, to_dense, to_scipy,
)

FORMATS = [Format("dense"), Format("csr"), Format("csc"), Format("coo"),
           Format("bsr", (4, 4)), Format("bsr", (8, 8)), Format("bsr", (2, 3))]


def rand(m: int, n: int, density: float, seed: int = 0) -> sp.csr_matrix:
    return sp.random(m, n, density=density, format="csr", dtype=np.float32, random_state=seed)


def inputs(x: sp.csr_matrix) -> dict[str, object]:
    """The same matrix as every kind of input a user may pass."""
    out = {f: x.asformat(f) for f in ("coo", "csr", "csc", "lil", "dok", "dia")}
    out["bsr"] = x.tobsr(blocksize=(1, 1))
    out["csr_array"] = sp.csr_array(x)
    out["numpy"] = x.toarray()
    out["numpy_f64"] = x.toarray().astype(np.float64)
    return out


def canonical(x) -> sp.csr_matrix:
    x = x.tocsr(copy=True)
    x.sum_duplicates()
    x.eliminate_zeros()
    x.sort_indices()
    return x


def padded_bsr(a: SparseArrays) -> np.ndarray:
    """The bsr arrays as a dense matrix including the padding beyond the logical shape."""
    (R, C), p = a.format.block, a.parts
    mb, nb = len(p["indptr"]) - 1, -(-a.shape[1] // C)
    out = np.zeros((mb * R, nb * C), np.float32)
    for i in range(mb):
        for k in range(p["indptr"][i], p["indptr"][i + 1]):
            j = p["indices"][k]
            out[i * R:(i + 1) * R, j * C:(j + 1) * C] = p["data"][k * R * C:(k + 1) * R * C].reshape(R, C)
    return out


def check_layout(a: SparseArrays) -> None:
    for name in a.format.parts:
        part = a.parts[name]
        assert part.flags.c_contiguous and part.size >= 1
        assert part.dtype == (np.float32 if name in ("data", "values") else np.int32)
    if a.format.kind == "bsr":
        full = padded_bsr(a)
        dense = to_dense(a)
        np.testing.assert_array_equal(full[:a.shape[0], :a.shape[1]], dense)
        assert not full[a.shape[0]:].any() and not full[:, a.shape[1]:].any()


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
@pytest.mark.parametrize("shape", [(13, 17), (16, 8)])
def test_every_input_kind_into_every_format(fmt, shape):
    x = rand(*shape, 0.3, seed=1)
    x.data *= 10
    want = x.toarray()
    for kind, value in inputs(x).items():
        a = from_value(value, fmt)
        assert a.format == fmt and a.shape == shape
        check_layout(a)
        np.testing.assert_array_equal(to_dense(a), want, err_msg=kind)


def test_convert_between_every_pair():
    x = rand(11, 19, 0.25, seed=2)
    want = x.toarray()
    for src, dst in itertools.product(FORMATS, FORMATS):
        b = convert(from_value(x, src), dst)
        assert b.format == dst
        check_layout(b)
        np.testing.assert_array_equal(to_dense(b), want, err_msg=f"{src} -> {dst}")


@pytest.mark.parametrize("density", [0.5, 0.1, 0.01, 0.001])
def test_parts_equal_scipy_canonical(density):
    x = rand(120, 170, density, seed=3)
    # duplicates, zeros and disorder in a coo input: scipy sums them the same way
    coo = x.tocoo()
    perm = np.random.default_rng(4).permutation(coo.nnz)
    messy = sp.coo_matrix((np.concatenate([coo.data[perm], coo.data[:5], np.zeros(3, np.float32)]),
                           (np.concatenate([coo.row[perm], coo.row[:5], coo.row[-3:]]),
                            np.concatenate([coo.col[perm], coo.col[:5], coo.col[-3:]]))), shape=x.shape)
    for value in (x, x.tocsc(), coo, messy):
        ref = canonical(value)
        csr, csc, co = (from_value(value, Format(k)) for k in ("csr", "csc", "coo"))
        if ref.nnz:
            np.testing.assert_array_equal(csr.parts["indptr"], ref.indptr)
            np.testing.assert_array_equal(csr.parts["indices"], ref.indices)
            np.testing.assert_array_equal(csr.parts["data"], ref.data)
            refc = ref.tocsc()
            refc.sort_indices()
            np.testing.assert_array_equal(csc.parts["indptr"], refc.indptr)
            np.testing.assert_array_equal(csc.parts["indices"], refc.indices)
            np.testing.assert_array_equal(csc.parts["data"], refc.data)
            refo = ref.tocoo()
            np.testing.assert_array_equal(np.stack([co.parts["row"], co.parts["col"]]), np.stack([refo.row, refo.col]))
            np.testing.assert_array_equal(co.parts["data"], refo.data)
        assert csr.nnz == csc.nnz == co.nnz == ref.nnz


def test_small_example():
    a = from_value(np.array([[1, 0, 2], [0, 3, 0], [4, 0, 5]]), Format("csr"))
    assert a.parts["data"].tolist() == [1, 2, 3, 4, 5]
    assert a.parts["indices"].tolist() == [0, 2, 1, 0, 2]
    assert a.parts["indptr"].tolist() == [0, 2, 3, 5]
    assert a.nnz == 5 and a.parts["data"].dtype == np.float32
    s = to_scipy(from_value(a, Format("bsr", (2, 2))))
    assert s.format == "csr" and (s.toarray() == to_dense(a)).all()  # 3x3 is no 2x2 multiple


def test_empty_rows_columns_and_all_zero():
    x = np.zeros((6, 5), np.float32)
    x[1, 3] = 2
    x[4, 0] = -1
    for fmt in FORMATS:
        np.testing.assert_array_equal(to_dense(from_value(x, fmt)), x)
    for shape in [(6, 5), (1, 1), (0, 0), (0, 4), (3, 0)]:
        for fmt in FORMATS[1:]:
            a = from_value(sp.csr_matrix(shape, dtype=np.float32), fmt)
            assert a.nnz == 0
            for name in fmt.parts:
                part = a.parts[name]
                assert part.size >= 1 and not part.any(), (fmt, name)
            assert to_dense(a).shape == shape and not to_dense(a).any()
            assert to_scipy(a).nnz == 0 and to_scipy(a).shape == shape


def test_one_by_one():
    for fmt in FORMATS:
        a = from_value(np.array([[7.5]]), fmt)
        assert to_dense(a).tolist() == [[7.5]]
        assert a.nnz == (1 if fmt.kind != "bsr" else fmt.block[0] * fmt.block[1])


def test_duplicates_summed_unsorted_and_cancelling():
    coo = sp.coo_matrix(([1.0, 2.0, 3.0, -3.0, 4.0], ([0, 0, 1, 1, 2], [2, 2, 0, 0, 1])), shape=(3, 3))
    a = from_value(coo, Format("csr"))
    assert a.parts["indptr"].tolist() == [0, 1, 1, 2]  # row 1 cancelled to zero and is dropped
    assert a.parts["indices"].tolist() == [2, 1] and a.parts["data"].tolist() == [3, 4]
    unsorted = sp.csr_matrix((np.array([5, 6, 7], np.float32), np.array([2, 0, 1], np.int32),
                              np.array([0, 3], np.int32)), shape=(1, 3))
    unsorted.has_canonical_format = False
    b = from_value(unsorted, Format("csr"))
    assert b.parts["indices"].tolist() == [0, 1, 2] and b.parts["data"].tolist() == [6, 7, 5]
    assert not np.shares_memory(b.parts["data"], unsorted.data)


@pytest.mark.parametrize("shape", [(5, 7), (9, 3), (1, 1), (17, 9)])
@pytest.mark.parametrize("block", [(4, 4), (8, 8), (3, 2)])
def test_bsr_non_multiple_shapes(shape, block):
    x = np.random.default_rng(5).random(shape, dtype=np.float32)
    x[x < 0.4] = 0
    a = from_value(x, Format("bsr", block))
    check_layout(a)
    assert len(a.parts["indptr"]) == -(-shape[0] // block[0]) + 1
    np.testing.assert_array_equal(to_dense(a), x)
    np.testing.assert_array_equal(to_scipy(a).toarray(), x)


def test_value_conversion_to_float32():
    ints = from_value(np.array([[0, 3], [-2, 0]], np.int64), Format("csr"))
    assert ints.parts["data"].tolist() == [3, -2]
    big = from_value(np.array([[1e300, 1e-300]]), Format("coo"))
    assert big.parts["data"].tolist() == [np.inf]  # 1e-300 is 0 in float32 and dropped
    half = to_dense(from_value(np.eye(2, dtype=np.float16), Format("csc")))
    np.testing.assert_array_equal(half, np.eye(2))


def test_to_scipy_keeps_the_format():
    x = rand(16, 24, 0.2, seed=6)
    for fmt in FORMATS:
        s = to_scipy(from_value(x, fmt))
        if fmt.kind == "dense":
            np.testing.assert_array_equal(s, x.toarray())
        else:  # 16x24 is a multiple of every block size here, so bsr stays bsr
            assert s.format == fmt.kind and s.dtype == np.float32
            assert fmt.kind != "bsr" or s.blocksize == fmt.block
            np.testing.assert_array_equal(s.toarray(), x.toarray())


def test_fast_path_shares_memory_and_checks_once(monkeypatch):
    calls = []
    real = sv._validate_compressed
    monkeypatch.setattr(sv, "_validate_compressed", lambda *a: calls.append(a[0]) or real(*a))
    earlier = set(sf._checked._entries)
    x = rand(300, 200, 0.05, seed=7)
    a = from_value(x, Format("csr"))
    for name, theirs in (("indptr", x.indptr), ("indices", x.indices), ("data", x.data)):
        assert a.parts[name] is theirs or np.shares_memory(a.parts[name], theirs)
    b = from_value(x, Format("csr"))
    assert len(calls) == 1 and b.parts["indices"] is x.indices
    c = x.tocsc()
    assert np.shares_memory(from_value(c, Format("csc")).parts["data"], c.data)
    assert len(calls) == 2
    mine = set(sf._checked._entries) - earlier
    assert len(mine) == 2
    del x, a, b, c
    gc.collect()
    # Entries die with the arrays. (Counting the whole cache is not a test: entries of
    # earlier tests' matrices may die in the same collection.)
    assert not mine & set(sf._checked._entries)


def test_fast_path_not_taken_when_not_canonical():
    x = rand(30, 20, 0.3, seed=8)
    for other in (sp.csr_matrix(x, dtype=np.float64), x.tocsc()):
        assert not np.shares_memory(from_value(other, Format("csr")).parts["data"], other.data)
    dense = np.ones((3, 4), np.float32)
    assert from_value(dense, Format("dense")).parts["values"] is dense
    assert from_value(dense.T, Format("dense")).parts["values"].flags.c_contiguous


def test_explicit_zeros_kept_on_fast_path():
    x = sp.csr_matrix((np.array([0, 1], np.float32), np.array([0, 1], np.int32), np.array([0, 2], np.int32)),
                      shape=(1, 2))
    assert from_value(x, Format("csr")).nnz == 2
    assert from_value(x, Format("coo")).nnz == 1


def raw_coo(shape, row, col, data) -> SparseArrays:
    """Coordinates as given, unchecked: ccomp's own coo arrays (scipy would refuse some at construction)."""
    return SparseArrays(Format("coo"), shape, {"row": np.asarray(row), "col": np.asarray(col), "data": np.asarray(data)})


def mutated_csr(**changes) -> sp.csr_matrix:
    x = sp.csr_matrix(np.array([[1, 0, 2], [0, 3, 0]], np.float32))
    for name, value in changes.items():
        setattr(x, name, np.asarray(value))
    return x


BAD = {
    "negative": (raw_coo((2, 2), np.array([0, -1]), np.array([0, 1]), np.ones(2)), "row index -1 is negative"),
    "range": (mutated_csr(indices=np.array([0, 7, 1], np.int32)), "column index 7 is out of range for 3 columns"),
    "row out of range": (raw_coo((2, 5), np.array([2]), np.array([0]), np.ones(1)), "row index 2 is out of range"),
    "indptr decreasing": (mutated_csr(indptr=np.array([0, 2, 1], np.int32)), "not monotonic"),
    "indptr length": (mutated_csr(indptr=np.array([0, 3], np.int32)), "indptr has 2 entries"),
    "indptr end": (mutated_csr(indptr=np.array([0, 2, 5], np.int32)), "indptr ends at 5"),
    "indptr start": (mutated_csr(indptr=np.array([1, 2, 3], np.int32)), "start at 0"),
    "lengths": (raw_coo((2, 2), np.array([0, 1]), np.array([0]), np.ones(2)), "different shapes"),
    "data length": (mutated_csr(data=np.ones(2, np.float32)), "data has shape"),
    "complex": (np.ones((2, 2), np.complex128), "real numbers, got complex128"),
    "complex sparse": (sp.csr_matrix(np.eye(2, dtype=np.complex64)), "real numbers, got complex64"),
    "bool": (np.ones((2, 2), bool), "real numbers, got bool"),
    "object": (np.array([[None]]), "real numbers, got object"),
    "3-D": (np.ones((2, 2, 2)), "2-D matrix, got a 3-D array"),
    "1-D sparse": (sp.coo_array(np.ones(3)), "2-D"),
    "inf shape": (raw_coo((float("inf"), 3), np.zeros(1, int), np.zeros(1, int), np.ones(1)), "shape must be"),
    "huge shape": (raw_coo((2**31, 3), np.zeros(1, int), np.zeros(1, int), np.ones(1)), "too big"),
    "float indices": (raw_coo((2, 2), np.zeros(1), np.zeros(1), np.ones(1)), "integers"),
    "ragged": ([[1, 2], [3]], "rectangular"),
    "not a matrix": ({"a": 1}, "got dict"),
    "bsr padding": (SparseArrays(Format("bsr", (2, 2)), (1, 1), {
        "indptr": np.array([0, 1], np.int32), "indices": np.zeros(1, np.int32),
        "data": np.array([1, 0, 0, 9], np.float32)}), "padding"),
    "missing part": (SparseArrays(Format("csr"), (1, 1), {"indptr": np.array([0, 0])}), "lack indices, data"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_a_clean_error(case):
    value, message = BAD[case]
    for fmt in (Format("csr"), Format("bsr", (4, 4)), Format("dense")):
        with pytest.raises(SparseInputError, match=message):
            from_value(value, fmt)


def test_format_parse():
    assert Format.parse("csr") == Format("csr") and Format.parse(" Dense ") == Format("dense")
    assert Format.parse("bsr(4x4)") == Format.parse("bsr4x4") == Format("bsr", (4, 4))
    assert str(Format.parse("bsr(2x8)")) == "bsr(2x8)" and str(Format("coo")) == "coo"
    assert Format("coo").parts == ("row", "col", "data") and Format("dense").parts == ("values",)
    assert Format("bsr", (4, 4)).parts == ("indptr", "indices", "data")
    for bad in ("bsr", "bsr(0x4)", "csx", "bsr(4x4", "bsr(4,4)", ""):
        with pytest.raises(ValueError):
            Format.parse(bad)


def test_bsr_blocks_sorted_when_a_later_row_opens_an_earlier_block():
    """scipy's tobsr orders blocks by first appearance in a block row; kernels need them sorted."""
    x = np.zeros((4, 6), np.float32)
    x[0, 5], x[1, 0], x[3, 2] = 1, 2, 3
    a = from_value(x, Format("bsr", (2, 2)))
    assert a.parts["indices"].tolist() == [0, 2, 1] and a.parts["indptr"].tolist() == [0, 2, 3]
    np.testing.assert_array_equal(to_dense(a), x)


def test_conversions_leave_the_input_alone():
    coo = sp.coo_matrix(([1.0, 2.0, 0.0, 4.0], ([1, 1, 0, 2], [2, 2, 1, 0])), shape=(3, 3))
    unsorted = sp.csr_matrix((np.array([5, 0, 7], np.float32), np.array([2, 0, 1], np.int32),
                              np.array([0, 3], np.int32)), shape=(1, 3))
    for value in (coo, unsorted, unsorted.tocsc()):
        before = [a.copy() for a in (value.data, *((value.row, value.col) if value.format == "coo"
                                                   else (value.indices, value.indptr)))]
        for fmt in FORMATS:
            from_value(value, fmt)
        after = (value.data, *((value.row, value.col) if value.format == "coo" else (value.indices, value.indptr)))
        for b, a in zip(before, after):
            np.testing.assert_array_equal(a, b)


def test_canonical_coo_of_every_kind():
    x = rand(9, 14, 0.3, seed=9)
    ref = canonical(x).tocoo()
    for kind, value in inputs(x).items():
        shape, row, col, data = canonical_coo(value)
        assert shape == (9, 14) and row.dtype == col.dtype == np.int64 and data.dtype == np.float32
        np.testing.assert_array_equal(row, ref.row, err_msg=kind)
        np.testing.assert_array_equal(col, ref.col, err_msg=kind)
        np.testing.assert_array_equal(data, ref.data, err_msg=kind)
