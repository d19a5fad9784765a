"""examples/pagerank.cn against networkx.pagerank.

Convention (docs/language.md): the program iterates r <- (1-d)/n + d * A r, so A must be
the column-stochastic transition matrix, A[j, i] = 1/outdeg(i) for an edge i -> j. A
dangling node (no out-edges) gets the uniform column 1/n, which is how networkx spreads
dangling mass by default; built that way, the ranks agree with networkx's.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

import ccomp

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pagerank.cn"


def transition(n: int, edges: list[tuple[int, int]]) -> sp.csr_matrix:
    """Column-stochastic matrix of a directed graph, dangling columns uniform."""
    out = np.zeros(n)
    for i, _ in edges:
        out[i] += 1
    rows = [j for _, j in edges] + [j for i in range(n) if out[i] == 0 for j in range(n)]
    cols = [i for i, _ in edges] + [i for i in range(n) if out[i] == 0 for _ in range(n)]
    vals = [1 / out[i] for i, _ in edges] + [1 / n for i in range(n) if out[i] == 0 for _ in range(n)]
    return sp.csr_matrix((np.array(vals, np.float32), (rows, cols)), shape=(n, n))


def networkx_ranks(n: int, edges: list[tuple[int, int]]) -> np.ndarray:
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges)
    ranks = nx.pagerank(g, alpha=0.85, tol=1e-12, max_iter=1000)
    return np.array([ranks[k] for k in range(n)])


@pytest.mark.parametrize("target", ["llvm", "opencl", "glsl"])
def test_three_node_graph_matches_networkx(target: str) -> None:
    edges = [(0, 1), (1, 2), (2, 0), (2, 1), (0, 2)]
    prog = ccomp.compile(EXAMPLE, target=target)
    ranks = prog(A=transition(3, edges), iters=100)
    assert np.abs(ranks - networkx_ranks(3, edges)).max() <= 1e-6
    assert prog.explanation and prog.explanation[0].startswith("A: ")


def test_graph_with_dangling_nodes_matches_networkx() -> None:
    rng = np.random.default_rng(5)
    n = 60
    edges = sorted({(int(i), int(j)) for i, j in rng.integers(0, n, (150, 2)) if i != j and i % 7 != 3})
    prog = ccomp.compile(EXAMPLE, target="llvm")
    ranks = prog(A=transition(n, edges), iters=200)
    assert np.abs(ranks - networkx_ranks(n, edges)).max() <= 1e-6


def test_auto_picks_a_format_from_the_data_and_says_why() -> None:
    prog = ccomp.compile(EXAMPLE, target="llvm")
    sparse_graph = sp.random(200, 200, density=0.01, format="csr", dtype=np.float32, random_state=0)
    prog(A=sparse_graph, iters=3)
    assert prog.explanation[0].startswith("A: csr") and "density" in prog.explanation[0]
    blocks = sp.block_diag([np.ones((8, 8), np.float32)] * 10, format="csr")
    got = prog(A=blocks, iters=3)
    assert prog.explanation[0].startswith("A: bsr(8x8)")
    want = np.full(80, 1 / 80, np.float64)
    for _ in range(3):
        want = 0.15 / 80 + 0.85 * (blocks.toarray().astype(np.float64) @ want)
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()
    prog(A=np.ones((6, 6), np.float32) / 6, iters=3)
    assert prog.explanation[0].startswith("A: dense")
