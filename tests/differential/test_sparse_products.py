"""SpMV, SpMM and conversions compiled from .cn programs, every format on every target,
checked against scipy.sparse (float32 inputs, relative error <= 1e-5)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import ccomp

TARGETS = ("llvm", "opencl", "glsl")
FORMATS = ("csr", "csc", "coo", "bsr(4x4)", "bsr(3x2)")
DENSITIES = (0.5, 0.1, 0.01, 0.001)

SPMV = "fn spmv(A: tensor<?x?xf32, {fmt}>, v: tensor<?xf32>) -> tensor<?xf32> {{\n    return A @ v\n}}\n"
SPMM = "fn spmm(A: tensor<?x?xf32, {fmt}>, B: tensor<?x?xf32>) -> tensor<?x?xf32> {{\n    return A @ B\n}}\n"
CONVERT = ("fn convert(A: tensor<?x?xf32, csr>) -> (s: tensor<?x?xf32, {fmt}>, d: tensor<?x?xf32>, n: i32) {{\n"
           "    let s = to(A, {fmt})\n    return s, to_dense(s), nnz(s)\n}}\n")

_programs: dict[tuple[str, str, str], ccomp.Program] = {}


def program(template: str, fmt: str, target: str) -> ccomp.Program:
    key = (template, fmt, target)
    if key not in _programs:
        _programs[key] = ccomp.compile(template.format(fmt=fmt), target=target, cache=False)
    return _programs[key]


def close(got: np.ndarray, want: np.ndarray) -> None:
    want = np.asarray(want, dtype=np.float64)
    scale = max(float(np.abs(want).max(initial=0.0)), 1e-30)
    assert got.shape == want.shape
    assert float(np.abs(got - want).max(initial=0.0)) / scale <= 1e-5


def random_matrix(density: float, seed: int, shape=(45, 38)) -> sp.csr_matrix:
    return sp.random(*shape, density=density, format="csr", dtype=np.float32, random_state=seed)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_spmv_matches_scipy(fmt: str, target: str) -> None:
    prog = program(SPMV, fmt, target)
    rng = np.random.default_rng(1)
    for seed, density in enumerate(DENSITIES):
        a = random_matrix(density, seed)
        v = rng.standard_normal(a.shape[1]).astype(np.float32)
        close(prog(A=a, v=v), a.astype(np.float64) @ v.astype(np.float64))


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_spmm_matches_scipy(fmt: str, target: str) -> None:
    prog = program(SPMM, fmt, target)
    rng = np.random.default_rng(2)
    for seed, density in enumerate(DENSITIES):
        a = random_matrix(density, 10 + seed)
        b = rng.standard_normal((a.shape[1], 7)).astype(np.float32)
        close(prog(A=a, B=b), a.astype(np.float64) @ b.astype(np.float64))


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_the_3x3_example(fmt: str, target: str) -> None:
    dense = np.array([[1, 0, 2], [0, 3, 0], [4, 0, 5]], np.float32)
    a = sp.csr_matrix(dense)
    assert a.data.tolist() == [1, 2, 3, 4, 5] and a.indices.tolist() == [0, 2, 1, 0, 2]
    assert a.indptr.tolist() == [0, 2, 3, 5]
    y = program(SPMV, fmt, target)(A=a, v=np.array([1, 2, 3], np.float32))
    assert y.tolist() == [7.0, 6.0, 19.0]


def edge_matrices() -> dict[str, sp.spmatrix]:
    empty_rows = sp.csr_matrix(np.array([[0, 0, 0, 0], [1, 0, 0, 2], [0, 0, 0, 0]], np.float32))
    dup = sp.coo_matrix((np.array([1, 2, 3, -3], np.float32), (np.array([0, 0, 1, 2]), np.array([1, 1, 0, 2]))),
                        shape=(3, 3))
    unsorted = sp.csr_matrix((np.array([5, 1, 7], np.float32), np.array([2, 0, 1]), np.array([0, 2, 3])),
                             shape=(2, 3))
    return {
        "empty rows and columns": empty_rows,
        "all zero": sp.csr_matrix((4, 6), dtype=np.float32),
        "1x1": sp.csr_matrix(np.array([[2.5]], np.float32)),
        "coo duplicates": dup,
        "unsorted indices": unsorted,
        "5x7 (not a block multiple)": random_matrix(0.4, 3, (5, 7)),
        "9x3": random_matrix(0.6, 4, (9, 3)),
    }


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_conversions_and_edge_cases(fmt: str, target: str) -> None:
    prog = program(CONVERT, fmt, target)
    spmv = program(SPMV, fmt, target)
    for name, m in edge_matrices().items():
        want = m.toarray()
        s, d, n = prog(A=m)
        assert np.array_equal(d, want), name
        assert np.array_equal(s.toarray(), want), name
        assert n == np.count_nonzero(want), name
        v = np.arange(1, m.shape[1] + 1, dtype=np.float32)
        close(spmv(A=m, v=v), want.astype(np.float64) @ v)
