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
from ccomp.ir import parse_module
from ccomp.runtime.device import Device

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
    device.prepare(module)
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
    ("tanh", "%s", lambda p, s: np.tanh(s), _TRANSCENDENTAL), ("atan", "%s", lambda p, s: np.arctan(s), _TRANSCENDENTAL),
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

# ---- vector buffers: vec2/vec3/vec4 f32, vec4 i32, a vec3 uniform -------------------------
_H, _W = 19, 23
_v3 = RNG.uniform(-2, 2, (_H, _W, 3)).astype(F32)
_v2 = RNG.uniform(-2, 2, (_H, _W, 2)).astype(F32)
_wv = np.array([0.5, -1.0, 2.0], F32)
VEC23 = Case(
    "vec2_vec3",
    """kern.kernel @k rank 2 {
^bb0(%V3: memref<?x?xvector<3xf32>>, %V2: memref<?x?xvector<2xf32>>, %O3: memref<?x?xvector<3xf32>>,
     %O2: memref<?x?xvector<2xf32>>, %OS: memref<?x?xf32>, %w: vector<3xf32>):
  %x = kern.index 0
  %y = kern.index 1
  %a = memref.load %V3[%y, %x] : memref<?x?xvector<3xf32>>
  %b = memref.load %V2[%y, %x] : memref<?x?xvector<2xf32>>
  %aw = arith.mulf %a, %w : vector<3xf32>
  %b0 = vector.extract %b[0] : f32 from vector<2xf32>
  %ins = vector.insert %b0, %aw [1] : f32 into vector<3xf32>
  memref.store %ins, %O3[%y, %x] : memref<?x?xvector<3xf32>>
  %sh = vector.shuffle %b, %b [1, 0] : vector<2xf32>, vector<2xf32>
  %two = arith.constant dense<2.0> : vector<2xf32>
  %s2 = arith.addf %sh, %two : vector<2xf32>
  memref.store %s2, %O2[%y, %x] : memref<?x?xvector<2xf32>>
  %sum = vector.reduction <add>, %a : vector<3xf32> into f32
  %mx = vector.reduction <maximumf>, %a : vector<3xf32> into f32
  %r = arith.subf %sum, %mx : f32
  memref.store %r, %OS[%y, %x] : memref<?x?xf32>
  kern.yield
}""",
    [_v3, _v2, Out((_H, _W, 3)), Out((_H, _W, 2)), Out((_H, _W)), _wv], (_W, _H),
    lambda args: {
        2: np.stack([args[0][..., 0] * _wv[0], args[1][..., 0], args[0][..., 2] * _wv[2]], axis=-1),
        3: args[1][..., ::-1] + F32(2),
        4: (args[0].sum(axis=-1, dtype=np.float64) - args[0].max(axis=-1)).astype(F32),
    },
)

_v4 = RNG.uniform(-2, 2, (_H, _W, 4)).astype(F32)
_i4 = RNG.integers(-20, 20, (_H, _W, 4)).astype(np.int32)


def _vec4_ref(args: list[Any]) -> dict[int, np.ndarray]:
    a, b = args[0], args[1].astype(np.int64)
    sh = np.stack([a[..., 0], np.abs(a[..., 1]), a[..., 2], np.abs(a[..., 3])], axis=-1)
    c = np.array([1, 2, 3, 4])
    bi = b * c
    dv = np.trunc(bi / -3).astype(np.int64)
    return {2: (sh + b.astype(F32)).astype(F32), 3: np.where(b > c, bi, dv).astype(np.int32)}


VEC4 = Case(
    "vec4_f32_i32",
    """kern.kernel @k rank 2 {
^bb0(%A: memref<?x?xvector<4xf32>>, %B: memref<?x?xvector<4xi32>>, %O: memref<?x?xvector<4xf32>>,
     %OI: memref<?x?xvector<4xi32>>):
  %x = kern.index 0
  %y = kern.index 1
  %a = memref.load %A[%y, %x] : memref<?x?xvector<4xf32>>
  %b = memref.load %B[%y, %x] : memref<?x?xvector<4xi32>>
  %z = arith.constant dense<0.0> : vector<4xf32>
  %pos = arith.cmpf ogt, %a, %z : vector<4xf32>
  %neg = arith.negf %a : vector<4xf32>
  %abs = arith.select %pos, %a, %neg : vector<4xi1>, vector<4xf32>
  %sh = vector.shuffle %a, %abs [0, 5, 2, 7] : vector<4xf32>, vector<4xf32>
  %bf = arith.sitofp %b : vector<4xi32> to vector<4xf32>
  %r = arith.addf %sh, %bf : vector<4xf32>
  memref.store %r, %O[%y, %x] : memref<?x?xvector<4xf32>>
  %c = arith.constant dense<[1, 2, 3, 4]> : vector<4xi32>
  %m3 = arith.constant dense<-3> : vector<4xi32>
  %bi = arith.muli %b, %c : vector<4xi32>
  %dv = arith.divsi %bi, %m3 : vector<4xi32>
  %gt = arith.cmpi sgt, %b, %c : vector<4xi32>
  %sel = arith.select %gt, %bi, %dv : vector<4xi1>, vector<4xi32>
  memref.store %sel, %OI[%y, %x] : memref<?x?xvector<4xi32>>
  kern.yield
}""",
    [_v4, _i4, Out((_H, _W, 4)), Out((_H, _W, 4))], (_W, _H), _vec4_ref,
)

# ---- a clamped 5-point stencil (neighbour reads at the borders) --------------------------
STENCIL_IR = """kern.kernel @k rank 2 {
^bb0(%src: memref<?x?xf32>, %out: memref<?x?xf32>, %gain: f32):
  %x = kern.index 0
  %y = kern.index 1
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %h = memref.dim %src, %c0 : memref<?x?xf32>
  %w = kern.extent 0
  %wm = arith.subi %w, %c1 : index
  %hm = arith.subi %h, %c1 : index
  %xl0 = arith.subi %x, %c1 : index
  %xl = arith.maxsi %xl0, %c0 : index
  %xr0 = arith.addi %x, %c1 : index
  %xr = arith.minsi %xr0, %wm : index
  %yu0 = arith.subi %y, %c1 : index
  %yu = arith.maxsi %yu0, %c0 : index
  %yd0 = arith.addi %y, %c1 : index
  %yd = arith.minsi %yd0, %hm : index
  %vc = memref.load %src[%y, %x] : memref<?x?xf32>
  %vl = memref.load %src[%y, %xl] : memref<?x?xf32>
  %vr = memref.load %src[%y, %xr] : memref<?x?xf32>
  %vu = memref.load %src[%yu, %x] : memref<?x?xf32>
  %vd = memref.load %src[%yd, %x] : memref<?x?xf32>
  %s1 = arith.addf %vl, %vr : f32
  %s2 = arith.addf %vu, %vd : f32
  %s3 = arith.addf %s1, %s2 : f32
  %s4 = arith.addf %s3, %vc : f32
  %r = arith.mulf %s4, %gain : f32
  memref.store %r, %out[%y, %x] : memref<?x?xf32>
  kern.yield
}"""


def _stencil_ref(args: list[Any]) -> dict[int, np.ndarray]:
    p = np.pad(args[0], 1, mode="edge")
    s = (p[1:-1, :-2] + p[1:-1, 2:]) + (p[:-2, 1:-1] + p[2:, 1:-1])
    return {1: ((s + p[1:-1, 1:-1]) * F32(args[2])).astype(F32)}


_img = RNG.uniform(0, 1, (37, 53)).astype(F32)
STENCIL = Case("clamped_stencil", STENCIL_IR, [_img, Out((37, 53)), 0.2], (53, 37), _stencil_ref)
STENCIL_1X1 = Case("stencil_1x1", STENCIL_IR, [np.array([[0.75]], F32), Out((1, 1)), 0.2], (1, 1), _stencil_ref)

# ---- scf.for with swapped iter_args, scf.if with a result, an i32 and an i1 uniform -------
SCF_IR = """kern.kernel @k rank 2 {
^bb0(%src: memref<?x?xf32>, %out: memref<?x?xf32>, %n: i32, %flag: i1):
  %x = kern.index 0
  %y = kern.index 1
  %v = memref.load %src[%y, %x] : memref<?x?xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %ni = arith.index_cast %n : i32 to index
  %zero = arith.constant 0.0 : f32
  %acc, %cnt = scf.for %k = %c0 to %ni step %c1 iter_args(%s = %zero, %t = %v) -> (f32, f32) {
    %ki = arith.index_cast %k : index to i32
    %kf = arith.sitofp %ki : i32 to f32
    %m = arith.mulf %t, %kf : f32
    %s2 = arith.addf %s, %m : f32
    scf.yield %t, %s2 : f32, f32
  }
  %xi = arith.index_cast %x : index to i32
  %two = arith.constant 2 : i32
  %rem = arith.remsi %xi, %two : i32
  %zi = arith.constant 0 : i32
  %even = arith.cmpi eq, %rem, %zi : i32
  %r = scf.if %even -> (f32) {
    scf.yield %acc : f32
  } else {
    %na = arith.negf %acc : f32
    scf.yield %na : f32
  }
  %pick = arith.select %flag, %r, %cnt : f32
  %o = arith.addf %pick, %r : f32
  memref.store %o, %out[%y, %x] : memref<?x?xf32>
  kern.yield
}"""


def _scf_ref(args: list[Any]) -> dict[int, np.ndarray]:
    v, n, flag = args[0], args[2], args[3]
    s, t = np.zeros_like(v), v.copy()
    for k in range(n):
        s, t = t, (s + t * F32(k)).astype(F32)
    even = (np.arange(v.shape[1]) % 2 == 0)[None, :]
    r = np.where(even, s, -s)
    return {1: ((r if flag else t) + r).astype(F32)}


SCF = Case("scf_for_if", SCF_IR, [_img, Out((37, 53)), 5, False], (53, 37), _scf_ref)
SCF_FLAG = Case("scf_for_if_flag", SCF_IR, [_img, Out((37, 53)), 4, True], (53, 37), _scf_ref)

# ---- rank 3 and index/i64 buffers ---------------------------------------------------------
_vol = RNG.uniform(-1, 1, (5, 6, 7)).astype(F32)
RANK3 = Case(
    "rank3",
    """kern.kernel @k rank 3 {
^bb0(%src: memref<?x?x?xf32>, %out: memref<?x?x?xf32>):
  %x = kern.index 0
  %y = kern.index 1
  %z = kern.index 2
  %w = kern.extent 0
  %h = kern.extent 1
  %v = memref.load %src[%z, %y, %x] : memref<?x?x?xf32>
  %zh = arith.muli %z, %h : index
  %zy = arith.addi %zh, %y : index
  %zyw = arith.muli %zy, %w : index
  %lin = arith.addi %zyw, %x : index
  %li = arith.index_cast %lin : index to i32
  %lf = arith.sitofp %li : i32 to f32
  %r = arith.addf %v, %lf : f32
  memref.store %r, %out[%z, %y, %x] : memref<?x?x?xf32>
  kern.yield
}""",
    [_vol, Out((5, 6, 7))], (7, 6, 5),
    lambda args: {1: (args[0] + np.arange(5 * 6 * 7, dtype=F32).reshape(5, 6, 7)).astype(F32)},
)

INDEX_BUFFERS = Case(
    "index_i64_buffers",
    """kern.kernel @k rank 1 {
^bb0(%I: memref<?xindex>, %L: memref<?xi64>, %O: memref<?xindex>, %OL: memref<?xi64>):
  %x = kern.index 0
  %i = memref.load %I[%x] : memref<?xindex>
  %l = memref.load %L[%x] : memref<?xi64>
  %s = arith.addi %i, %x : index
  memref.store %s, %O[%x] : memref<?xindex>
  %big = arith.constant 4294967296 : i64
  %xl = arith.index_cast %x : index to i64
  %t = arith.addi %l, %big : i64
  %u = arith.addi %t, %xl : i64
  memref.store %u, %OL[%x] : memref<?xi64>
  kern.yield
}""",
    [np.arange(-50, 50, dtype=np.int64) * 3, np.arange(100, dtype=np.int64) * -7, Out((100,)), Out((100,))], (100,),
    lambda args: {2: args[0] + np.arange(100), 3: args[1] + 2**32 + np.arange(100)},
)


# ---- reductions over an image that is not a multiple of the workgroup --------------------
def reduce_ir(kind: str, t: str = "f32", rank: int = 2) -> str:
    idx = ["%y, %x", "%z, %y, %x"][rank - 2] if rank > 1 else "%x"
    memref_t = f"memref<{'?x' * rank}{t}>"
    names = ["x", "y", "z"][:rank]
    return f"""kern.kernel @k rank {rank} reduce "{kind}" {{
^bb0(%src: {memref_t}):
{chr(10).join(f"  %{n} = kern.index {d}" for d, n in enumerate(names))}
  %v = memref.load %src[{idx}] : {memref_t}
  kern.yield %v : {t}
}}"""


_pos = RNG.uniform(1, 2, (37, 53)).astype(F32)  # min/max identities must not leak in:
_negs = RNG.uniform(-2, -1, (37, 53)).astype(F32)  # all values are far from 0
_ints = RNG.integers(-10**6, 10**6, (37, 53)).astype(np.int32)
REDUCE = [
    Case("reduce_add", reduce_ir("add"), [_pos], (53, 37), lambda a: F32(a[0].sum(dtype=np.float64)), rtol=1e-6),
    Case("reduce_min", reduce_ir("min"), [_pos], (53, 37), lambda a: a[0].min(), atol=0),
    Case("reduce_max", reduce_ir("max"), [_negs], (53, 37), lambda a: a[0].max(), atol=0),
    Case("reduce_add_i32", reduce_ir("add", "i32"), [_ints], (53, 37), lambda a: np.int32(a[0].sum()), atol=0),
    Case("reduce_min_i32", reduce_ir("min", "i32"), [_ints], (53, 37), lambda a: a[0].min(), atol=0),
    Case("reduce_add_rank1", reduce_ir("add", rank=1), [_pos.ravel()], (37 * 53,),
         lambda a: F32(a[0].sum(dtype=np.float64)), rtol=1e-6),
    Case("reduce_max_rank3", reduce_ir("max", rank=3), [_vol], (7, 6, 5), lambda a: a[0].max(), atol=0),
    Case("reduce_add_1x1", reduce_ir("add"), [np.array([[2.5]], F32)], (1, 1), lambda a: F32(2.5), atol=0),
    Case("reduce_min_empty", reduce_ir("min"), [np.zeros((0, 0), F32)], (0, 0), lambda a: F32(np.inf), atol=0),
]

_v2r = RNG.uniform(0, 1, (37, 53, 2)).astype(F32)
REDUCE_VEC2 = Case(
    "reduce_add_vec2",
    reduce_ir("add", "vector<2xf32>"), [_v2r], (53, 37), lambda a: a[0].reshape(-1, 2).sum(axis=0, dtype=np.float64).astype(F32),
    rtol=1e-6,
)

POINTWISE = [FLOAT_ARITH, CMPF, INT_ARITH, CASTS, MATH, VEC23, VEC4, STENCIL, STENCIL_1X1, SCF, SCF_FLAG, RANK3,
             INDEX_BUFFERS]
ALL = POINTWISE + REDUCE + [REDUCE_VEC2]
