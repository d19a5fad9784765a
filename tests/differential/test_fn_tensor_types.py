"""``fn`` tensors of f64, i32 and i64 on every target, against NumPy and the reference.

Each program is run on llvm, opencl and glsl (llvmpipe has GL_ARB_gpu_shader_fp64 and
_int64) and checked two ways: against a NumPy computation written independently with
the element dtypes (the values are chosen so that an f32 computation would differ:
``1 + 1e-12``, ``3000000000``), and against the reference evaluator on the same IR.
Tensor arithmetic promotes as scalar arithmetic does (docs/language.md); integers wrap
and divide as "Numeric semantics" says (``a / 0`` is 0, ``MIN / -1`` is MIN)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import ccomp
from ccomp import CompileError

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
