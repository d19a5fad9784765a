"""Every arith op the LLVM backend supports, on scalars and on vectors, against NumPy.

Each case is a rank-1 kernel over buffers of ``n`` elements; ``n`` is not a multiple
of any widening factor, so vector kernels run both the wide loop and the remainder.
"""

from __future__ import annotations

import numpy as np
import pytest
from llvm_testutil import f32, i32, run_kernel

N = 37

BINARY = """
kern.kernel @k rank 1 {{
^bb0(%a: memref<?x{T}>, %b: memref<?x{T}>, %out: memref<?x{R}>):
  %x = kern.index 0
  %va = memref.load %a[%x] : memref<?x{T}>
  %vb = memref.load %b[%x] : memref<?x{T}>
  %r = {op} %va, %vb : {T}
  memref.store %r, %out[%x] : memref<?x{R}>
  kern.yield
}}
"""

UNARY = """
kern.kernel @k rank 1 {{
^bb0(%a: memref<?x{T}>, %out: memref<?x{R}>):
  %x = kern.index 0
  %va = memref.load %a[%x] : memref<?x{T}>
  %r = {op} %va{suffix}
  memref.store %r, %out[%x] : memref<?x{R}>
  kern.yield
}}
"""


def _u(a: np.ndarray) -> np.ndarray:
    return a.view(np.uint32)


def _trunc_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (np.sign(a) * np.sign(b) * (np.abs(a) // np.abs(b))).astype(np.int32)


INT_BINARY = {
    "addi": lambda a, b: a + b,
    "subi": lambda a, b: a - b,
    "muli": lambda a, b: a * b,
    "divsi": _trunc_div,
    "remsi": lambda a, b: np.fmod(a, b),
    "divui": lambda a, b: (_u(a) // _u(b)).view(np.int32),
    "remui": lambda a, b: (_u(a) % _u(b)).view(np.int32),
    "floordivsi": lambda a, b: a // b,
    "ceildivsi": lambda a, b: -((-a) // b),
    "ceildivui": lambda a, b: ((_u(a).astype(np.uint64) + _u(b) - 1) // _u(b)).astype(np.uint32).view(np.int32),
    "minsi": np.minimum,
    "maxsi": np.maximum,
    "minui": lambda a, b: np.minimum(_u(a), _u(b)).view(np.int32),
    "maxui": lambda a, b: np.maximum(_u(a), _u(b)).view(np.int32),
    "andi": np.bitwise_and,
    "ori": np.bitwise_or,
    "xori": np.bitwise_xor,
}
SHIFTS = {
    "shli": lambda a, s: np.left_shift(a, s),
    "shrsi": lambda a, s: np.right_shift(a, s),
    "shrui": lambda a, s: np.right_shift(_u(a), _u(s)).view(np.int32),
}
FLOAT_BINARY = {
    "addf": np.add,
    "subf": np.subtract,
    "mulf": np.multiply,
    "divf": np.divide,
    "minimumf": np.minimum,
    "maximumf": np.maximum,
    "minnumf": np.fmin,
    "maxnumf": np.fmax,
}


def _shape(lanes: int) -> tuple[int, ...]:
    return (N, lanes) if lanes > 1 else (N,)


def _type(scalar: str, lanes: int) -> str:
    return f"vector<{lanes}x{scalar}>" if lanes > 1 else scalar


@pytest.mark.parametrize("lanes", [1, 4])
@pytest.mark.parametrize("name", sorted(INT_BINARY))
def test_int_binary(device, name, lanes):
    a = i32(*_shape(lanes), seed=1)
    b = i32(*_shape(lanes), seed=2)
    b[b == 0] = 7
    b[..., 0] = -b[..., 0]  # negative divisors for the signed roundings
    out = np.zeros_like(a)
    t = _type("i32", lanes)
    run_kernel(device, BINARY.format(T=t, R=t, op=f"arith.{name}"), "k", (N,), [a, b, out])
    np.testing.assert_array_equal(out, INT_BINARY[name](a, b).astype(np.int32))


@pytest.mark.parametrize("lanes", [1, 4])
@pytest.mark.parametrize("name", sorted(SHIFTS))
def test_shifts(device, name, lanes):
    a = i32(*_shape(lanes), lo=-(2**31), hi=2**31 - 1, seed=3)
    s = i32(*_shape(lanes), lo=0, hi=32, seed=4)
    out = np.zeros_like(a)
    t = _type("i32", lanes)
    run_kernel(device, BINARY.format(T=t, R=t, op=f"arith.{name}"), "k", (N,), [a, s, out])
    np.testing.assert_array_equal(out, SHIFTS[name](a, s).astype(np.int32))


@pytest.mark.parametrize("lanes", [1, 2, 4])
@pytest.mark.parametrize("name", sorted(FLOAT_BINARY))
def test_float_binary(device, name, lanes):
    a, b = f32(*_shape(lanes), seed=5), f32(*_shape(lanes), seed=6)
    if name in ("minimumf", "maximumf", "minnumf", "maxnumf"):
        a.flat[::5] = np.nan  # NaN propagates through minimumf, not through minnumf
    out = np.zeros_like(a)
    t = _type("f32", lanes)
    run_kernel(device, BINARY.format(T=t, R=t, op=f"arith.{name}"), "k", (N,), [a, b, out])
    np.testing.assert_array_equal(out, FLOAT_BINARY[name](a, b))


@pytest.mark.parametrize("lanes", [1, 4])
def test_negf(device, lanes):
    a = f32(*_shape(lanes))
    out = np.zeros_like(a)
    t = _type("f32", lanes)
    run_kernel(device, UNARY.format(T=t, R=t, op="arith.negf", suffix=f" : {t}"), "k", (N,), [a, out])
    np.testing.assert_array_equal(out, -a)


CMPF = ["false", "oeq", "ogt", "oge", "olt", "ole", "one", "ord",
        "ueq", "ugt", "uge", "ult", "ule", "une", "uno", "true"]


def _cmpf_ref(pred: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    unordered = np.isnan(a) | np.isnan(b)
    if pred in ("false", "true"):
        return np.full(a.shape, pred == "true")
    if pred in ("ord", "uno"):
        return ~unordered if pred == "ord" else unordered
    rel = {"eq": a == b, "gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b, "ne": a != b}[pred[1:]]
    with np.errstate(invalid="ignore"):
        return (rel & ~unordered) if pred[0] == "o" else (rel | unordered)


def _cmp_inputs() -> tuple[np.ndarray, np.ndarray]:
    a = np.round(f32(N, 4, seed=7))
    b = np.round(f32(N, 4, seed=8))
    a.flat[::7], b.flat[3::11] = np.nan, np.nan
    return a, b


@pytest.mark.parametrize("pred", CMPF)
def test_cmpf_scalar(device, pred):
    a, b = (v[:, 0].copy() for v in _cmp_inputs())
    out = np.zeros(N, np.bool_)
    run_kernel(device, BINARY.format(T="f32", R="i1", op=f"arith.cmpf {pred},"), "k", (N,), [a, b, out])
    np.testing.assert_array_equal(out, _cmpf_ref(pred, a, b))


CMP_SELECT = """
kern.kernel @k rank 1 {{
^bb0(%a: memref<?xvector<4x{E}>>, %b: memref<?xvector<4x{E}>>, %out: memref<?xvector<4xf32>>):
  %x = kern.index 0
  %va = memref.load %a[%x] : memref<?xvector<4x{E}>>
  %vb = memref.load %b[%x] : memref<?xvector<4x{E}>>
  %c = arith.{cmp} {pred}, %va, %vb : vector<4x{E}>
  %one = arith.constant dense<1.0> : vector<4xf32>
  %zero = arith.constant dense<0.0> : vector<4xf32>
  %r = arith.select %c, %one, %zero : vector<4xf32>
  memref.store %r, %out[%x] : memref<?xvector<4xf32>>
  kern.yield
}}
"""


@pytest.mark.parametrize("pred", CMPF)
def test_cmpf_vector(device, pred):
    a, b = _cmp_inputs()
    out = np.zeros((N, 4), np.float32)
    run_kernel(device, CMP_SELECT.format(E="f32", cmp="cmpf", pred=pred), "k", (N,), [a, b, out])
    np.testing.assert_array_equal(out, _cmpf_ref(pred, a, b).astype(np.float32))


CMPI = {
    "eq": np.equal, "ne": np.not_equal, "slt": np.less, "sle": np.less_equal,
    "sgt": np.greater, "sge": np.greater_equal,
    "ult": lambda a, b: _u(a) < _u(b), "ule": lambda a, b: _u(a) <= _u(b),
    "ugt": lambda a, b: _u(a) > _u(b), "uge": lambda a, b: _u(a) >= _u(b),
}


@pytest.mark.parametrize("pred", sorted(CMPI))
def test_cmpi(device, pred):
    a, b = i32(N, 4, lo=-3, hi=3, seed=9), i32(N, 4, lo=-3, hi=3, seed=10)
    out = np.zeros(N, np.bool_)
    run_kernel(device, BINARY.format(T="i32", R="i1", op=f"arith.cmpi {pred},"), "k", (N,),
               [a[:, 0].copy(), b[:, 0].copy(), out])
    np.testing.assert_array_equal(out, CMPI[pred](a[:, 0], b[:, 0]))
    vout = np.zeros((N, 4), np.float32)
    run_kernel(device, CMP_SELECT.format(E="i32", cmp="cmpi", pred=pred), "k", (N,), [a, b, vout])
    np.testing.assert_array_equal(vout, CMPI[pred](a, b).astype(np.float32))


SELECT = """
kern.kernel @k rank 1 {
^bb0(%c: memref<?xi1>, %a: memref<?xvector<4xf32>>, %b: memref<?xvector<4xf32>>,
     %sa: memref<?xi32>, %out: memref<?xvector<4xf32>>, %sout: memref<?xi32>):
  %x = kern.index 0
  %vc = memref.load %c[%x] : memref<?xi1>
  %va = memref.load %a[%x] : memref<?xvector<4xf32>>
  %vb = memref.load %b[%x] : memref<?xvector<4xf32>>
  %r = arith.select %vc, %va, %vb : vector<4xf32>
  memref.store %r, %out[%x] : memref<?xvector<4xf32>>
  %si = memref.load %sa[%x] : memref<?xi32>
  %k = arith.constant -5 : i32
  %s = arith.select %vc, %si, %k : i32
  memref.store %s, %sout[%x] : memref<?xi32>
  kern.yield
}
"""


def test_select_scalar_condition(device):
    c = np.random.default_rng(11).random(N) < 0.5
    a, b, sa = f32(N, 4, seed=12), f32(N, 4, seed=13), i32(N, seed=14)
    out, sout = np.zeros((N, 4), np.float32), np.zeros(N, np.int32)
    run_kernel(device, SELECT, "k", (N,), [c, a, b, sa, out, sout])
    np.testing.assert_array_equal(out, np.where(c[:, None], a, b))
    np.testing.assert_array_equal(sout, np.where(c, sa, -5))


CASTS = [
    ("sitofp", "i32", "f32", lambda a: a.astype(np.float32)),
    ("uitofp", "i32", "f32", lambda a: _u(a).astype(np.float32)),
    ("fptosi", "f32", "i32", lambda a: a.astype(np.int32)),
    ("fptoui", "f32", "i32", lambda a: np.abs(a).astype(np.uint32).view(np.int32)),
    ("extf", "f32", "f64", lambda a: a.astype(np.float64)),
    ("truncf", "f64", "f32", lambda a: a.astype(np.float32)),
    ("extsi", "i16", "i32", lambda a: a.astype(np.int32)),
    ("extui", "i16", "i32", lambda a: a.view(np.uint16).astype(np.int32)),
    ("trunci", "i64", "i32", lambda a: a.astype(np.int32)),
    ("index_cast", "i32", "index", lambda a: a.astype(np.int64)),
    ("index_cast", "index", "i32", lambda a: a.astype(np.int32)),
    ("bitcast", "f32", "i32", lambda a: a.view(np.int32)),
    ("bitcast", "i32", "f32", lambda a: a.view(np.float32)),
]
DTYPES = {"i16": np.int16, "i32": np.int32, "i64": np.int64, "index": np.int64, "f32": np.float32, "f64": np.float64}


@pytest.mark.parametrize("name,src,dst,ref", CASTS, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASTS])
def test_casts(device, name, src, dst, ref):
    rng = np.random.default_rng(15)
    if src.startswith("f"):
        a = (rng.uniform(-1e4, 1e4, N)).astype(DTYPES[src])
        if name == "fptoui":
            a = np.abs(a)
    else:
        a = rng.integers(-(2**15), 2**15, N).astype(DTYPES[src])
        if src == "i64":
            a = a * 1_000_003_001  # wraps when truncated
    out = np.zeros(N, DTYPES[dst])
    text = UNARY.format(T=src, R=dst, op=f"arith.{name}", suffix=f" : {src} to {dst}")
    run_kernel(device, text, "k", (N,), [a, out])
    np.testing.assert_array_equal(out, ref(a))


@pytest.mark.parametrize("name,src,dst", [("extf", "f32", "f64"), ("truncf", "f64", "f32"), ("bitcast", "f32", "i32")])
def test_vector_casts(device, name, src, dst):
    a = f32(N, 4).astype(DTYPES[src])
    out = np.zeros((N, 4), DTYPES[dst])
    t, r = f"vector<4x{src}>", f"vector<4x{dst}>"
    run_kernel(device, UNARY.format(T=t, R=r, op=f"arith.{name}", suffix=f" : {t} to {r}"), "k", (N,), [a, out])
    expected = a.view(np.int32) if name == "bitcast" else a.astype(DTYPES[dst])
    np.testing.assert_array_equal(out, expected)


CONSTANTS = """
kern.kernel @k rank 1 {
^bb0(%out: memref<?xvector<4xf32>>, %iout: memref<?xvector<4xi32>>, %s: memref<?xi64>, %b: memref<?xi1>):
  %x = kern.index 0
  %splat = arith.constant dense<1.5> : vector<4xf32>
  %full = arith.constant dense<[1.0, -2.0, 3.25, 0.0]> : vector<4xf32>
  %sum = arith.addf %splat, %full : vector<4xf32>
  memref.store %sum, %out[%x] : memref<?xvector<4xf32>>
  %iv = arith.constant dense<[7, -8, 9, 2147483647]> : vector<4xi32>
  memref.store %iv, %iout[%x] : memref<?xvector<4xi32>>
  %big = arith.constant -9000000000 : i64
  memref.store %big, %s[%x] : memref<?xi64>
  %t = arith.constant true
  memref.store %t, %b[%x] : memref<?xi1>
  kern.yield
}
"""


def test_constants(device):
    out, iout = np.zeros((N, 4), np.float32), np.zeros((N, 4), np.int32)
    s, b = np.zeros(N, np.int64), np.zeros(N, np.bool_)
    run_kernel(device, CONSTANTS, "k", (N,), [out, iout, s, b])
    np.testing.assert_array_equal(out, np.tile([2.5, -0.5, 4.75, 1.5], (N, 1)).astype(np.float32))
    np.testing.assert_array_equal(iout, np.tile([7, -8, 9, 2147483647], (N, 1)))
    assert (s == -9000000000).all() and b.all()
