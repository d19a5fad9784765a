"""Every math op the LLVM backend supports, on f32 scalars, vector<4xf32> and
vector<2xf32> (and f64 for a few), against NumPy in float64 rounded to the type."""

from __future__ import annotations

import math

import numpy as np
import pytest
from llvm_testutil import f32, i32, run_kernel

N = 37

UNARY = """
kern.kernel @k rank 1 {{
^bb0(%a: memref<?x{T}>, %out: memref<?x{T}>):
  %x = kern.index 0
  %va = memref.load %a[%x] : memref<?x{T}>
  %r = math.{op} %va : {T}
  memref.store %r, %out[%x] : memref<?x{T}>
  kern.yield
}}
"""

BINARY = """
kern.kernel @k rank 1 {{
^bb0(%a: memref<?x{T}>, %b: memref<?x{T}>, %out: memref<?x{T}>):
  %x = kern.index 0
  %va = memref.load %a[%x] : memref<?x{T}>
  %vb = memref.load %b[%x] : memref<?x{T}>
  %r = math.{op} %va, %vb : {T}
  memref.store %r, %out[%x] : memref<?x{T}>
  kern.yield
}}
"""


def _round_half_away(a: np.ndarray) -> np.ndarray:
    return np.copysign(np.floor(np.abs(a) + 0.5), a)


# op -> (reference in float64, input range)
FLOAT_UNARY = {
    "sqrt": (np.sqrt, (0.0, 9.0)),
    "rsqrt": (lambda a: 1.0 / np.sqrt(a), (0.1, 9.0)),
    "absf": (np.abs, (-3.0, 3.0)),
    "sin": (np.sin, (-6.0, 6.0)),
    "cos": (np.cos, (-6.0, 6.0)),
    "tan": (np.tan, (-1.2, 1.2)),
    "asin": (np.arcsin, (-0.99, 0.99)),
    "acos": (np.arccos, (-0.99, 0.99)),
    "atan": (np.arctan, (-5.0, 5.0)),
    "sinh": (np.sinh, (-3.0, 3.0)),
    "cosh": (np.cosh, (-3.0, 3.0)),
    "tanh": (np.tanh, (-3.0, 3.0)),
    "asinh": (np.arcsinh, (-3.0, 3.0)),
    "acosh": (np.arccosh, (1.0, 5.0)),
    "atanh": (np.arctanh, (-0.9, 0.9)),
    "exp": (np.exp, (-5.0, 5.0)),
    "exp2": (np.exp2, (-5.0, 5.0)),
    "expm1": (np.expm1, (-1.0, 1.0)),
    "log": (np.log, (0.01, 10.0)),
    "log2": (np.log2, (0.01, 10.0)),
    "log10": (np.log10, (0.01, 10.0)),
    "log1p": (np.log1p, (-0.5, 3.0)),
    "erf": (np.vectorize(math.erf), (-2.0, 2.0)),
    "cbrt": (np.cbrt, (-8.0, 8.0)),
    "floor": (np.floor, (-4.0, 4.0)),
    "ceil": (np.ceil, (-4.0, 4.0)),
    "trunc": (np.trunc, (-4.0, 4.0)),
    "round": (_round_half_away, (-4.0, 4.0)),
    "roundeven": (np.round, (-4.0, 4.0)),
}
SHAPES = {"f32": (), "vector<4xf32>": (4,), "vector<2xf32>": (2,)}


ROUNDING = {"floor", "ceil", "trunc", "round", "roundeven"}


def _inputs(op: str, lo: float, hi: float, shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    a = np.random.default_rng(1).uniform(lo, hi, (N, *shape)).astype(dtype)
    if op in ROUNDING:  # exact halves tell round-half-away from round-half-even
        a.flat[:4] = np.array([-2.5, -0.5, 0.5, 2.5], dtype)
    return a


@pytest.mark.parametrize("t", sorted(SHAPES))
@pytest.mark.parametrize("op", sorted(FLOAT_UNARY))
def test_float_unary(device, op, t):
    ref, (lo, hi) = FLOAT_UNARY[op]
    a = _inputs(op, lo, hi, SHAPES[t])
    out = np.zeros_like(a)
    run_kernel(device, UNARY.format(T=t, op=op), "k", (N,), [a, out])
    expected = ref(a.astype(np.float64)).astype(np.float32)
    np.testing.assert_allclose(out, expected, rtol=4e-6, atol=1e-6)


@pytest.mark.parametrize("op", ["sqrt", "sin", "exp", "tanh", "atan", "floor"])
def test_float_unary_f64(device, op):
    ref, (lo, hi) = FLOAT_UNARY[op]
    a = _inputs(op, lo, hi, (4,), np.float64)
    out = np.zeros_like(a)
    run_kernel(device, UNARY.format(T="vector<4xf64>", op=op), "k", (N,), [a, out])
    np.testing.assert_allclose(out, ref(a), rtol=1e-14, atol=1e-15)


FLOAT_BINARY = {
    "powf": (np.power, (0.1, 3.0), (-2.0, 2.0)),
    "atan2": (np.arctan2, (-3.0, 3.0), (-3.0, 3.0)),
    "copysign": (np.copysign, (-3.0, 3.0), (-3.0, 3.0)),
}


@pytest.mark.parametrize("t", sorted(SHAPES))
@pytest.mark.parametrize("op", sorted(FLOAT_BINARY))
def test_float_binary(device, op, t):
    ref, ra, rb = FLOAT_BINARY[op]
    a = np.random.default_rng(2).uniform(*ra, (N, *SHAPES[t])).astype(np.float32)
    b = np.random.default_rng(3).uniform(*rb, (N, *SHAPES[t])).astype(np.float32)
    out = np.zeros_like(a)
    run_kernel(device, BINARY.format(T=t, op=op), "k", (N,), [a, b, out])
    np.testing.assert_allclose(out, ref(a.astype(np.float64), b).astype(np.float32), rtol=4e-6, atol=1e-6)


FMA = """
kern.kernel @k rank 1 {{
^bb0(%a: memref<?x{T}>, %b: memref<?x{T}>, %c: memref<?x{T}>, %out: memref<?x{T}>, %vout: memref<?x{T}>):
  %x = kern.index 0
  %va = memref.load %a[%x] : memref<?x{T}>
  %vb = memref.load %b[%x] : memref<?x{T}>
  %vc = memref.load %c[%x] : memref<?x{T}>
  %r = math.fma %va, %vb, %vc : {T}
  memref.store %r, %out[%x] : memref<?x{T}>
  {vector_fma}
  kern.yield
}}
"""


@pytest.mark.parametrize("t", sorted(SHAPES))
def test_fma(device, t):
    a, b, c = (f32(N, *SHAPES[t], seed=s) for s in (4, 5, 6))
    out, vout = np.zeros_like(a), np.zeros_like(a)
    vector_fma = (f"%v = vector.fma %va, %vb, %vc : {t}\n  memref.store %v, %vout[%x] : memref<?x{t}>"
                  if t != "f32" else "")
    run_kernel(device, FMA.format(T=t, vector_fma=vector_fma), "k", (N,), [a, b, c, out, vout])
    expected = (a.astype(np.float64) * b + c).astype(np.float32)  # fused: one rounding
    np.testing.assert_array_equal(out, expected)
    if vector_fma:
        np.testing.assert_array_equal(vout, expected)


INT_UNARY = {
    "absi": np.abs,
    "ctpop": lambda a: np.array([bin(v).count("1") for v in a.view(np.uint32).ravel()]).reshape(a.shape),
    "ctlz": lambda a: np.array([32 - int(v).bit_length() for v in a.view(np.uint32).ravel()]).reshape(a.shape),
    "cttz": lambda a: np.array([(int(v) & -int(v)).bit_length() - 1 if v else 32
                                for v in a.view(np.uint32).ravel()]).reshape(a.shape),
}


@pytest.mark.parametrize("t", ["i32", "vector<4xi32>"])
@pytest.mark.parametrize("op", sorted(INT_UNARY))
def test_int_unary(device, op, t):
    shape = (4,) if t != "i32" else ()
    a = i32(N, *shape, lo=-(2**31), hi=2**31 - 1, seed=7)
    a.flat[0] = 0
    out = np.zeros_like(a)
    run_kernel(device, UNARY.format(T=t, op=op), "k", (N,), [a, out])
    np.testing.assert_array_equal(out, INT_UNARY[op](a).astype(np.int32))


FPOWI = """
kern.kernel @k rank 1 {
^bb0(%a: memref<?xvector<4xf32>>, %e: memref<?xvector<4xi32>>, %out: memref<?xvector<4xf32>>):
  %x = kern.index 0
  %va = memref.load %a[%x] : memref<?xvector<4xf32>>
  %ve = memref.load %e[%x] : memref<?xvector<4xi32>>
  %r = math.fpowi %va, %ve : vector<4xf32>, vector<4xi32>
  memref.store %r, %out[%x] : memref<?xvector<4xf32>>
  kern.yield
}
"""


def test_fpowi(device):
    a = f32(N, 4, lo=0.5, hi=2.0, seed=8)
    e = i32(N, 4, lo=-3, hi=4, seed=9)
    out = np.zeros_like(a)
    run_kernel(device, FPOWI, "k", (N,), [a, e, out])
    np.testing.assert_allclose(out, np.power(a.astype(np.float64), e).astype(np.float32), rtol=1e-6)
