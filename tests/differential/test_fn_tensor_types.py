"""``fn`` tensors of f64, i32 and i64 (dense) and sparse f64 matrices (csr, csc, coo,
bsr, auto) on every target, against NumPy/scipy.sparse and the reference.

Each program is run on llvm, opencl and glsl (llvmpipe has GL_ARB_gpu_shader_fp64 and
_int64) and checked two ways: against a NumPy computation written independently with
the element dtypes (the values are chosen so that an f32 computation would differ:
``1 + 1e-12``, ``3000000000``), and against the reference evaluator on the same IR.
Tensor arithmetic promotes as scalar arithmetic does (docs/language.md); integers wrap
and divide as "Numeric semantics" says (``a / 0`` is 0, ``MIN / -1`` is MIN)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest


sys.path.insert(0, str(Path(__file__).parent))
from looputil import TARGETS, program, reference  # noqa: E402

DENSE_F64 = """fn dense64(v: tensor<?xf64>, w: tensor<?xf32>, A: tensor<?x?xf64>, B: tensor<?x?xf64>, k: f64, n: i32)
    -> (y: tensor<?xf64>, p: tensor<?xf64>, C: tensor<?x?xf64>, s: f64, m: f64, lo: f64, hi: f64,
        z: tensor<?xf64>, f: tensor<?x?xf64>, back: tensor<?xf32>) {
    let r = repeat n (s = v) { yield s * 0.5 + 1e-12 }
    return A @ v + 1e-12, v + w * k, A @ B, sum(v), mean(A), min(v), max(A), r, fill(n, 2, k),
           f32(v * 3.0)
}"""


def _numpy_dense(v, w, A, B, k, n):
    r = v.copy()
    for _ in range(n):
        r = r * 0.5 + 1e-12
    return [A @ v + 1e-12, v + w.astype(np.float64) * k, A @ B, v.sum(), A.mean(), v.min(), A.max(), r,
            np.full((n, 2), k), (v * 3.0).astype(np.float32)]


def _check(got, want, rtol):
    for g, w in zip(got, want, strict=True):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, w.dtype, g.shape, w.shape)
        if g.dtype.kind == "f":
            np.testing.assert_allclose(g, w, rtol=rtol, atol=0)
        else:
            np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("target", TARGETS)
def test_dense_f64_tensors_compute_in_double(target):
    rng = np.random.default_rng(16)
    v = rng.standard_normal(5) + 1.0
    w = rng.standard_normal(5).astype(np.float32)
    A, B = rng.standard_normal((3, 5)), rng.standard_normal((5, 2))
    args = [v, w, A, B, 0.1, 3]
    got = program(DENSE_F64, target)(*args)
    _check(got, _numpy_dense(*args), 1e-13)
    _check(got, reference(DENSE_F64, "dense64", args), 1e-13)
    assert got[7][0] != np.float32(got[7][0])  # the 1e-12 steps survive: not an f32 computation


INTS = """fn ints(a: tensor<?xi32>, b: tensor<?xi32>, c: tensor<?xi64>, M: tensor<?x?xi32>, n: i32)
    -> (q: tensor<?xi32>, r: tensor<?xi32>, w: tensor<?xi32>, x: tensor<?xi64>, s: i32, m: i32, lo: i64, hi: i64,
        p: tensor<?xi32>, f: tensor<?xf64>, g: tensor<?xi64>, z: tensor<?xi64>, h: tensor<?xi32>) {
    let k = repeat n (s = c) { yield s * 3 + 1 }
    return a / b, a % b, a * 65536 + b, c * 3000000000 + a, sum(a), mean(a), min(c), max(c), M @ a, f64(a) / 4.0,
           i64(a) + c, k, i32(c)
}"""


def _c_div(a, b, dtype):
    """C's truncating / and % with the language's totals: x / 0 and x % 0 are 0, MIN / -1 is MIN."""
    a, b = a.astype(np.int64), b.astype(np.int64)
    safe = np.where(b == 0, 1, b)
    q = np.where(b == 0, 0, np.trunc(a / safe).astype(np.int64))
    q = np.where((a == np.iinfo(dtype).min) & (b == -1), a, q)
    r = np.where(b == 0, 0, a - np.trunc(a / safe).astype(np.int64) * safe)
    return q.astype(dtype), r.astype(dtype)


def _numpy_ints(a, b, c, M, n):
    q, r = _c_div(a, b, np.int32)
    k = c.copy()
    with np.errstate(over="ignore"):
        for _ in range(n):
            k = k * np.int64(3) + np.int64(1)
        total = np.sum(a.astype(np.int64)).astype(np.int32)  # the low 32 bits
        mean = int(np.trunc(int(np.sum(a.astype(np.int64))) / len(a)))
        return [q, r, a * np.int32(65536) + b, c * np.int64(3000000000) + a.astype(np.int64), total,
                np.int32(mean), c.min(), c.max(), (M.astype(np.int64) @ a.astype(np.int64)).astype(np.int32),
                a.astype(np.float64) / 4.0, a.astype(np.int64) + c, k, c.astype(np.int32)]


@pytest.mark.parametrize("target", TARGETS)
def test_integer_tensors_wrap_and_divide_as_specified(target):
    a = np.array([7, -7, -2**31, 5, 2**31 - 1, 100000], np.int32)
    b = np.array([2, 2, -1, 0, 65536, -3], np.int32)
    c = np.array([2**40, -3, 2**62, -2**63, 1, 77], np.int64)
    M = np.arange(18, dtype=np.int32).reshape(3, 6) * 1000003
    args = [a, b, c, M, 4]
    got = program(INTS, target)(*args)
    _check(got, _numpy_ints(*args), 0)
    _check(got, reference(INTS, "ints", args), 0)


def test_glsl_without_int64_refuses_an_i64_tensor_where_it_is_declared(tmp_path: Path) -> None:
    """Mesa switches the extension off for real in a fresh process (as in
    tests/runtime/test_wide_capabilities.py): the error is located at the parameter."""
    prog = tmp_path / "wide.cn"
    prog.write_text("fn f(v: tensor<?xi64>) -> i64 {\n    return sum(v * 3)\n}\n")
    np.save(tmp_path / "v.npy", np.arange(4, dtype=np.int64))
    env = {**os.environ, "MESA_EXTENSION_OVERRIDE": "-GL_ARB_gpu_shader_int64 -GL_AMD_gpu_shader_int64"}
    run = subprocess.run([str(Path(sys.executable).parent / "ccomp"), "run", str(prog), "-t", "glsl", "--no-cache",
                          "--input", f"v={tmp_path / 'v.npy'}"], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert (f"{prog}:1:6: error: the glsl target has no 64-bit integers (i64) on this driver "
            f"(GL_ARB_gpu_shader_int64 missing); use -t llvm or -t opencl") in run.stderr, run.stderr


SPARSE_F64 = """fn sp(A: tensor<?x?xf64, FMT>, v: tensor<?xf64>, B: tensor<?x?xf64>)
    -> (y: tensor<?xf64>, C: tensor<?x?xf64>, n: i32, s: f64, D: tensor<?x?xf64, csr>, E: tensor<?x?xf64>,
        F: tensor<?x?xf64, coo>, G: tensor<?x?xf64, bsr(2x2)>) {
    return A @ v + 1e-12, A @ B, nnz(A), sum(A), to(A * 2.0, csr), to_dense(A) - 1e-13, A, A
}"""


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "bsr(2x2)", "auto"])
def test_sparse_f64_matrices_against_scipy(target, fmt):
    """Values that differ from their f32 rounding (``+ 1e-9``) must come back exactly
    as scipy.sparse computes them in float64, in every storage format."""
    from scipy import sparse as scipy_sparse

    rng = np.random.default_rng(5)
    A = scipy_sparse.random(7, 5, density=0.4, format="csr", dtype=np.float64, random_state=4)
    A.data += 1e-9
    v, B = rng.standard_normal(5), rng.standard_normal((5, 3))
    src = SPARSE_F64.replace("FMT", fmt)
    got = program(src, target)(A, v, B)
    want = [A @ v + 1e-12, A @ B, np.int32(A.nnz), np.float64(A.sum()), (A * 2.0).toarray(), A.toarray() - 1e-13,
            A.toarray(), A.toarray()]  # a 7x5 bsr(2x2) result comes back as csr (scipy cannot hold it)
    dense = [g.toarray() if hasattr(g, "toarray") else g for g in got]
    assert all(hasattr(got[k], "toarray") for k in (4, 6, 7))  # sparse results come back as scipy matrices
    _check(dense, want, 1e-13)
    _check(dense, [w.toarray() if hasattr(w, "toarray") else w for w in reference(src, "sp", [A, v, B])], 1e-13)
