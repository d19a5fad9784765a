"""Whole kernels: ranks 1-3, control flow, element layouts, uniforms, image shapes that
do not divide into chunks or widening factors, 1x1 images, and in-place updates."""

from __future__ import annotations

import numpy as np
import pytest
from llvm_testutil import f32, i32, run_kernel

from ccomp.api import prepare
from ccomp.dialects.context import parse_module
from ccomp.runtime.devices.llvm import LLVMDevice

INDEX_RANKS = {
    1: """
kern.kernel @k rank 1 {
^bb0(%out: memref<?xindex>):
  %x = kern.index 0
  %w = kern.extent 0
  %c = arith.constant 1000 : index
  %v = arith.muli %w, %c : index
  %r = arith.addi %v, %x : index
  memref.store %r, %out[%x] : memref<?xindex>
  kern.yield
}""",
    2: """
kern.kernel @k rank 2 {
^bb0(%out: memref<?x?xindex>):
  %x = kern.index 0
  %y = kern.index 1
  %c = arith.constant 1000 : index
  %v = arith.muli %y, %c : index
  %r = arith.addi %v, %x : index
  memref.store %r, %out[%y, %x] : memref<?x?xindex>
  kern.yield
}""",
    3: """
kern.kernel @k rank 3 {
^bb0(%out: memref<?x?x?xindex>):
  %x = kern.index 0
  %y = kern.index 1
  %z = kern.index 2
  %c = arith.constant 1000 : index
  %zz = arith.muli %z, %c : index
  %zy = arith.addi %zz, %y : index
  %v = arith.muli %zy, %c : index
  %r = arith.addi %v, %x : index
  memref.store %r, %out[%z, %y, %x] : memref<?x?x?xindex>
  kern.yield
}""",
}


@pytest.mark.parametrize("shape", [(1,), (5,), (70001,), (1, 1), (3, 7), (333, 517), (1, 1, 1), (3, 5, 7), (5, 130, 67)])
def test_index_space(device, shape):
    rank = len(shape)
    out = np.full(shape, -1, np.int64)
    run_kernel(device, INDEX_RANKS[rank], "k", shape[::-1], [out])
    idx = np.indices(shape)
    if rank == 1:
        expected = shape[0] * 1000 + idx[0]
    elif rank == 2:
        expected = idx[0] * 1000 + idx[1]
    else:
        expected = (idx[0] * 1000 + idx[1]) * 1000 + idx[2]
    np.testing.assert_array_equal(out, expected)


LOOP_IF = """
kern.kernel @k rank 2 {
^bb0(%src: memref<?x?xvector<4xf32>>, %out: memref<?x?xvector<4xf32>>, %n: index, %iout: memref<?x?xi32>):
  %x = kern.index 0
  %y = kern.index 1
  %v = memref.load %src[%y, %x] : memref<?x?xvector<4xf32>>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %half = arith.constant dense<0.5> : vector<4xf32>
  %zi = arith.constant 0 : i32
  %r:2 = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %v, %cnt = %zi) -> (vector<4xf32>, i32) {
    %m = arith.mulf %acc, %half : vector<4xf32>
    %s = arith.addf %m, %v : vector<4xf32>
    %e = vector.extract %s[0] : f32 from vector<4xf32>
    %zero = arith.constant 0.0 : f32
    %pos = arith.cmpf ogt, %e, %zero : f32
    %cnt2 = scf.if %pos -> (i32) {
      %one = arith.constant 1 : i32
      %c = arith.addi %cnt, %one : i32
      scf.yield %c : i32
    } else {
      scf.yield %cnt : i32
    }
    scf.yield %s, %cnt2 : vector<4xf32>, i32
  }
  %big = vector.reduction <add>, %r#0 : vector<4xf32> into f32
  %lim = arith.constant 1.0 : f32
  %over = arith.cmpf ogt, %big, %lim : f32
  %res = scf.if %over -> (vector<4xf32>) {
    %neg = arith.negf %r#0 : vector<4xf32>
    scf.yield %neg : vector<4xf32>
  } else {
    scf.yield %r#0 : vector<4xf32>
  }
  memref.store %res, %out[%y, %x] : memref<?x?xvector<4xf32>>
  memref.store %r#1, %iout[%y, %x] : memref<?x?xi32>
  kern.yield
}
"""


def test_for_with_iter_args_and_if_with_results(device):
    h, w, n = 19, 23, 5
    src = f32(h, w, 4)
    out, iout = np.zeros_like(src), np.zeros((h, w), np.int32)
    run_kernel(device, LOOP_IF, "k", (w, h), [src, out, n, iout])
    acc, cnt = src.copy(), np.zeros((h, w), np.int32)
    for _ in range(n):
        acc = acc * np.float32(0.5) + src
        cnt += (acc[..., 0] > 0).astype(np.int32)
    total = np.zeros((h, w), np.float32)
    for k in range(4):
        total = total + acc[..., k]
    expected = np.where((total > 1.0)[..., None], -acc, acc)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(iout, cnt)


LAYOUTS = """
kern.kernel @k rank 2 {{
^bb0(%a: memref<?x?x{T}>, %out: memref<?x?x{T}>, %s: {T}):
  %x = kern.index 0
  %y = kern.index 1
  %v = memref.load %a[%y, %x] : memref<?x?x{T}>
  %r = {op} %v, %s : {T}
  memref.store %r, %out[%y, %x] : memref<?x?x{T}>
  kern.yield
}}
"""
LAYOUT_CASES = [
    ("f32", np.float32, (), "arith.addf"),
    ("f64", np.float64, (), "arith.mulf"),
    ("i32", np.int32, (), "arith.addi"),
    ("i8", np.int8, (), "arith.xori"),
    ("i1", np.bool_, (), "arith.xori"),
    ("vector<2xf32>", np.float32, (2,), "arith.addf"),
    ("vector<3xf32>", np.float32, (3,), "arith.addf"),  # packed: 12 bytes per element
    ("vector<4xf32>", np.float32, (4,), "arith.addf"),
    ("vector<4xf64>", np.float64, (4,), "arith.subf"),
    ("vector<4xi32>", np.int32, (4,), "arith.muli"),
    ("vector<4xi1>", np.bool_, (4,), "arith.ori"),
]
NUMPY_OPS = {"arith.addf": np.add, "arith.mulf": np.multiply, "arith.subf": np.subtract,
             "arith.addi": np.add, "arith.xori": np.bitwise_xor, "arith.muli": np.multiply,
             "arith.ori": np.bitwise_or}


@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (41, 29)])
@pytest.mark.parametrize("t,dtype,lanes,op", LAYOUT_CASES, ids=[c[0] for c in LAYOUT_CASES])
def test_element_layouts_and_uniforms(device, t, dtype, lanes, op, shape):
    rng = np.random.default_rng(1)
    a = rng.integers(-50, 50, (*shape, *lanes)).astype(dtype)
    s = rng.integers(-50, 50, lanes).astype(dtype) if lanes else dtype(rng.integers(-50, 50))
    out = np.zeros_like(a)
    run_kernel(device, LAYOUTS.format(T=t, op=op), "k", shape[::-1], [a, out, s])
    np.testing.assert_array_equal(out, NUMPY_OPS[op](a, s).astype(dtype))


DIMS = """
kern.kernel @k rank 2 {
^bb0(%a: memref<?x?xf32>, %out: memref<?x?xindex>, %which: index):
  %x = kern.index 0
  %y = kern.index 1
  %c0 = arith.constant 0 : index
  %h = memref.dim %a, %c0 : memref<?x?xf32>
  %d = memref.dim %a, %which : memref<?x?xf32>
  %ex = kern.extent 0
  %ey = kern.extent 1
  %p = arith.muli %h, %d : index
  %q = arith.muli %ex, %ey : index
  %t = arith.muli %p, %q : index
  memref.store %t, %out[%y, %x] : memref<?x?xindex>
  kern.yield
}
"""


@pytest.mark.parametrize("which", [0, 1])
def test_dims_and_extents(device, which):
    a = f32(7, 9)
    out = np.zeros((7, 9), np.int64)
    run_kernel(device, DIMS, "k", (5, 3), [a, out, which])  # a smaller launch than the buffers
    expected = 7 * a.shape[which] * 5 * 3
    assert (out[:3, :5] == expected).all() and (out[3:] == 0).all() and (out[:, 5:] == 0).all()


INPLACE = """
kern.kernel @k rank 2 {
^bb0(%a: memref<?x?xvector<4xf32>>, %b: memref<?x?xvector<4xf32>>):
  %x = kern.index 0
  %y = kern.index 1
  %v = memref.load %a[%y, %x] : memref<?x?xvector<4xf32>>
  %two = arith.constant dense<2.0> : vector<4xf32>
  %r = arith.mulf %v, %two : vector<4xf32>
  memref.store %r, %b[%y, %x] : memref<?x?xvector<4xf32>>
  kern.yield
}
"""


def test_same_buffer_bound_twice(device):
    """Binding one array as input and output takes the variant compiled without noalias."""
    a = f32(300, 301, 4)
    expected = a * 2
    run_kernel(device, INPLACE, "k", (301, 300), [a, a])
    np.testing.assert_array_equal(a, expected)


@pytest.mark.parametrize("threads", [1, 2, 3, 7])
def test_chunking_matches_serial(threads):
    """Row chunks that do not divide the image (and more threads than cores) cover it exactly once."""
    dev = LLVMDevice(threads=threads)
    a = f32(1001, 333, 4)
    out = np.zeros_like(a)
    run_kernel(dev, INPLACE, "k", (333, 1001), [a, out])
    np.testing.assert_array_equal(out, a * 2)
    dev.close()


def test_upload_download_roundtrip(device):
    module = parse_module(INPLACE)
    memref = module.body.block.first_op.body.block.args[0].type
    src = f32(5, 6, 4)
    buf = device.upload(memref, src)
    assert buf is src and not device.upload_copies  # a fitting array is the buffer
    converted = device.upload(memref, src.astype(np.float64)[:, ::-1])
    assert converted.dtype == np.float32 and converted.flags.c_contiguous
    out = device.alloc(memref, (5, 6))
    assert out.shape == (5, 6, 4) and out.dtype == np.float32
    prepare(device, module)
    assert device.launch("k", (6, 5), [buf, out]) is None
    assert device.download(out) is out and device.download_is_view
    np.testing.assert_array_equal(out, src * 2)
    assert device.launch("k", (6, 5), [converted, out]) is None
    np.testing.assert_array_equal(out, src[:, ::-1] * 2)


def test_bad_arguments_are_reported(device):
    prepare(device, parse_module(INPLACE))
    with pytest.raises(TypeError, match="C-contiguous float32"):
        device.launch("k", (2, 2), [np.zeros((2, 2, 4), np.float64), np.zeros((2, 2, 4), np.float32)])
    with pytest.raises(ValueError, match="does not fit"):
        device.launch("k", (2, 2), [np.zeros((2, 2, 3), np.float32), np.zeros((2, 2, 4), np.float32)])
    with pytest.raises(KeyError):
        device.launch("nope", (1,), [])


def test_int_uniform_and_index(device):
    text = """
kern.kernel @k rank 1 {
^bb0(%out: memref<?xi32>, %s: i32, %n: index, %flag: i1):
  %x = kern.index 0
  %xi = arith.index_cast %x : index to i32
  %ni = arith.index_cast %n : index to i32
  %a = arith.addi %xi, %s : i32
  %b = arith.muli %a, %ni : i32
  %neg = arith.subi %ni, %b : i32
  %r = arith.select %flag, %b, %neg : i32
  memref.store %r, %out[%x] : memref<?xi32>
  kern.yield
}"""
    for flag in (True, False):
        out = np.zeros(11, np.int32)
        run_kernel(device, text, "k", (11,), [out, -4, 3, flag])
        b = (np.arange(11) - 4) * 3
        np.testing.assert_array_equal(out, b if flag else 3 - b)


def test_gather_reads(device):
    """A mirrored column index is not contiguous: the wide loop reads it per column."""
    text = """
kern.kernel @k rank 2 {
^bb0(%a: memref<?x?xvector<4xf32>>, %out: memref<?x?xvector<4xf32>>):
  %x = kern.index 0
  %y = kern.index 1
  %c1 = arith.constant 1 : index
  %w = kern.extent 0
  %wm1 = arith.subi %w, %c1 : index
  %mx = arith.subi %wm1, %x : index
  %v = memref.load %a[%y, %mx] : memref<?x?xvector<4xf32>>
  memref.store %v, %out[%x, %y] : memref<?x?xvector<4xf32>>
  kern.yield
}"""
    a = f32(13, 13, 4)
    out = np.zeros_like(a)
    run_kernel(device, text, "k", (13, 13), [a, out])
    np.testing.assert_array_equal(out, a[:, ::-1].transpose(1, 0, 2))


def test_rank1_int_vector(device):
    a = i32(1000, 4)
    out = np.zeros_like(a)
    text = LAYOUTS.replace("?x?x", "?x").replace("[%y, %x]", "[%x]").replace("rank 2", "rank 1")
    text = text.replace("  %y = kern.index 1\n", "")
    run_kernel(device, text.format(T="vector<4xi32>", op="arith.addi"), "k", (1000,),
               [a, out, np.array([1, 2, 3, 4], np.int32)])
    np.testing.assert_array_equal(out, a + [1, 2, 3, 4])


def test_row_uniform_loads(device):
    """Loads whose address does not depend on x are shared by the columns of a wide step."""
    text = """
kern.kernel @k rank 2 {
^bb0(%img: memref<?x?xvector<4xf32>>, %rowgain: memref<?xvector<4xf32>>, %k: memref<?xf32>,
     %out: memref<?x?xvector<4xf32>>):
  %x = kern.index 0
  %y = kern.index 1
  %c0 = arith.constant 0 : index
  %v = memref.load %img[%y, %x] : memref<?x?xvector<4xf32>>
  %g = memref.load %rowgain[%y] : memref<?xvector<4xf32>>
  %s = memref.load %k[%c0] : memref<?xf32>
  %sv = vector.broadcast %s : f32 to vector<4xf32>
  %a = arith.mulf %v, %g : vector<4xf32>
  %r = arith.addf %a, %sv : vector<4xf32>
  memref.store %r, %out[%y, %x] : memref<?x?xvector<4xf32>>
  kern.yield
}"""
    img, rowgain, k = f32(9, 21, 4, seed=1), f32(9, 4, seed=2), np.array([0.25], np.float32)
    out = np.zeros_like(img)
    run_kernel(device, text, "k", (21, 9), [img, rowgain, k, out])
    np.testing.assert_array_equal(out, img * rowgain[:, None, :] + np.float32(0.25))


def test_if_without_else_and_nested_loop(device):
    """A store guarded by scf.if with no else region, around a nested scf.for."""
    text = """
kern.kernel @k rank 2 {
^bb0(%a: memref<?x?xf32>, %out: memref<?x?xf32>, %n: i32):
  %x = kern.index 0
  %y = kern.index 1
  %v = memref.load %a[%y, %x] : memref<?x?xf32>
  %zero = arith.constant 0.0 : f32
  %pos = arith.cmpf ogt, %v, %zero : f32
  scf.if %pos {
    %c0 = arith.constant 0 : i32
    %c1 = arith.constant 1 : i32
    %s = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> (f32) : i32 {
      %f = arith.sitofp %i : i32 to f32
      %t = arith.mulf %f, %v : f32
      %r = arith.addf %acc, %t : f32
      scf.yield %r : f32
    }
    memref.store %s, %out[%y, %x] : memref<?x?xf32>
  }
  kern.yield
}"""
    a = f32(6, 7, seed=3)
    out = np.full_like(a, -7.0)
    run_kernel(device, text, "k", (7, 6), [a, out, 4])
    total = np.zeros_like(a)
    for i in range(4):
        total = total + np.float32(i) * a
    np.testing.assert_array_equal(out, np.where(a > 0, total, np.float32(-7.0)))
