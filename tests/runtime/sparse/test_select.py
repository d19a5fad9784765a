"""Automatic format choice: each branch of the rule, exact measurements, determinism and caching."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import ccomp.runtime.sparse.select as ss
from ccomp.runtime.sparse.formats import Format, from_value
from ccomp.runtime.sparse.select import CANDIDATES, Choice, choose, measure


def block_diagonal(n_blocks: int, size: int, fill: float = 1.0, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    blocks = [(rng.random((size, size)) < fill) * (1 + rng.random((size, size))) for _ in range(n_blocks)]
    return sp.block_diag(blocks, format="csr", dtype=np.float32)


def test_dense_when_60_percent_full():
    x = np.random.default_rng(1).random((40, 50), dtype=np.float32)
    x[x < 0.4] = 0
    c = choose(x)
    assert c.format == Format("dense") and 0.55 < c.density < 0.65
    assert c.reason.startswith(f"density {100 * c.density:.3g}% >= 25%")


def test_full_8x8_blocks_give_bsr8():
    c = choose(block_diagonal(12, 8))
    assert c.format == Format("bsr", (8, 8))
    assert c.block_fill == {"4x4": 1.0, "8x8": 1.0}
    assert "8x8 blocks are 100% full" in c.reason and "density 8.33%" in c.reason


def test_full_4x4_blocks_give_bsr4():
    c = choose(block_diagonal(16, 4))  # an 8x8 block holds two of them: 50% full
    assert c.format == Format("bsr", (4, 4))
    assert c.block_fill["4x4"] == 1.0 and c.block_fill["8x8"] == 0.5
    assert c.reason.endswith(": bsr(4x4)")


def test_random_one_percent_gives_csr():
    x = sp.random(400, 300, density=0.01, format="csr", dtype=np.float32, random_state=2)
    c = choose(x)
    assert c.format == Format("csr") and c.density == pytest.approx(0.01)
    assert "density 1% < 25%" in c.reason and "full (< 60%): csr" in c.reason
    assert all(f < 0.6 for f in c.block_fill.values())


def test_measure_is_exact():
    x = np.zeros((9, 10), np.float32)
    x[0, 0] = x[0, 1] = x[8, 9] = 1  # 4x4: two blocks; 8x8: two blocks
    shape, nnz, density, fill = measure(x)
    assert (shape, nnz, density) == ((9, 10), 3, 3 / 90)
    assert fill == {"4x4": 3 / 32, "8x8": 3 / 128}
    x[8, 9] = 0
    assert measure(sp.coo_matrix(x))[3] == {"4x4": 2 / 16, "8x8": 2 / 64}


@pytest.mark.parametrize("shape", [(7, 9), (0, 0), (0, 5)])
def test_all_zero_or_empty_is_csr(shape):
    c = choose(np.zeros(shape, np.float32))
    assert c.format == Format("csr") and c.density == 0
    assert "no nonzeros" in c.reason and "density 0%" in c.reason


def test_deterministic_cached_and_same_for_a_copy(monkeypatch):
    x = sp.random(200, 200, density=0.05, format="csr", dtype=np.float32, random_state=3)
    first = choose(x)
    calls = []
    real = ss._decide
    monkeypatch.setattr(ss, "_decide", lambda v, c: calls.append(1) or real(v, c))
    assert choose(x) is first and not calls  # cached per object
    again = choose(x.copy())
    assert again == first and again is not first and len(calls) == 1
    assert choose(x.tocoo()) == first and choose(x.toarray()) == first
    a = from_value(x, Format("csr"))
    assert choose(a) == first and choose(a) is choose(a)


def test_candidates_limit_the_choice():
    full = block_diagonal(6, 8)
    assert choose(full, (Format("csr"),)).format == Format("csr")
    c = choose(full, (Format("csr"), Format("bsr", (4, 4))))
    assert c.format == Format("bsr", (4, 4))
    dense = np.ones((10, 10), np.float32)
    c = choose(dense, (Format("csr"), Format("bsr", (2, 2))))
    assert c.format == Format("bsr", (2, 2)) and "dense is not a candidate" in c.reason
    assert choose(dense, (Format("coo"),)).format == Format("coo")
    with pytest.raises(ValueError):
        choose(dense, ())


def test_choice_and_candidates_shape():
    assert CANDIDATES == (Format("dense"), Format("csr"), Format("bsr", (4, 4)), Format("bsr", (8, 8)))
    c = choose(sp.coo_matrix(([1.0, 2.0], ([0, 1], [1, 2])), shape=(3, 3)))
    assert isinstance(c, Choice) and c.format == Format("csr") and c.reason.endswith(": csr")
