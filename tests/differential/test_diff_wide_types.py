"""f64 and i64 on every target against the NumPy reference: arithmetic with literals
read at 64 bits, promotion, conversions, division edge cases, wrap-around and
reductions. Inputs are chosen so that 32-bit arithmetic would give other answers
(values beyond 2**31, differences below f32's precision)."""

from __future__ import annotations

import numpy as np
import pytest

from diffutil import TARGETS, assert_matches, reference

I64_MIN, I64_MAX = np.iinfo(np.int64).min, np.iinfo(np.int64).max

FLOAT_CASES = {
    "arith": "a * 0.1 + k - a / (k + 3.0)",
    "literal_is_double": "a + 0.1 - 0.1 * 3.0",
    "promote_f32": "a + f32(x) * 0.5 + f64(1.5)",
    "promote_i64": "a + f64(n) * 1e-12 + f64(i64(y) * 3000000000)",
    "tiny_difference": "(a + 1e-12) - a",
    "minmax": "clamp(a, -0.5, 1.25) + max(a, k) - min(a, 0.3)",
    "sqrt_floor": "sqrt(abs(a)) + floor(a * 4.0) + fract(a)",
    "select": "select(a > 0.5, a, 1.0 - a)",
    "neighbour": "a[x + 1, y] - a[x - 1, y]",
    "mod": "a % 0.7",
}

INT_CASES = {
    "arith": "n * 3 + m - n / 7 + n % 5",
    "big_literal": "n + 3000000000 * i64(x)",
    "promote_i32": "n + i64(x) - i64(y) * 2",
    "wrap": "n * 4611686018427387904 + m",
    "from_f64": "i64(a * 1e10)",
    "div_edges": "n / i64(x - 2) + n % i64(y - 1)",
    "minmax": "max(n, m) - min(n, 0) + abs(n)",
    "neighbour": "n[x + 1, y] - n[x, y - 1]",
}

REDUCTIONS = {"sum_f": ("sum(a * 1e-3)", "f64"), "mean_f": ("mean(a)", "f64"), "min_f": ("min(a)", "f64"),
              "max_f": ("max(a)", "f64"), "sum_i": ("sum(n)", "i64"), "mean_i": ("mean(n)", "i64"),
              "min_i": ("min(n)", "i64"), "max_i": ("max(n * 2)", "i64")}


def _program(expr: str, out: str) -> str:
    return (f"graph t(a: image<f64>, n: image<i64>, k: f64 = 0.1, m: i64 = 5000000000) -> {out} {{\n"
            f"    return {expr}\n}}\n")


def _inputs(rng, h=19, w=23):
    a = rng.uniform(-1.0, 2.0, (h, w)) + 1e-9 * rng.standard_normal((h, w))
    n = rng.integers(-2**40, 2**40, (h, w), dtype=np.int64)
    n[0, :4] = [I64_MIN, I64_MAX, -1, 0]
    return a, n


def _run(src, target, compiled, rng):
    a, n = _inputs(rng)
    got = compiled(src, target)(a=a, n=n)
    want = reference(src, "t", [a, n, np.float64(0.1), np.int64(5000000000)])[0]
    return got, want


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", sorted(FLOAT_CASES))
def test_f64(name, target, compiled, rng):
    got, want = _run(_program(FLOAT_CASES[name], "image<f64>"), target, compiled, rng)
    assert_matches(got, want, atol=1e-13)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", sorted(INT_CASES))
def test_i64(name, target, compiled, rng):
    got, want = _run(_program(INT_CASES[name], "image<i64>"), target, compiled, rng)
    assert_matches(got, want)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction(name, target, compiled, rng):
    expr, out = REDUCTIONS[name]
    got, want = _run(_program(expr, out), target, compiled, rng)
    assert isinstance(got, np.float64 if out == "f64" else np.int64)
    if out == "f64":
        np.testing.assert_allclose(got, want, rtol=1e-13)
    else:
        assert got == want


@pytest.mark.parametrize("target", TARGETS)
def test_division_edges(target, compiled):
    """i64 MIN / -1 wraps to MIN, x / 0 and x % 0 are 0, as for i32."""
    src = ("graph t(n: image<i64>, d: image<i64>) -> (q: image<i64>, r: image<i64>) {\n"
           "    return n / d, n % d\n}\n")
    n = np.array([[I64_MIN, I64_MIN, 7, -7, 5, I64_MAX]], dtype=np.int64)
    d = np.array([[-1, 0, 0, 2, -1, -1]], dtype=np.int64)
    q, r = compiled(src, target)(n=n, d=d)
    assert q.tolist() == [[I64_MIN, 0, 0, -3, -5, -I64_MAX]]
    assert r.tolist() == [[0, 0, 0, -1, 0, 0]]
    want = reference(src, "t", [n, d])
    assert_matches(q, want[0])
    assert_matches(r, want[1])


@pytest.mark.parametrize("target", TARGETS)
def test_scalars_and_numpy(target, compiled, rng):
    """Scalar f64/i64 parameters and results, uniform arithmetic on the host, results
    compared against NumPy computed at 64 bits."""
    src = ("graph t(a: image<f64>, k: f64, m: i64) -> (s: f64, big: i64, out: image<f64>) {\n"
           "    let c = k * 0.1 + f64(m / 3)\n"
           "    return c, m * 1000 + 7, a * c\n}\n")
    a, _ = _inputs(rng)
    s, big, out = compiled(src, target)(a=a, k=0.3, m=3 * 10**12)
    c = 0.3 * 0.1 + float(10**12)
    assert isinstance(s, np.float64) and s == c
    assert isinstance(big, np.int64) and big == 3 * 10**15 + 7
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, a * c, rtol=1e-15)
