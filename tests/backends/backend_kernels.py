"""More shared kernels for the C-style devices: vector buffers, stencils, control flow,
rank 3, 64-bit values and reductions (see ``backend_cases`` for the harness)."""

from __future__ import annotations

from typing import Any

import numpy as np

from backend_cases import CASTS, CMPF, F32, FLOAT_ARITH, INT_ARITH, MATH, RNG, Case, Out

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
    b0 = b[..., :1]
    r = np.where(b0 > 0, sh + b0.astype(F32), sh).astype(F32)
    bi = b * np.array([1, 2, 3, 4])
    q = np.trunc(bi / -3).astype(np.int64)
    either = ((b[..., 2:3] > 3) | (b[..., 2:3] < -3)).astype(np.int64)
    return {2: r, 3: (q + 100 * either + 1000 * (bi - q * -3)).astype(np.int32)}


VEC4 = Case(
    "vec4_f32_i32",
    """kern.kernel @k rank 2 {
^bb0(%A: memref<?x?xvector<4xf32>>, %B: memref<?x?xvector<4xi32>>, %O: memref<?x?xvector<4xf32>>,
     %OI: memref<?x?xvector<4xi32>>):
  %x = kern.index 0
  %y = kern.index 1
  %a = memref.load %A[%y, %x] : memref<?x?xvector<4xf32>>
  %b = memref.load %B[%y, %x] : memref<?x?xvector<4xi32>>
  %abs = math.absf %a : vector<4xf32>
  %sh = vector.shuffle %a, %abs [0, 5, 2, 7] : vector<4xf32>, vector<4xf32>
  %b0 = vector.extract %b[0] : i32 from vector<4xi32>
  %b0f = arith.sitofp %b0 : i32 to f32
  %bf = vector.broadcast %b0f : f32 to vector<4xf32>
  %sum = arith.addf %sh, %bf : vector<4xf32>
  %zero = arith.constant 0 : i32
  %cond = arith.cmpi sgt, %b0, %zero : i32
  %r = arith.select %cond, %sum, %sh : vector<4xf32>
  memref.store %r, %O[%y, %x] : memref<?x?xvector<4xf32>>
  %c = arith.constant dense<[1, 2, 3, 4]> : vector<4xi32>
  %m3 = arith.constant dense<-3> : vector<4xi32>
  %hundred = arith.constant dense<100> : vector<4xi32>
  %thousand = arith.constant dense<1000> : vector<4xi32>
  %bi = arith.muli %b, %c : vector<4xi32>
  %dv = arith.divsi %bi, %m3 : vector<4xi32>
  %rm = arith.remsi %bi, %m3 : vector<4xi32>
  %b2 = vector.extract %b[2] : i32 from vector<4xi32>
  %three = arith.constant 3 : i32
  %mthree = arith.constant -3 : i32
  %gt = arith.cmpi sgt, %b2, %three : i32
  %lt = arith.cmpi slt, %b2, %mthree : i32
  %either = arith.ori %gt, %lt : i1
  %mask = arith.constant dense<[true, false, true, false]> : vector<4xi1>
  %bm = vector.broadcast %either : i1 to vector<4xi1>
  %both = arith.andi %mask, %bm : vector<4xi1>
  %e2 = vector.extract %both[2] : i1 from vector<4xi1>
  %e2i = arith.extui %e2 : i1 to i32
  %e2v = vector.broadcast %e2i : i32 to vector<4xi32>
  %g100 = arith.muli %e2v, %hundred : vector<4xi32>
  %r1000 = arith.muli %rm, %thousand : vector<4xi32>
  %o1 = arith.addi %dv, %g100 : vector<4xi32>
  %o = arith.addi %o1, %r1000 : vector<4xi32>
  memref.store %o, %OI[%y, %x] : memref<?x?xvector<4xi32>>
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

SCALARS_64 = Case(
    "i64_f64_index_uniforms",
    """kern.kernel @k rank 1 {
^bb0(%O: memref<?xi64>, %D: memref<?xf64>, %a: i64, %d: f64, %i: index):
  %x = kern.index 0
  %xl = arith.index_cast %x : index to i64
  %s = arith.addi %a, %xl : i64
  memref.store %s, %O[%x] : memref<?xi64>
  %xi = arith.addi %x, %i : index
  %x32 = arith.index_cast %xi : index to i32
  %xf = arith.sitofp %x32 : i32 to f64
  %r = arith.mulf %xf, %d : f64
  memref.store %r, %D[%x] : memref<?xf64>
  kern.yield
}""",
    [Out((10,)), Out((10,)), -(2**40) - 7, 0.1, 3], (10,),
    lambda args: {0: -(2**40) - 7 + np.arange(10), 1: (np.arange(10) + 3) * 0.1},
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
    reduce_ir("add", "vector<2xf32>"), [_v2r], (53, 37),
    lambda a: a[0].reshape(-1, 2).sum(axis=0, dtype=np.float64).astype(F32), rtol=1e-6,
)

POINTWISE = [FLOAT_ARITH, CMPF, INT_ARITH, CASTS, MATH, VEC23, VEC4, STENCIL, STENCIL_1X1, SCF, SCF_FLAG, RANK3,
             INDEX_BUFFERS, SCALARS_64]
ALL = POINTWISE + REDUCE + [REDUCE_VEC2]
