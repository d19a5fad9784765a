"""The vector ops: broadcast, extract/insert (static and dynamic positions), shuffle,
reduction (every combining kind, with and without accumulator) and bitcast."""

from __future__ import annotations

import numpy as np
import pytest
from llvm_testutil import f32, i32, run_kernel

N = 37

BROADCAST = """
kern.kernel @k rank 1 {
^bb0(%a: memref<?xf32>, %b: memref<?xvector<1xf32>>, %out: memref<?xvector<4xf32>>, %out2: memref<?xvector<2xf32>>):
  %x = kern.index 0
  %va = memref.load %a[%x] : memref<?xf32>
  %r = vector.broadcast %va : f32 to vector<4xf32>
  memref.store %r, %out[%x] : memref<?xvector<4xf32>>
  %vb = memref.load %b[%x] : memref<?xvector<1xf32>>
  %r2 = vector.broadcast %vb : vector<1xf32> to vector<2xf32>
  memref.store %r2, %out2[%x] : memref<?xvector<2xf32>>
  kern.yield
}
"""


def test_broadcast(device):
    a, b = f32(N, seed=1), f32(N, seed=2)  # vector<1xf32> buffers have no lanes axis
    out, out2 = np.zeros((N, 4), np.float32), np.zeros((N, 2), np.float32)
    run_kernel(device, BROADCAST, "k", (N,), [a, b, out, out2])
    np.testing.assert_array_equal(out, np.repeat(a[:, None], 4, axis=1))
    np.testing.assert_array_equal(out2, np.repeat(b[:, None], 2, axis=1))


EXTRACT_INSERT = """
kern.kernel @k rank 1 {
^bb0(%a: memref<?xvector<4xf32>>, %s: memref<?xf32>, %lane: index, %e: memref<?xf32>,
     %ed: memref<?xf32>, %ins: memref<?xvector<4xf32>>, %insd: memref<?xvector<4xf32>>):
  %x = kern.index 0
  %v = memref.load %a[%x] : memref<?xvector<4xf32>>
  %vs = memref.load %s[%x] : memref<?xf32>
  %e2 = vector.extract %v[2] : f32 from vector<4xf32>
  memref.store %e2, %e[%x] : memref<?xf32>
  %edyn = vector.extract %v[%lane] : f32 from vector<4xf32>
  memref.store %edyn, %ed[%x] : memref<?xf32>
  %i1 = vector.insert %vs, %v[1] : f32 into vector<4xf32>
  memref.store %i1, %ins[%x] : memref<?xvector<4xf32>>
  %idyn = vector.insert %vs, %v[%lane] : f32 into vector<4xf32>
  memref.store %idyn, %insd[%x] : memref<?xvector<4xf32>>
  kern.yield
}
"""


def test_extract_insert(device):
    a, s = f32(N, 4, seed=3), f32(N, seed=4)
    e, ed = np.zeros(N, np.float32), np.zeros(N, np.float32)
    ins, insd = np.zeros((N, 4), np.float32), np.zeros((N, 4), np.float32)
    run_kernel(device, EXTRACT_INSERT, "k", (N,), [a, s, 3, e, ed, ins, insd])
    np.testing.assert_array_equal(e, a[:, 2])
    np.testing.assert_array_equal(ed, a[:, 3])
    expect = a.copy()
    expect[:, 1] = s
    np.testing.assert_array_equal(ins, expect)
    expect = a.copy()
    expect[:, 3] = s
    np.testing.assert_array_equal(insd, expect)


SHUFFLE = """
kern.kernel @k rank 1 {
^bb0(%a: memref<?xvector<4xf32>>, %b: memref<?xvector<4xf32>>, %c: memref<?xvector<2xf32>>,
     %o1: memref<?xvector<4xf32>>, %o2: memref<?xvector<2xf32>>, %o3: memref<?xvector<3xf32>>):
  %x = kern.index 0
  %va = memref.load %a[%x] : memref<?xvector<4xf32>>
  %vb = memref.load %b[%x] : memref<?xvector<4xf32>>
  %vc = memref.load %c[%x] : memref<?xvector<2xf32>>
  %r1 = vector.shuffle %va, %vb [3, 6, 0, 5] : vector<4xf32>, vector<4xf32>
  memref.store %r1, %o1[%x] : memref<?xvector<4xf32>>
  %r2 = vector.shuffle %va, %va [1, 1] : vector<4xf32>, vector<4xf32>
  memref.store %r2, %o2[%x] : memref<?xvector<2xf32>>
  %r3 = vector.shuffle %vc, %va [5, 0, 1] : vector<2xf32>, vector<4xf32>
  memref.store %r3, %o3[%x] : memref<?xvector<3xf32>>
  kern.yield
}
"""


def test_shuffle(device):
    a, b, c = f32(N, 4, seed=5), f32(N, 4, seed=6), f32(N, 2, seed=7)
    o1, o2, o3 = np.zeros((N, 4), np.float32), np.zeros((N, 2), np.float32), np.zeros((N, 3), np.float32)
    run_kernel(device, SHUFFLE, "k", (N,), [a, b, c, o1, o2, o3])
    both = np.concatenate([a, b], axis=1)
    np.testing.assert_array_equal(o1, both[:, [3, 6, 0, 5]])
    np.testing.assert_array_equal(o2, a[:, [1, 1]])
    np.testing.assert_array_equal(o3, np.concatenate([c, a], axis=1)[:, [5, 0, 1]])


REDUCTION = """
kern.kernel @k rank 1 {{
^bb0(%a: memref<?xvector<{L}x{E}>>, %acc: memref<?x{E}>, %out: memref<?x{E}>, %outacc: memref<?x{E}>):
  %x = kern.index 0
  %v = memref.load %a[%x] : memref<?xvector<{L}x{E}>>
  %c = memref.load %acc[%x] : memref<?x{E}>
  %r = vector.reduction <{kind}>, %v : vector<{L}x{E}> into {E}
  memref.store %r, %out[%x] : memref<?x{E}>
  %ra = vector.reduction <{kind}>, %v, %c : vector<{L}x{E}> into {E}
  memref.store %ra, %outacc[%x] : memref<?x{E}>
  kern.yield
}}
"""


def _u(a):
    return a.view(np.uint32)


FLOAT_KINDS = {
    "add": lambda a: np.add.reduce(a, axis=-1), "mul": lambda a: np.multiply.reduce(a, axis=-1),
    "minimumf": lambda a: np.minimum.reduce(a, axis=-1), "maximumf": lambda a: np.maximum.reduce(a, axis=-1),
    "minnumf": lambda a: np.fmin.reduce(a, axis=-1), "maxnumf": lambda a: np.fmax.reduce(a, axis=-1),
}
INT_KINDS = {
    "add": lambda a: a.sum(axis=-1, dtype=np.int32), "mul": lambda a: a.prod(axis=-1, dtype=np.int32),
    "minsi": lambda a: a.min(axis=-1), "maxsi": lambda a: a.max(axis=-1),
    "minui": lambda a: _u(a).min(axis=-1).view(np.int32), "maxui": lambda a: _u(a).max(axis=-1).view(np.int32),
    "and": lambda a: np.bitwise_and.reduce(a, axis=-1), "or": lambda a: np.bitwise_or.reduce(a, axis=-1),
    "xor": lambda a: np.bitwise_xor.reduce(a, axis=-1),
}


def _sequential(fold, a: np.ndarray, acc: np.ndarray | None) -> np.ndarray:
    """Lane-by-lane left fold, starting from ``acc`` when given (LLVM's ordered order)."""
    total = a[:, 0] if acc is None else fold(np.stack([acc, a[:, 0]], axis=-1))
    for k in range(1, a.shape[1]):
        total = fold(np.stack([total, a[:, k]], axis=-1))
    return total


@pytest.mark.parametrize("lanes", [2, 4])
@pytest.mark.parametrize("kind", sorted(FLOAT_KINDS))
def test_reduction_float(device, kind, lanes):
    a, acc = f32(N, lanes, seed=8), f32(N, seed=9)
    if kind in ("minimumf", "maximumf", "minnumf", "maxnumf"):
        a[::6, 1] = np.nan
    out, outacc = np.zeros(N, np.float32), np.zeros(N, np.float32)
    run_kernel(device, REDUCTION.format(L=lanes, E="f32", kind=kind), "k", (N,), [a, acc, out, outacc])
    fold = FLOAT_KINDS[kind]
    np.testing.assert_array_equal(out, _sequential(fold, a, None))
    if kind in ("add", "mul"):
        np.testing.assert_array_equal(outacc, _sequential(fold, a, acc))
    else:
        np.testing.assert_array_equal(outacc, fold(np.stack([fold(a), acc], axis=-1)))


@pytest.mark.parametrize("kind", sorted(INT_KINDS))
def test_reduction_int(device, kind):
    a, acc = i32(N, 4, seed=10), i32(N, seed=11)
    out, outacc = np.zeros(N, np.int32), np.zeros(N, np.int32)
    run_kernel(device, REDUCTION.format(L=4, E="i32", kind=kind), "k", (N,), [a, acc, out, outacc])
    fold = INT_KINDS[kind]
    np.testing.assert_array_equal(out, fold(a))
    np.testing.assert_array_equal(outacc, fold(np.concatenate([a, acc[:, None]], axis=1)))


BITCAST = """
kern.kernel @k rank 1 {
^bb0(%a: memref<?xvector<4xf32>>, %out: memref<?xvector<8xi16>>):
  %x = kern.index 0
  %v = memref.load %a[%x] : memref<?xvector<4xf32>>
  %r = vector.bitcast %v : vector<4xf32> to vector<8xi16>
  memref.store %r, %out[%x] : memref<?xvector<8xi16>>
  kern.yield
}
"""


def test_vector_bitcast(device):
    a = f32(N, 4, seed=12)
    out = np.zeros((N, 8), np.int16)
    run_kernel(device, BITCAST, "k", (N,), [a, out])
    np.testing.assert_array_equal(out, a.view(np.int16))


PADDED = """
kern.kernel @k rank 1 {
^bb0(%a: memref<?xvector<4xf32>>, %ai: memref<?xvector<4xi32>>, %o3: memref<?xvector<3xf32>>,
     %os: memref<?xf32>, %o4: memref<?xvector<4xf32>>, %oq: memref<?xvector<3xi32>>):
  %x = kern.index 0
  %v = memref.load %a[%x] : memref<?xvector<4xf32>>
  %rgb = vector.shuffle %v, %v [0, 1, 2] : vector<4xf32>, vector<4xf32>
  %w = arith.constant dense<[0.25, 0.5, 0.125]> : vector<3xf32>
  %m = arith.mulf %rgb, %w : vector<3xf32>
  %neg = arith.negf %m : vector<3xf32>
  %c = arith.cmpf olt, %m, %neg : vector<3xf32>
  %sel = arith.select %c, %m, %neg : vector<3xf32>
  memref.store %sel, %o3[%x] : memref<?xvector<3xf32>>
  %s = vector.reduction <add>, %m : vector<3xf32> into f32
  memref.store %s, %os[%x] : memref<?xf32>
  %b = vector.broadcast %s : f32 to vector<4xf32>
  %e = vector.extract %rgb[1] : f32 from vector<3xf32>
  %ins = vector.insert %e, %b[3] : f32 into vector<4xf32>
  memref.store %ins, %o4[%x] : memref<?xvector<4xf32>>
  %vi = memref.load %ai[%x] : memref<?xvector<4xi32>>
  %ri = vector.shuffle %vi, %vi [0, 1, 2] : vector<4xi32>, vector<4xi32>
  %q = arith.divsi %ri, %ri : vector<3xi32>
  memref.store %q, %oq[%x] : memref<?xvector<3xi32>>
  kern.yield
}
"""


def test_prefix_shuffles_keep_padding(device):
    """``.rgb`` of a vector<4> flows through elementwise ops, a reduction, extract,
    insert and stores; lane 3 of the integer input is 0, so a division that saw the
    padding lane would trap."""
    a = f32(N, 4, seed=13)
    ai = i32(N, 4, lo=1, hi=50, seed=14)
    ai[:, 3] = 0
    o3, os_, o4 = np.zeros((N, 3), np.float32), np.zeros(N, np.float32), np.zeros((N, 4), np.float32)
    oq = np.zeros((N, 3), np.int32)
    run_kernel(device, PADDED, "k", (N,), [a, ai, o3, os_, o4, oq])
    m = a[:, :3] * np.array([0.25, 0.5, 0.125], np.float32)
    np.testing.assert_array_equal(o3, np.where(m < -m, m, -m))
    s = (m[:, 0] + m[:, 1]) + m[:, 2]
    np.testing.assert_array_equal(os_, s)
    np.testing.assert_array_equal(o4, np.stack([s, s, s, a[:, 1]], axis=1))
    np.testing.assert_array_equal(oq, np.ones((N, 3), np.int32))
