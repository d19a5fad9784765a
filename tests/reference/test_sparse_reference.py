"""The reference evaluator's ``sparse`` dialect semantics.

Expected values come from scipy.sparse and plain NumPy, computed here independently of
``ccomp.reference``; the reference itself sees only the IR and the inputs.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from ccomp.dialects.context import parse_module
from ccomp.reference import EvaluationError, evaluate

RNG = np.random.default_rng(11)
V, M = "tensor<?xf32>", "tensor<?x?xf32>"
FORMATS = ["csr", "csc", "coo", "bsr[4, 4]", "auto"]


def run(ir: str, *args: object, function: str = "f") -> list:
    return evaluate(parse_module(ir), function, list(args))


def mat(fmt: str | None) -> str:
    return M if fmt is None else f"tensor<?x?xf32, #sparse.format<{fmt}>>"


def matvec_ir(fmt: str | None) -> str:
    return f"""
func.func @f(%a: {mat(fmt)}, %v: {V}) -> {V} {{
  %r = sparse.matvec %a, %v : {mat(fmt)}, {V} -> {V}
  func.return %r : {V}
}}"""


def random_sparse(rows: int, cols: int, density: float = 0.3) -> sp.csr_matrix:
    return sp.random(rows, cols, density=density, format="csr", random_state=RNG, dtype=np.float32)


@pytest.mark.parametrize("fmt", [*FORMATS, None])
def test_small_matvec_is_exact(fmt: str | None) -> None:
    a = np.array([[1, 0, 2], [0, 3, 0], [4, 0, 5]], dtype=np.float32)
    (out,) = run(matvec_ir(fmt), sp.csr_matrix(a), np.array([1, 2, 3], dtype=np.float32))
    np.testing.assert_array_equal(out, [7, 6, 19])
    assert out.dtype == np.float32 and out.shape == (3,)


@pytest.mark.parametrize(("fmt", "make"), [
    ("csr", sp.csr_matrix), ("csc", sp.csc_matrix), ("coo", sp.coo_matrix),
    ("bsr[4, 4]", lambda a: sp.bsr_matrix(a, blocksize=(4, 4))), ("auto", sp.csr_matrix),
    (None, lambda a: a.toarray()),
])
def test_matvec_matches_scipy(fmt: str | None, make) -> None:
    a = random_sparse(12, 8)
    v = RNG.standard_normal(8).astype(np.float32)
    (out,) = run(matvec_ir(fmt), make(a), v)
    expected = sp.csr_matrix(a, dtype=np.float64) @ v.astype(np.float64)
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-7)
    assert out.dtype == np.float32


def test_matvec_accumulates_in_float64() -> None:
    # In f32, 1e8 + 1 rounds back to 1e8 and the row sums to 0; the exact answer is 1.
    a = np.array([[1e8, 1, -1e8]], dtype=np.float32)
    (out,) = run(matvec_ir("csr"), a, np.ones(3, np.float32))
    assert out[0] == 1.0


def test_matvec_shape_mismatch_is_an_error() -> None:
    with pytest.raises(EvaluationError, match="columns and the vector's length differ"):
        run(matvec_ir("csr"), np.ones((3, 4), np.float32), np.ones(3, np.float32))


def test_matvec_result_must_fit_a_static_type() -> None:
    ir = f"""
func.func @f(%a: {M}, %v: {V}) -> tensor<3xf32> {{
  %r = sparse.matvec %a, %v : {M}, {V} -> tensor<3xf32>
  func.return %r : tensor<3xf32>
}}"""
    (out,) = run(ir, np.eye(3, dtype=np.float32), np.ones(3, np.float32))
    np.testing.assert_array_equal(out, np.ones(3))
    with pytest.raises(EvaluationError, match="result has shape"):
        run(ir, np.eye(4, dtype=np.float32), np.ones(4, np.float32))


@pytest.mark.parametrize("fmt", ["csr", "bsr[4, 4]", None])
def test_matmul_matches_numpy(fmt: str | None) -> None:
    ir = f"""
func.func @f(%a: {mat(fmt)}, %b: {M}) -> {M} {{
  %r = sparse.matmul %a, %b : {mat(fmt)}, {M} -> {M}
  func.return %r : {M}
}}"""
    a = random_sparse(9, 6)
    b = RNG.standard_normal((6, 5)).astype(np.float32)
    (out,) = run(ir, a, b)
    np.testing.assert_allclose(out, a.toarray().astype(np.float64) @ b.astype(np.float64), rtol=1e-6, atol=1e-7)
    assert out.dtype == np.float32 and out.shape == (9, 5)
    with pytest.raises(EvaluationError, match="inner sizes differ"):
        run(ir, a, b[:5])


def elementwise_ir(types: list[str], out: str, body: str) -> str:
    params = ", ".join(f"%x{k}: {t}" for k, t in enumerate(types))
    operands = ", ".join(f"%x{k}" for k in range(len(types)))
    args = ", ".join(f"%e{k}: f32" for k in range(len(types)))
    return f"""
func.func @f({params}) -> {out} {{
  %r = sparse.elementwise({operands}) : ({", ".join(types)}) -> {out} {{
  ^bb0({args}):
{body}
    sparse.yield %y : f32
  }}
  func.return %r : {out}
}}"""


def test_elementwise_vector_plus_scalar() -> None:
    v = RNG.standard_normal(7).astype(np.float32)
    (out,) = run(elementwise_ir([V, "f32"], V, "    %y = arith.addf %e0, %e1 : f32"), v, 2.5)
    np.testing.assert_array_equal(out, v + np.float32(2.5))
    assert out.dtype == np.float32 and out.shape == (7,)


def test_elementwise_matrix_plus_row_and_column() -> None:
    m = RNG.standard_normal((4, 5)).astype(np.float32)
    row = RNG.standard_normal(5).astype(np.float32)
    col = RNG.standard_normal((4, 1)).astype(np.float32)
    body = "    %s = arith.addf %e0, %e1 : f32\n    %y = arith.mulf %s, %e2 : f32"
    (out,) = run(elementwise_ir([M, V, "tensor<?x1xf32>"], M, body), m, row, col)
    np.testing.assert_array_equal(out, (m + row[None, :]) * col)
    assert out.shape == (4, 5)


def test_elementwise_uses_the_scalar_op_semantics() -> None:
    # max(sqrt(x), 0.5) with the IEEE minimum/maximum and a comparison + select.
    v = np.array([4.0, 0.01, -1.0, 0.0], dtype=np.float32)
    body = """    %h = arith.constant 5.000000e-01 : f32
    %s = math.sqrt %e0 : f32
    %c = arith.cmpf ogt, %s, %h : f32
    %y = arith.select %c, %s, %h : f32"""
    (out,) = run(elementwise_ir([V], V, body), v)
    np.testing.assert_array_equal(out, [2.0, 0.5, 0.5, 0.5])  # sqrt(-1) is NaN: not > 0.5


def test_elementwise_broadcasts_to_a_static_result() -> None:
    (out,) = run(elementwise_ir(["f32"], "tensor<2x3xf32>", "    %y = arith.negf %e0 : f32"), 1.5)
    np.testing.assert_array_equal(out, np.full((2, 3), -1.5, np.float32))


def test_elementwise_shapes_that_do_not_broadcast_are_an_error() -> None:
    ir = elementwise_ir([V, V], V, "    %y = arith.addf %e0, %e1 : f32")
    with pytest.raises(EvaluationError, match="do not broadcast"):
        run(ir, np.ones(3, np.float32), np.ones(4, np.float32))


@pytest.mark.parametrize(("src", "dst"), [("csr", None), (None, "bsr[4, 4]"), ("coo", "csc"), ("auto", "csr")])
def test_convert_keeps_the_contents(src: str | None, dst: str | None) -> None:
    ir = f"""
func.func @f(%a: {mat(src)}) -> {mat(dst)} {{
  %r = sparse.convert %a : {mat(src)} to {mat(dst)}
  func.return %r : {mat(dst)}
}}"""
    a = random_sparse(6, 10)
    dense = a.toarray()
    (out,) = run(ir, dense)
    np.testing.assert_array_equal(out, dense)
    assert out is not dense and out.dtype == np.float32


def test_nnz_counts_values_not_stored_entries() -> None:
    ir = f"""
func.func @f(%a: {mat("csr")}) -> i32 {{
  %n = sparse.nnz %a : {mat("csr")}
  func.return %n : i32
}}"""
    a = sp.csr_matrix((np.array([1.0, 0.0, -2.0], np.float32), ([0, 1, 2], [2, 0, 1])), shape=(3, 3))
    assert a.nnz == 3  # scipy stores the explicit zero
    (n,) = run(ir, a)
    assert n == 2 and isinstance(n, np.int32)
    big = random_sparse(20, 30)
    assert run(ir, big)[0] == np.count_nonzero(big.toarray())


def test_dim_gives_rows_and_columns() -> None:
    ir = f"""
func.func @f(%a: {mat("coo")}, %v: {V}) -> (i32, i32, i32) {{
  %r = sparse.dim %a[0] : {mat("coo")}
  %c = sparse.dim %a[1] : {mat("coo")}
  %n = sparse.dim %v[0] : {V}
  func.return %r, %c, %n : i32, i32, i32
}}"""
    r, c, n = run(ir, np.zeros((3, 8), np.float32), np.zeros(5, np.float32))
    assert (r, c, n) == (3, 8, 5) and all(isinstance(x, np.int32) for x in (r, c, n))


def test_fill() -> None:
    ir = f"""
func.func @f(%n: i32, %m: i32, %x: f32) -> ({V}, {M}) {{
  %v = sparse.fill(%n) %x : {V}
  %a = sparse.fill(%n, %m) %x : {M}
  func.return %v, %a : {V}, {M}
}}"""
    v, a = run(ir, 4, 2, 0.25)
    np.testing.assert_array_equal(v, np.full(4, 0.25, np.float32))
    np.testing.assert_array_equal(a, np.full((4, 2), 0.25, np.float32))
    assert v.dtype == a.dtype == np.float32
    assert run(ir, 0, 3, 1.0)[1].shape == (0, 3)
    with pytest.raises(EvaluationError, match="negative size"):
        run(ir, -1, 2, 1.0)


def reduce_ir(kind: str, t: str = V) -> str:
    return f"""
func.func @f(%v: {t}) -> f32 {{
  %r = sparse.reduce "{kind}" %v : {t}
  func.return %r : f32
}}"""


def test_reduce() -> None:
    v = RNG.standard_normal(50).astype(np.float32)
    total = run(reduce_ir("add"), v)[0]
    assert isinstance(total, np.float32)
    assert total == np.float32(np.sum(v.astype(np.float64)))
    assert run(reduce_ir("min"), v)[0] == v.min()
    assert run(reduce_ir("max"), v)[0] == v.max()
    m = RNG.standard_normal((3, 4)).astype(np.float32)
    assert run(reduce_ir("max", M), m)[0] == m.max()
    # float64 accumulation: f32 left-to-right would lose the 1.
    assert run(reduce_ir("add"), np.array([1e8, 1, -1e8], np.float32))[0] == 1.0
    empty = np.zeros(0, np.float32)
    assert run(reduce_ir("add"), empty)[0] == 0 and run(reduce_ir("min"), empty)[0] == np.inf


PAGERANK = f"""
func.func @pagerank(%A: {mat("auto")}, %d: f32, %iters: i32) -> ({V}, f32) {{
  %n = sparse.dim %A[0] : {mat("auto")}
  %one = arith.constant 1.000000e+00 : f32
  %nf = arith.sitofp %n : i32 to f32
  %inv = arith.divf %one, %nf : f32
  %omd = arith.subf %one, %d : f32
  %base = arith.mulf %omd, %inv : f32
  %r0 = sparse.fill(%n) %inv : {V}
  %r = loop.repeat %iters (%r0) : ({V}) -> {V} {{
  ^bb0(%i: i32, %s: {V}):
    %t = sparse.matvec %A, %s : {mat("auto")}, {V} -> {V}
    %next = sparse.elementwise(%t, %d, %base) : ({V}, f32, f32) -> {V} {{
    ^bb1(%ti: f32, %di: f32, %bi: f32):
      %m = arith.mulf %di, %ti : f32
      %a = arith.addf %bi, %m : f32
      sparse.yield %a : f32
    }}
    loop.yield %next : {V}
  }}
  %sum = sparse.reduce "add" %r : {V}
  func.return %r, %sum : {V}, f32
}}"""


def test_pagerank_in_a_repeat_zone() -> None:
    n = 40
    adj = sp.random(n, n, density=0.1, format="csr", random_state=RNG, dtype=np.float32)
    adj.data[:] = 1
    adj = adj + sp.eye(n, format="csr", dtype=np.float32)  # no dangling nodes
    out_degree = np.asarray(adj.sum(axis=1)).ravel()
    transition = sp.csr_matrix(sp.diags(1 / out_degree) @ adj).T.tocsr()  # column-stochastic
    rank = np.full(n, 1 / n)
    for _ in range(30):
        rank = (1 - 0.85) / n + 0.85 * (transition @ rank)
    r, total = run(PAGERANK, transition.astype(np.float32), 0.85, 30, function="pagerank")
    np.testing.assert_allclose(r, rank, rtol=1e-5)
    assert abs(total - 1) < 1e-5 and r.dtype == np.float32
    r0, _ = run(PAGERANK, transition, 0.85, 0, function="pagerank")
    np.testing.assert_array_equal(r0, np.full(n, np.float32(1 / n)))


def test_tensor_arguments_are_checked_and_copied() -> None:
    v = np.ones(3, np.float32)
    (out,) = run(elementwise_ir([V], V, "    %y = arith.addf %e0, %e0 : f32"), v)
    assert v[0] == 1 and out[0] == 2
    with pytest.raises(EvaluationError, match="argument 0: expected a tensor of shape"):
        run(matvec_ir("csr"), np.ones(3, np.float32), v)
    with pytest.raises(EvaluationError, match="argument 0: expected a tensor of shape 2x2"):
        run(reduce_ir("add", "tensor<2x2xf32>"), np.ones((2, 3), np.float32))
