"""The reference evaluator's math and vector ops against independent computations.

Like ``test_pointwise_ops``, each op runs per element and as a uniform (the ``both``
fixture). Exactly rounded results are checked against ``fractions.Fraction`` or
float64 rounded once; transcendental functions against float64 within a few ulp.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest

from ccomp.dialects.context import parse_module
from ccomp.reference import evaluate

F32 = np.float32
RunOp = Callable[..., np.ndarray]  # the `both` fixture (conftest.py)
V4 = "vector<4xf32>"


def round_f32(q: Fraction) -> np.float32:
    """Round an exact rational to the nearest float32, ties to even."""
    guess = F32(float(q))
    candidates = [np.nextafter(guess, F32(-np.inf)), guess, np.nextafter(guess, F32(np.inf))]
    return min(candidates, key=lambda c: (abs(Fraction(float(c)) - q), int(np.array(c).view(np.int32)) & 1))


def test_fma_rounds_once(both: RunOp) -> None:
    # a*b + c = 1 + 2^-24 + 2^-70: a float64 sum lands on the float32 midpoint 1 + 2^-24
    # and would round to 1.0; a fused fma rounds the exact value up to 1 + 2^-23.
    crafted = (F32(-(2.0**-24) * (1 + 2.0**-23)), F32(1 - 2.0**-23), F32(1 + 2.0**-23))
    rng = np.random.default_rng(3)
    a, b, c = (rng.standard_normal(300) * 2.0 ** rng.integers(-20, 20, 300)).astype(F32).reshape(3, -1)
    a, b, c = (np.concatenate([[x], y]) for x, y in zip(crafted, (a, b, c)))
    got = both("math.fma %a, %b, %c : f32", ["f32"] * 3, "f32", a, b, c)
    expected = [round_f32(Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z))) for x, y, z in zip(a, b, c)]
    np.testing.assert_array_equal(got, expected)
    assert got[0] == np.nextafter(F32(1), F32(2))
    lanes = both(f"vector.fma %a, %b, %c : {V4}", [V4] * 3, V4, *(np.tile(v[:1], (1, 4)) for v in (a, b, c)))
    assert (lanes == got[0]).all()


def test_round_half_away_from_zero_and_even(both: RunOp) -> None:
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999997, -3.7, 8388609.0], F32)
    rounded = both("math.round %a : f32", ["f32"], "f32", x)
    np.testing.assert_array_equal(rounded, [-3, -2, -1, 1, 2, 3, 0, -4, 8388609])
    to_even = both("math.roundeven %a : f32", ["f32"], "f32", x)
    np.testing.assert_array_equal(to_even, [-2, -2, 0, 0, 2, 2, 0, -4, 8388609])
    np.testing.assert_array_equal(both("math.floor %a : f32", ["f32"], "f32", x), np.floor(x.astype(float)))
    np.testing.assert_array_equal(both("math.ceil %a : f32", ["f32"], "f32", x), np.ceil(x.astype(float)))
    np.testing.assert_array_equal(both("math.trunc %a : f32", ["f32"], "f32", x), np.trunc(x.astype(float)))


POSITIVE = np.array([0.25, 0.5, 1.0, 2.0, 3.3, 10.0, 123.456], F32)
SIGNED = np.array([-3.0, -1.1, -0.3, 0.0, 0.3, 1.1, 3.0], F32)


@pytest.mark.parametrize(("name", "ref", "x"), [
    ("sin", np.sin, SIGNED), ("cos", np.cos, SIGNED), ("tan", np.tan, SIGNED), ("exp", np.exp, SIGNED),
    ("exp2", np.exp2, SIGNED), ("log", np.log, POSITIVE), ("log2", np.log2, POSITIVE),
    ("log10", np.log10, POSITIVE), ("tanh", np.tanh, SIGNED), ("atan", np.arctan, SIGNED),
    ("rsqrt", lambda v: 1 / np.sqrt(v), POSITIVE), ("absf", np.abs, SIGNED), ("cbrt", np.cbrt, SIGNED),
])
def test_unary_math_in_float32(both: RunOp, name: str, ref: Callable, x: np.ndarray) -> None:
    got = both(f"math.{name} %a : f32", ["f32"], "f32", x)
    assert got.dtype == F32
    np.testing.assert_allclose(got, ref(x.astype(np.float64)), rtol=3e-7, atol=1e-7)


def test_sqrt_is_correctly_rounded(both: RunOp) -> None:
    x = np.random.default_rng(5).uniform(0, 1e6, 100).astype(F32)
    got = both("math.sqrt %a : f32", ["f32"], "f32", x)
    np.testing.assert_array_equal(got, np.sqrt(x.astype(np.float64)).astype(F32))


def test_binary_math(both: RunOp) -> None:
    y = np.array([1.0, 1.0, -1.0, 0.0], F32)
    x = np.array([1.0, -1.0, -1.0, -1.0], F32)
    got = both("math.atan2 %a, %b : f32", ["f32", "f32"], "f32", y, x)  # atan2(y, x)
    np.testing.assert_allclose(got, [np.pi / 4, 3 * np.pi / 4, -3 * np.pi / 4, np.pi], rtol=1e-7)
    base, power = np.array([2.0, 9.0, 0.5], F32), np.array([10.0, 0.5, -2.0], F32)
    np.testing.assert_array_equal(both("math.powf %a, %b : f32", ["f32", "f32"], "f32", base, power), [1024, 3, 4])
    ints = np.array([-5, 5, -(2**31)], np.int32)
    np.testing.assert_array_equal(both("math.absi %a : i32", ["i32"], "i32", ints), [5, 5, -(2**31)])


def test_min_max_nan_and_signed_zero(both: RunOp) -> None:
    a = np.array([1.0, np.nan, -0.0, 0.0, 3.0], F32)
    b = np.array([2.0, 1.0, 0.0, -0.0, np.nan], F32)
    lo = both("arith.minimumf %a, %b : f32", ["f32"] * 2, "f32", a, b)
    hi = both("arith.maximumf %a, %b : f32", ["f32"] * 2, "f32", a, b)
    np.testing.assert_array_equal(lo, [1.0, np.nan, 0.0, 0.0, np.nan])
    np.testing.assert_array_equal(hi, [2.0, np.nan, 0.0, 0.0, np.nan])
    assert list(np.signbit(lo[2:4])) == [True, True] and list(np.signbit(hi[2:4])) == [False, False]
    np.testing.assert_array_equal(both("arith.minnumf %a, %b : f32", ["f32"] * 2, "f32", a, b)[:2], [1.0, 1.0])
    np.testing.assert_array_equal(both("arith.maxnumf %a, %b : f32", ["f32"] * 2, "f32", a, b)[4], 3.0)


VEC = np.array([[0.5, 1.5, 2.5, 3.5], [-1.0, -2.0, -3.0, -4.0], [9.0, 8.0, 7.0, 6.0]], F32)


def test_vector_broadcast_extract_insert(both: RunOp) -> None:
    s = np.array([1.25, -2.0, 7.0], F32)
    splat = both(f"vector.broadcast %a : f32 to {V4}", ["f32"], V4, s)
    np.testing.assert_array_equal(splat, np.repeat(s[:, None], 4, 1))
    np.testing.assert_array_equal(both(f"vector.extract %a[2] : f32 from {V4}", [V4], "f32", VEC), VEC[:, 2])
    got = both(f"vector.insert %b, %a[1] : f32 into {V4}", [V4, "f32"], V4, VEC, s)
    expected = VEC.copy()
    expected[:, 1] = s
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(("mask", "out"), [([2, 1, 0, 3], V4), ([0, 1], "vector<2xf32>"),
                                          ([0, 1, 2], "vector<3xf32>"), ([0, 5, 2, 7], V4), ([3, 3, 3, 3], V4)])
def test_vector_shuffle_swizzles(both: RunOp, mask: list[int], out: str) -> None:
    got = both(f"vector.shuffle %a, %b {mask} : {V4}, {V4}", [V4, V4], out, VEC, -VEC)
    np.testing.assert_array_equal(got, np.concatenate([VEC, -VEC], axis=1)[:, mask])


def test_vector_reduction_is_ordered(both: RunOp) -> None:
    lanes = np.array([[1e8, 1.0, -1e8, 1.0], [1.0, 2.0, 3.0, 4.0]], F32)
    got = both(f"vector.reduction <add>, %a : {V4} into f32", [V4], "f32", lanes)
    expected = []
    for row in lanes:  # left to right in float32: (((v0 + v1) + v2) + v3)
        acc = row[0]
        for v in row[1:]:
            acc = F32(acc + v)
        expected.append(acc)
    np.testing.assert_array_equal(got, expected)
    assert got[0] == 1.0  # a pairwise sum would give 0.0
    acc = np.array([10.0, -10.0], F32)
    with_acc = both(f"vector.reduction <add>, %a, %b : {V4} into f32", [V4, "f32"], "f32", lanes, acc)
    np.testing.assert_array_equal(with_acc, [F32(F32(F32(F32(10 + 1e8) + 1) - 1e8) + 1), 0.0])
    np.testing.assert_array_equal(both(f"vector.reduction <maximumf>, %a : {V4} into f32", [V4], "f32", VEC),
                                  VEC.max(axis=1))
    ints = np.array([[2**16, 2**16, 3, -1]], np.int32)
    got_i = both("vector.reduction <mul>, %a : vector<4xi32> into i32", ["vector<4xi32>"], "i32", ints)
    np.testing.assert_array_equal(got_i, [-3 * ((2**32) % 2**32)])  # 2^32 wraps to 0


def test_uniform_and_per_element_vectors_mix() -> None:
    ir = f"""
func.func @f(%src: !graph.image<{V4}>, %gain: f32) -> !graph.image<{V4}> {{
  %sz = graph.size %src : !graph.image<{V4}>
  %k = arith.constant dense<[1.0, 2.0, 3.0, 4.0]> : {V4}
  %g = vector.broadcast %gain : f32 to {V4}
  %kg = arith.mulf %k, %g : {V4}
  %m = graph.map(%src) : (!graph.image<{V4}>) -> !graph.field<{V4}> {{
  ^bb0(%v: {V4}):
    %r = arith.mulf %v, %kg : {V4}
    graph.yield %r : {V4}
  }}
  %o = graph.capture %m, %sz : !graph.field<{V4}> -> !graph.image<{V4}>
  func.return %o : !graph.image<{V4}>
}}"""
    img = VEC.reshape(3, 1, 4)
    (out,) = evaluate(parse_module(ir), "f", [img, 0.5])
    np.testing.assert_array_equal(out, img * np.array([0.5, 1.0, 1.5, 2.0], F32))
