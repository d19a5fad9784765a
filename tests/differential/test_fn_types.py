"""``fn`` programs with f64, i64 and i32 scalars, on every target, against NumPy.

Scalars of every width are parameters, results, repeat-zone states and the values a
tensor reduction is widened into; literals beside a 64-bit value take its type, as in
graphs. Tensors of f64/i32/i64 are tests/differential/test_fn_tensor_types.py; here,
what the rules refuse: a promoted tensor is never narrowed implicitly, '@' takes one
element type, sparse tensors hold floats."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import ccomp
from ccomp import CompileError

sys.path.insert(0, str(Path(__file__).parent))
from looputil import TARGETS, program  # noqa: E402

SCALARS = """fn wide(a: f64, b: i64, c: i32) -> (s: f64, t: i64, u: f32, w: i64, q: f64, r: i32) {
    return a * 0.1 + f64(b) - sqrt(abs(a)) * max(a, 0.25), b * 3000000000 - i64(c), f32(a) / 3.0,
           b * b, exp(a / 8.0) + f64(c) / 7.0, c * c - 5
}"""

ZONE = """fn zone(k: f64, n: i32, m: i64) -> (s: f64, c: i64) {
    let z = repeat n (s = k, c = m) { yield s * 1.5 + 0.1, c * 3 + 1 }
    return z.s, z.c
}"""

REDUCE = """fn widen(v: tensor<?xf32>, A: tensor<?x?xf32, csr>, k: f64, n: i64) -> (total: f64, avg: f64, scaled: tensor<?xf32>) {
    return f64(sum(A @ v)) * k, f64(mean(v)) + f64(n), v * f32(k) + f32(n)
}"""


def numpy_wide(a: float, b: int, c: int) -> list:
    a64, b64, c32 = np.float64(a), np.int64(b), np.int32(c)
    with np.errstate(over="ignore"):
        return [a64 * np.float64(0.1) + np.float64(b64) - np.sqrt(np.abs(a64)) * max(a64, np.float64(0.25)),
                b64 * np.int64(3000000000) - np.int64(c32), np.float32(a64) / np.float32(3.0),
                b64 * b64, np.exp(a64 / np.float64(8.0)) + np.float64(c32) / np.float64(7.0),
                c32 * c32 - np.int32(5)]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("a,b,c", [(2.5, 2**40 + 3, 7), (-1e300, -(2**62), -46341), (0.1, 3037000500, 2**31 - 1)])
def test_wide_scalar_arithmetic_matches_numpy(target, a, b, c):
    got = program(SCALARS, target)(a, b, c)
    want = numpy_wide(a, b, c)
    for g, w in zip(got, want):
        assert np.asarray(g).dtype == np.asarray(w).dtype, (g, w)
        assert g == w or (np.isnan(g) and np.isnan(w)), (target, g, w)  # i64 wraps as NumPy's does


@pytest.mark.parametrize("target", TARGETS)
def test_wide_repeat_zone_states(target):
    s, c = program(ZONE, target)(0.1, 5, 2**35)
    want_s, want_c = np.float64(0.1), np.int64(2**35)
    for _ in range(5):
        want_s, want_c = want_s * np.float64(1.5) + np.float64(0.1), want_c * np.int64(3) + np.int64(1)
    assert s == want_s and s.dtype == np.float64  # 0.1 and 1.5 read as doubles, not widened floats
    assert c == want_c and c.dtype == np.int64


@pytest.mark.parametrize("target", TARGETS)
def test_reductions_widened_and_explicit_conversions_into_tensors(target):
    scipy_sparse = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(3)
    A = scipy_sparse.random(9, 7, density=0.4, format="csr", dtype=np.float32, random_state=4)
    v = rng.standard_normal(7).astype(np.float32)
    total, avg, scaled = program(REDUCE, target)(v, A, 0.3, 2**33)
    assert total.dtype == np.float64 and avg.dtype == np.float64
    assert total == pytest.approx(float(np.sum(A @ v)) * 0.3, rel=1e-5)
    assert avg == pytest.approx(float(np.mean(v)) + 2.0**33, rel=1e-12)
    np.testing.assert_allclose(scaled, v * np.float32(0.3) + np.float32(2**33), rtol=1e-6)


@pytest.mark.parametrize("src,where,message", [
    ("fn f(v: tensor<?xf32>, k: f64) -> tensor<?xf32> {\n    return v * k\n}\n", "2:14",
     "expected tensor<?xf32>, got tensor<?xf64>; tensors are not converted implicitly: convert it with f32(...)"),
    ("fn f(A: tensor<?x?xf64>, v: tensor<?xf32>) -> tensor<?xf64> {\n    return A @ v\n}\n", "2:14",
     "'@' takes tensors of one element type"),
    ("fn f(v: tensor<?xf64>) -> f32 {\n    return sum(v)\n}\n", "2:12", "expected f32, got f64"),
    ("fn f(A: tensor<?x?xi32, csr>) -> i32 {\n    return nnz(A)\n}\n", "1:16", "sparse tensors hold f32"),
    ("fn f(v: tensor<?xbool>) -> i32 {\n    return 1\n}\n", "1:16", "tensors hold f32, f64, i32, i64, not bool"),
    ("fn f(n: i64) -> tensor<?xf32> {\n    return fill(n, 1.0)\n}\n", "2:17", "fill() sizes must be i32, got i64"),
])
def test_what_tensors_cannot_hold_is_a_located_error(src, where, message):
    with pytest.raises(CompileError) as info:
        ccomp.compile(src, cache=False)
    text = str(info.value)
    assert f"<string>:{where}: error:" in text and message in text, text
