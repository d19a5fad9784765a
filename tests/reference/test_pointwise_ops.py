"""The reference evaluator's arith ops (and constants) against independent computations.

Every op runs twice: per element (a ``graph.map`` over 1xN images) and as a uniform
(at the function's top level, once per input); both must agree exactly. Expected
values come from Python integers, float64 rounded once to float32 (exact for a single
+ - * / sqrt), or ``fractions.Fraction`` — never from the evaluator's own helpers.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from ccomp.dialects.context import parse_module
from ccomp.reference import evaluate

F32 = np.float32
NAN = float("nan")
RunOp = Callable[..., np.ndarray]  # the `both` fixture (conftest.py)


FA = np.array([1.5, -2.25, 3e38, 1e-30, 0.1, 7.0, 0.0, -0.0], F32)
FB = np.array([0.3, 7.1, 3e38, 3.0, 0.2, 0.0, 0.0, 5.0], F32)


@pytest.mark.parametrize(("name", "fn"), [("addf", np.add), ("subf", np.subtract),
                                          ("mulf", np.multiply), ("divf", np.divide)])
def test_float_arith_is_float32_correctly_rounded(both: RunOp, name: str, fn: np.ufunc) -> None:
    got = both(f"arith.{name} %a, %b : f32", ["f32", "f32"], "f32", FA, FB)
    with np.errstate(all="ignore"):
        expected = fn(FA.astype(np.float64), FB.astype(np.float64)).astype(F32)
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == F32


I32 = np.array([7, -7, 7, -7, 2**31 - 1, -(2**31), 1, 0], np.int32)
J32 = np.array([2, 2, -2, -2, 1, -1, 3, 5], np.int32)


def wrap(v: int) -> int:
    return (v + 2**31) % 2**32 - 2**31


def trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


INT_CASES = {
    "addi": lambda a, b: wrap(a + b), "subi": lambda a, b: wrap(a - b), "muli": lambda a, b: wrap(a * b),
    "divsi": lambda a, b: wrap(trunc_div(a, b)), "remsi": lambda a, b: a - b * trunc_div(a, b),
    "floordivsi": lambda a, b: wrap(a // b), "ceildivsi": lambda a, b: wrap(-((-a) // b)),
    "minsi": min, "maxsi": max, "andi": lambda a, b: a & b, "ori": lambda a, b: a | b,
    "xori": lambda a, b: a ^ b,
    "divui": lambda a, b: wrap((a % 2**32) // (b % 2**32)), "remui": lambda a, b: wrap((a % 2**32) % (b % 2**32)),
    "minui": lambda a, b: wrap(min(a % 2**32, b % 2**32)), "maxui": lambda a, b: wrap(max(a % 2**32, b % 2**32)),
}


@pytest.mark.parametrize("name", sorted(INT_CASES))
def test_integer_ops_wrap_and_divide_like_c(both: RunOp, name: str) -> None:
    got = both(f"arith.{name} %a, %b : i32", ["i32", "i32"], "i32", I32, J32)
    expected = [INT_CASES[name](int(a), int(b)) for a, b in zip(I32, J32)]
    np.testing.assert_array_equal(got, np.array(expected, np.int64).astype(np.int32))


def test_division_of_negatives_spelled_out(both: RunOp) -> None:
    a, b = np.array([7, -7, 7, -7], np.int32), np.array([2, 2, -2, -2], np.int32)
    np.testing.assert_array_equal(both("arith.divsi %a, %b : i32", ["i32"] * 2, "i32", a, b), [3, -3, -3, 3])
    np.testing.assert_array_equal(both("arith.remsi %a, %b : i32", ["i32"] * 2, "i32", a, b), [1, -1, 1, -1])
    np.testing.assert_array_equal(both("arith.floordivsi %a, %b : i32", ["i32"] * 2, "i32", a, b), [3, -4, -4, 3])


CA = np.array([1.0, 2.0, 2.0, NAN, 1.0, NAN, -0.0], F32)
CB = np.array([2.0, 1.0, 2.0, 1.0, NAN, NAN, 0.0], F32)
CMPF = {
    "false": lambda a, b, u: False, "oeq": lambda a, b, u: not u and a == b, "ogt": lambda a, b, u: not u and a > b,
    "oge": lambda a, b, u: not u and a >= b, "olt": lambda a, b, u: not u and a < b,
    "ole": lambda a, b, u: not u and a <= b, "one": lambda a, b, u: not u and a != b,
    "ord": lambda a, b, u: not u, "ueq": lambda a, b, u: u or a == b, "ugt": lambda a, b, u: u or a > b,
    "uge": lambda a, b, u: u or a >= b, "ult": lambda a, b, u: u or a < b, "ule": lambda a, b, u: u or a <= b,
    "une": lambda a, b, u: u or a != b, "uno": lambda a, b, u: u, "true": lambda a, b, u: True,
}


@pytest.mark.parametrize("pred", sorted(CMPF))
def test_cmpf_predicates_with_nan(both: RunOp, pred: str) -> None:
    got = both(f"arith.cmpf {pred}, %a, %b : f32", ["f32", "f32"], "i1", CA, CB)
    expected = [CMPF[pred](float(a), float(b), math.isnan(a) or math.isnan(b)) for a, b in zip(CA, CB)]
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.bool_


CMPI = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "slt": lambda a, b: a < b,
        "sle": lambda a, b: a <= b, "sgt": lambda a, b: a > b, "sge": lambda a, b: a >= b,
        "ult": lambda a, b: a % 2**32 < b % 2**32, "ule": lambda a, b: a % 2**32 <= b % 2**32,
        "ugt": lambda a, b: a % 2**32 > b % 2**32, "uge": lambda a, b: a % 2**32 >= b % 2**32}


@pytest.mark.parametrize("pred", sorted(CMPI))
def test_cmpi_predicates_signed_and_unsigned(both: RunOp, pred: str) -> None:
    got = both(f"arith.cmpi {pred}, %a, %b : i32", ["i32", "i32"], "i1", I32, J32)
    np.testing.assert_array_equal(got, [CMPI[pred](int(a), int(b)) for a, b in zip(I32, J32)])


def test_select_scalar_condition_picks_whole_vectors(both: RunOp) -> None:
    cond = np.array([True, False])
    a = np.array([[1, 2, 3, 4], [5, 6, 7, 8]], F32)
    got = both("arith.select %a, %b, %c : vector<4xf32>", ["i1", "vector<4xf32>", "vector<4xf32>"],
               "vector<4xf32>", cond, a, -a)
    np.testing.assert_array_equal(got, [[1, 2, 3, 4], [-5, -6, -7, -8]])


@pytest.mark.parametrize(("op", "src", "dst", "values", "expected"), [
    ("arith.sitofp", "i32", "f32", np.array([-3, 16777217], np.int32), np.array([-3.0, 16777216.0], F32)),
    ("arith.uitofp", "i32", "f32", np.array([-1, 5], np.int32), np.array([4294967296.0, 5.0], F32)),
    ("arith.fptosi", "f32", "i32", np.array([-2.7, 2.7, -0.5], F32), np.array([-2, 2, 0], np.int32)),
    ("arith.fptoui", "f32", "i32", np.array([3.9, 4e9], F32), np.array([3, wrap(int(F32(4e9)))], np.int32)),
    ("arith.extf", "f32", "f64", np.array([0.1, -2.5], F32), np.array([F32(0.1), -2.5], np.float64)),
    ("arith.truncf", "f64", "f32", np.array([0.1, 1e300]), np.array([F32(0.1), np.inf], F32)),
    ("arith.extsi", "i32", "i64", np.array([-5, 7], np.int32), np.array([-5, 7], np.int64)),
    ("arith.extui", "i32", "i64", np.array([-1, 7], np.int32), np.array([2**32 - 1, 7], np.int64)),
    ("arith.extsi", "i1", "i32", np.array([True, False]), np.array([-1, 0], np.int32)),
    ("arith.extui", "i1", "i32", np.array([True, False]), np.array([1, 0], np.int32)),
    ("arith.trunci", "i64", "i32", np.array([2**32 + 5, -1], np.int64), np.array([5, -1], np.int32)),
    ("arith.trunci", "i32", "i1", np.array([3, 2], np.int32), np.array([True, False])),
    ("arith.index_cast", "i32", "index", np.array([-4, 9], np.int32), np.array([-4, 9], np.int64)),
    ("arith.bitcast", "f32", "i32", np.array([1.0, -0.0], F32), np.array([0x3F800000, -(2**31)], np.int32)),
])
def test_casts(both: RunOp, op: str, src: str, dst: str, values: np.ndarray, expected: np.ndarray) -> None:
    got = both(f"{op} %a : {src} to {dst}", [src], dst, values)
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == expected.dtype


def test_constants() -> None:
    ir = """
func.func @f() -> (vector<4xi32>, vector<4xf32>, i1, i32, f32) {
  %a = arith.constant dense<[1, -2, 3, -4]> : vector<4xi32>
  %b = arith.constant dense<0.1> : vector<4xf32>
  %c = arith.constant true
  %d = arith.constant -7 : i32
  %e = arith.constant 0.1 : f32
  func.return %a, %b, %c, %d, %e : vector<4xi32>, vector<4xf32>, i1, i32, f32
}"""
    a, b, c, d, e = evaluate(parse_module(ir), "f", [])
    np.testing.assert_array_equal(a, [1, -2, 3, -4])
    np.testing.assert_array_equal(b, np.full(4, F32(0.1)))
    assert c is np.True_ and type(d) is np.int32 and d == -7 and type(e) is F32 and e == F32(0.1)
