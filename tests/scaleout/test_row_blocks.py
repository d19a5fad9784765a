"""Sparse work in row blocks across two Ray workers: SpMV with each block's format chosen
by ``auto`` from its own rows equals one process; PageRank over 10,000 nodes, driven
step by step over blocks that stay in their workers, equals examples/pagerank.cn run
in one process to 1e-6."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import ccomp

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SPMV = "fn spmv(A: tensor<?x?xf32, auto>, v: tensor<?xf32>) -> tensor<?xf32> {\n    return A @ v\n}\n"
STEP = ("fn step(A: tensor<?x?xf32, auto>, r: tensor<?xf32>, n: f32, damping: f32 = 0.85) -> tensor<?xf32> {\n"
        "    return (1.0 - damping) / n + damping * (A @ r)\n}\n")


def mixed_matrix(n: int = 4000, seed: int = 0) -> sp.csr_matrix:
    """Top half: dense 8x8 blocks on a band; bottom half: scattered entries."""
    rng = np.random.default_rng(seed)
    top = sp.kron(sp.random(n // 16, n // 8, density=0.02, random_state=seed, format="csr"),
                  np.ones((8, 8), np.float32)).tocsr()
    bottom = sp.random(n // 2, n, density=0.003, random_state=seed + 1, format="csr")
    m = sp.vstack([top, bottom]).tocsr().astype(np.float32)
    m.data = rng.random(m.nnz, dtype=np.float32)
    return m


def pagerank_matrix(n: int, seed: int = 3) -> sp.csr_matrix:
    """Column-stochastic links of a random graph (every node has out-links)."""
    rng = np.random.default_rng(seed)
    src = np.repeat(np.arange(n), 5)
    dst = rng.integers(0, n, src.size)
    a = sp.csr_matrix((np.ones(src.size, np.float32), (dst, src)), shape=(n, n))
    a.sum_duplicates()
    out = np.asarray(a.sum(axis=0)).ravel()
    return sp.csr_matrix(a.multiply(1.0 / out[None, :]), dtype=np.float32)


def test_cut_rows_balances_stored_entries():
    from ccomp.runtime.scaleout.row_blocks import cut_rows

    m = mixed_matrix()
    ranges = cut_rows(m, 2)
    assert ranges[0][0] == 0 and ranges[-1][1] == m.shape[0] and len(ranges) == 2
    counts = [m[a:b].nnz for a, b in ranges]
    assert max(counts) < 0.6 * m.nnz


@pytest.mark.parametrize("runtime", ["local", "ray"])
def test_spmv_in_row_blocks_equals_one_process(runtime, request):
    if runtime == "ray":
        request.getfixturevalue("ray_session")
    prog = ccomp.compile_source(SPMV)
    m = mixed_matrix()
    v = np.random.default_rng(1).random(m.shape[1], dtype=np.float32)
    whole = prog(A=m, v=v)
    with ccomp.row_blocks(prog, "A", m, blocks=2, runtime=runtime) as spmv:
        got = spmv(v=v)
        formats = spmv.formats
    np.testing.assert_allclose(got, whole, rtol=1e-6, atol=1e-6)
    # auto chose per block, from the block's own rows: 8x8 blocks on top, scattered entries below
    assert len(formats) == 2 and "bsr(8x8)" in formats[0][0] and formats[1][0].startswith("A: csr")


def test_pagerank_10000_nodes_in_row_blocks_equals_one_process(ray_session):
    n, iters = 10_000, 50
    a = pagerank_matrix(n)
    whole = ccomp.compile_file(EXAMPLES / "pagerank.cn")(A=a, damping=0.85, iters=iters)
    r = np.full(n, 1.0 / n, np.float32)
    with ccomp.row_blocks(ccomp.compile_source(STEP), "A", a, blocks=2, runtime="ray") as step:
        for _ in range(iters):
            r = step(r=r, n=float(n), damping=0.85)
    assert np.max(np.abs(r - whole)) <= 1e-6
    assert abs(float(r.sum()) - 1.0) < 1e-3


def test_a_program_that_is_not_row_wise_is_refused():
    prog = ccomp.compile_source("fn t(A: tensor<?x?xf32, auto>, v: tensor<?xf32>) -> tensor<?xf32> {\n"
                                "    return v\n}\n")
    with ccomp.row_blocks(prog, "A", mixed_matrix(400), blocks=2, runtime="local") as blocks:
        with pytest.raises(ccomp.CompileError, match="only programs whose result row i comes from row i"):
            blocks(v=np.ones(400, np.float32))
    with pytest.raises(ccomp.CompileError, match="no sparse input 'B'"):
        ccomp.row_blocks(prog, "B", mixed_matrix(400), runtime="local")
