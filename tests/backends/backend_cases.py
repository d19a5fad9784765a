"""Hand-written ``kern`` kernels with NumPy references, run by every C-style device.

Shared by ``test_glsl.py`` and ``test_opencl.py`` so both targets answer the same
questions. A case is one kernel ``@k`` plus inputs; the arguments list follows the
kernel's bindings: an ``Out`` is a fresh buffer, an array bound to a memref is uploaded,
anything else is a uniform. ``expect`` gets the same list and returns the expected
outputs ({argument index: array}) or, for a reduce kernel, the expected value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from xdsl.dialects.arith import CMPF_COMPARISON_OPERATIONS
from xdsl.dialects.builtin import MemRefType

from ccomp.dialects.kern import KernelOp
from ccomp.dialects.context import parse_module
from ccomp.api import prepare
from ccomp.runtime.devices.base import Device

RNG = np.random.default_rng(7)
F32 = np.float32


@dataclass(frozen=True)
class Out:
    """A buffer the kernel writes, of NumPy shape ``shape`` (vector lanes last)."""

    shape: tuple[int, ...]


@dataclass
class Case:
    name: str
    ir: str
    args: list[Any]
    grid: tuple[int, ...]
    expect: Callable[[list[Any]], Any]
    atol: float = 1e-5
    rtol: float = 0.0
    columns: dict[int, tuple[float, float]] = field(default_factory=dict)  # column: (atol, rtol)


def run(device: Device, case: Case) -> tuple[dict[int, np.ndarray], Any]:
    """Prepare, upload, launch and download one case on ``device``."""
    module = parse_module(case.ir, case.name)
    prepare(device, module)
    kernel = next(op for op in module.walk() if isinstance(op, KernelOp))
    types = [a.type for a in kernel.body.block.args]
    handles = []
    for arg, t in zip(case.args, types):
        if isinstance(arg, Out):
            handles.append(device.alloc(t, arg.shape[: t.get_num_dims()]))
        elif isinstance(t, MemRefType):
            handles.append(device.upload(t, arg))
        else:
            handles.append(arg)
    value = device.launch(kernel.kernel_name, list(case.grid), handles)
    outs = {i: device.download(h) for i, (a, h) in enumerate(zip(case.args, handles)) if isinstance(a, Out)}
    return outs, value


def check(device: Device, case: Case) -> None:
    outs, value = run(device, case)
    expected = case.expect(case.args)
    if not isinstance(expected, dict):
        np.testing.assert_allclose(np.asarray(value, np.float64), np.asarray(expected, np.float64),
                                   rtol=case.rtol, atol=case.atol)
        assert np.asarray(value).dtype == np.asarray(expected).dtype
        return
    for i, want in expected.items():
        got = outs[i]
        assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape, got.dtype)
        if np.issubdtype(want.dtype, np.integer):
            np.testing.assert_array_equal(got, want)
        elif case.columns:  # per column: |got - want| <= atol + rtol * |want|
            for j, (atol, rtol) in case.columns.items():
                np.testing.assert_allclose(got[..., j], want[..., j], rtol=rtol, atol=atol, err_msg=f"column {j}")
        else:
            np.testing.assert_allclose(got, want, rtol=case.rtol, atol=case.atol)


def column_kernel(name: str, params: str, loads: str, results: list[tuple[str, str]], out_t: str) -> str:
    """A rank-1 kernel writing result ``j`` of point ``x`` to ``out[x, j]``."""
    stores = "\n".join(
        f"  %j{j} = arith.constant {j} : index\n  memref.store {v}, %out[%x, %j{j}] : memref<?x?x{out_t}>"
        for j, (v, _) in enumerate(results)
    )
    body = "\n".join(line for _, line in results)
    return f"""kern.kernel @{name} rank 1 {{
^bb0({params}, %out: memref<?x?x{out_t}>):
  %x = kern.index 0
{loads}
{body}
{stores}
  kern.yield
}}"""


# ---- float arithmetic and comparisons ---------------------------------------------------
_N = 301
_a = RNG.uniform(-4, 4, _N).astype(F32)
_b = RNG.uniform(0.5, 3, _N).astype(F32) * RNG.choice([-1, 1], _N).astype(F32)
_FLOAT_OPS = [
    ("addf", lambda a, b: a + b), ("subf", lambda a, b: a - b), ("mulf", lambda a, b: a * b),
    ("divf", lambda a, b: a / b), ("minimumf", np.minimum), ("maximumf", np.maximum),
]
_float_results = [(f"%r{j}", f"  %r{j} = arith.{op} %a, %b : f32") for j, (op, _) in enumerate(_FLOAT_OPS)]
_float_results += [
    ("%neg", "  %neg = arith.negf %a : f32"),
    ("%sel", "  %lt = arith.cmpf olt, %a, %b : f32\n  %sel = arith.select %lt, %a, %b : f32"),
    ("%half", "  %h = arith.constant 0.5 : f32\n  %half = arith.mulf %a, %h : f32"),
]
FLOAT_ARITH = Case(
    "float_arith",
    column_kernel("k", "%A: memref<?xf32>, %B: memref<?xf32>",
            "  %a = memref.load %A[%x] : memref<?xf32>\n  %b = memref.load %B[%x] : memref<?xf32>",
            _float_results, "f32"),
    [_a, _b, Out((_N, 9))], (_N,),
    lambda args: {2: np.stack([f(args[0], args[1]) for _, f in _FLOAT_OPS]
                              + [-args[0], np.where(args[0] < args[1], args[0], args[1]), args[0] * F32(0.5)],
                              axis=1).astype(F32)},
)

_ca = np.array([1, np.nan, 1, np.nan, 2, 1, -0.0], F32)
_cb = np.array([1, 1, np.nan, np.nan, 1, 2, 0.0], F32)


def _cmpf_ref(args: list[Any]) -> dict[int, np.ndarray]:
    a, b = args[0].astype(np.float64), args[1].astype(np.float64)
    uno = np.isnan(a) | np.isnan(b)
    ordered = {"eq": a == b, "gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b, "ne": (a < b) | (a > b)}
    cols = []
    for p in CMPF_COMPARISON_OPERATIONS:
        if p in ("false", "true"):
            cols.append(np.full(a.shape, p == "true"))
        elif p in ("ord", "uno"):
            cols.append(~uno if p == "ord" else uno)
        else:
            cols.append(ordered[p[1:]] & ~uno if p[0] == "o" else ordered[p[1:]] | uno)
    return {2: np.stack(cols, axis=1).astype(np.int32)}


CMPF = Case(
    "cmpf_all_predicates",
    column_kernel("k", "%A: memref<?xf32>, %B: memref<?xf32>",
            "  %a = memref.load %A[%x] : memref<?xf32>\n  %b = memref.load %B[%x] : memref<?xf32>",
            [(f"%e{j}", f"  %c{j} = arith.cmpf {p}, %a, %b : f32\n  %e{j} = arith.extui %c{j} : i1 to i32")
             for j, p in enumerate(CMPF_COMPARISON_OPERATIONS)], "i32"),
    [_ca, _cb, Out((7, 16))], (7,), _cmpf_ref,
)

# ---- integers and casts -----------------------------------------------------------------
_ia = np.concatenate([[7, -7, 7, -7, 0, 2**31 - 1, -2**31], RNG.integers(-1000, 1000, 200)]).astype(np.int32)
_ib = np.concatenate([[2, 2, -2, -2, 3, 1, 1], RNG.integers(1, 50, 200) * RNG.choice([-1, 1], 200)]).astype(np.int32)
_INT_OPS = ["addi", "subi", "muli", "divsi", "remsi", "minsi", "maxsi", "andi", "ori", "xori"]


def _int_ref(args: list[Any]) -> dict[int, np.ndarray]:
    a, b = args[0].astype(np.int64), args[1].astype(np.int64)
    q = np.trunc(a / b).astype(np.int64)  # C division truncates toward zero
    cols = [a + b, a - b, a * b, q, a - q * b, np.minimum(a, b), np.maximum(a, b), a & b, a | b, a ^ b,
            np.where(a < b, a, b), (a.astype(np.uint32) < b.astype(np.uint32)),
            -((a & 1) != 0).astype(np.int64), a * 3 + 1]
    return {2: np.stack([c.astype(np.int64) for c in cols], axis=1).astype(np.int32)}


INT_ARITH = Case(
    "int_arith",
    column_kernel("k", "%A: memref<?xi32>, %B: memref<?xi32>",
            "  %a = memref.load %A[%x] : memref<?xi32>\n  %b = memref.load %B[%x] : memref<?xi32>",
            [(f"%r{j}", f"  %r{j} = arith.{op} %a, %b : i32") for j, op in enumerate(_INT_OPS)] + [
                ("%sel", "  %lt = arith.cmpi slt, %a, %b : i32\n  %sel = arith.select %lt, %a, %b : i32"),
                ("%ult", "  %u = arith.cmpi ult, %a, %b : i32\n  %ult = arith.extui %u : i1 to i32"),
                ("%sx", "  %t = arith.trunci %a : i32 to i1\n  %sx = arith.extsi %t : i1 to i32"),
                ("%ic", "  %ai = arith.index_cast %a : i32 to index\n  %c3 = arith.constant 3 : index\n"
                        "  %c1 = arith.constant 1 : index\n  %m3 = arith.muli %ai, %c3 : index\n"
                        "  %p1 = arith.addi %m3, %c1 : index\n  %ic = arith.index_cast %p1 : index to i32"),
            ], "i32"),
    [_ia, _ib, Out((207, 14))], (207,), _int_ref,
)

_f = np.concatenate([[2.5, -2.5, 1.7, -1.7, 0.49999997, -0.5, 3.0], RNG.uniform(-1e4, 1e4, 100)]).astype(F32)
CASTS = Case(
    "casts",
    """kern.kernel @k rank 1 {
^bb0(%A: memref<?xf32>, %I: memref<?xi32>, %F: memref<?xf32>, %D: memref<?xf64>):
  %x = kern.index 0
  %a = memref.load %A[%x] : memref<?xf32>
  %i = arith.fptosi %a : f32 to i32
  memref.store %i, %I[%x] : memref<?xi32>
  %f = arith.sitofp %i : i32 to f32
  %d = arith.extf %a : f32 to f64
  %tiny = arith.constant 1.0e-10 : f64
  %dd = arith.addf %d, %tiny : f64
  %back = arith.truncf %dd : f64 to f32
  %s = arith.addf %f, %back : f32
  memref.store %s, %F[%x] : memref<?xf32>
  memref.store %dd, %D[%x] : memref<?xf64>
  kern.yield
}""",
    [_f, Out((107,)), Out((107,)), Out((107,))], (107,),
    lambda args: {1: np.trunc(args[0]).astype(np.int32),
                  2: np.trunc(args[0]) + (args[0].astype(np.float64) + 1e-10).astype(F32),
                  3: args[0].astype(np.float64) + 1e-10},
)

# ---- math ------------------------------------------------------------------------------
# Exact functions must match exactly. Transcendentals are held to |err| <= 3e-6 + 1e-6 |want|
# rather than 1e-5 flat: PoCL is within ~2 ulp, but llvmpipe's GLSL atan is off by up to
# 2e-6 absolute and its log near 1 by 2.4e-7 absolute (large relative to log(1) = 0).
_EXACT, _TRANSCENDENTAL = (0.0, 0.0), (3e-6, 1e-6)
_MATH = [  # (op, operands, NumPy reference on float64, tolerance)
    ("sqrt", "%p", lambda p, s: np.sqrt(p), (0.0, 1.2e-7)), ("absf", "%s", lambda p, s: np.abs(s), _EXACT),
    ("sin", "%s", lambda p, s: np.sin(s), _TRANSCENDENTAL), ("cos", "%s", lambda p, s: np.cos(s), _TRANSCENDENTAL),
    ("tan", "%p", lambda p, s: np.tan(p), _TRANSCENDENTAL), ("exp", "%s", lambda p, s: np.exp(s), _TRANSCENDENTAL),
    ("exp2", "%s", lambda p, s: np.exp2(s), _TRANSCENDENTAL), ("log", "%p", lambda p, s: np.log(p), _TRANSCENDENTAL),
    ("log2", "%p", lambda p, s: np.log2(p), _TRANSCENDENTAL),
    ("powf", "%p, %s", lambda p, s: p ** s, _TRANSCENDENTAL),
    ("floor", "%s", lambda p, s: np.floor(s), _EXACT), ("ceil", "%s", lambda p, s: np.ceil(s), _EXACT),
    ("round", "%s", lambda p, s: np.where(np.abs(s - np.trunc(s)) >= 0.5, np.trunc(s) + np.sign(s), np.trunc(s)),
     _EXACT),
    ("trunc", "%s", lambda p, s: np.trunc(s), _EXACT),
    ("fma", "%s, %p, %s", lambda p, s: s * p + s, (1e-6, 1.2e-7)),
    ("tanh", "%s", lambda p, s: np.tanh(s), _TRANSCENDENTAL),
    ("atan", "%s", lambda p, s: np.arctan(s), _TRANSCENDENTAL),
    ("rsqrt", "%p", lambda p, s: 1 / np.sqrt(p), _TRANSCENDENTAL),
]
_p = np.concatenate([[0.1, 1.0, 1.4, 2.0], RNG.uniform(0.05, 1.45, 250)]).astype(F32)
_s = np.concatenate([[2.5, -2.5, 0.5, -0.5], RNG.uniform(-3, 3, 250)]).astype(F32)
_s[4:20] = np.round(_s[4:20]) + 0.5  # exact halves, which round() takes away from zero


def _math_ref(args: list[Any]) -> dict[int, np.ndarray]:
    p, s = args[0].astype(np.float64), args[1].astype(np.float64)
    return {2: np.stack([f(p, s) for _, _, f, _ in _MATH], axis=1).astype(F32)}


MATH = Case(
    "math",
    column_kernel("k", "%P: memref<?xf32>, %S: memref<?xf32>",
            "  %p = memref.load %P[%x] : memref<?xf32>\n  %s = memref.load %S[%x] : memref<?xf32>",
            [(f"%m{j}", f"  %m{j} = math.{op} {ops} : f32") for j, (op, ops, _, _) in enumerate(_MATH)], "f32"),
    [_p, _s, Out((254, len(_MATH)))], (254,), _math_ref,
    columns={j: tol for j, (_, _, _, tol) in enumerate(_MATH)},
)
