"""Reduce kernels: add/min/max over float and integer yields (scalar and vector), on
images split into several chunks, 1x1 images, and empty launches."""

from __future__ import annotations

import numpy as np
import pytest
from llvm_testutil import f32, i32, run_kernel

REDUCE = """
kern.kernel @k rank 2 reduce "{kind}" {{
^bb0(%a: memref<?x?x{T}>):
  %x = kern.index 0
  %y = kern.index 1
  %v = memref.load %a[%y, %x] : memref<?x?x{T}>
  kern.yield %v : {T}
}}
"""

FOLDS = {"add": np.sum, "min": np.min, "max": np.max}


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (513, 257)])
@pytest.mark.parametrize("kind", ["add", "min", "max"])
def test_float_reduce(device, kind, shape):
    a = f32(*shape, seed=1)
    result = run_kernel(device, REDUCE.format(kind=kind, T="f32"), "k", shape[::-1], [a])
    assert isinstance(result, np.float32)
    expected = np.float32(FOLDS[kind](a.astype(np.float64)))
    np.testing.assert_allclose(result, expected, rtol=1e-6)


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (513, 257)])
@pytest.mark.parametrize("kind", ["add", "min", "max"])
def test_int_reduce(device, kind, shape):
    a = i32(*shape, lo=-(2**31), hi=2**31 - 1, seed=2)
    result = run_kernel(device, REDUCE.format(kind=kind, T="i32"), "k", shape[::-1], [a])
    assert isinstance(result, np.int32)
    expected = FOLDS[kind](a.astype(np.int64)).astype(np.int32)  # add wraps like i32 arithmetic
    assert result == expected


@pytest.mark.parametrize("kind", ["add", "min", "max"])
def test_vector_reduce(device, kind):
    a = f32(200, 300, 4, seed=3)
    result = run_kernel(device, REDUCE.format(kind=kind, T="vector<4xf32>"), "k", (300, 200), [a])
    assert isinstance(result, np.ndarray) and result.dtype == np.float32 and result.shape == (4,)
    expected = FOLDS[kind](a.astype(np.float64), axis=(0, 1)).astype(np.float32)
    np.testing.assert_allclose(result, expected, rtol=1e-6)


def test_add_accumulates_in_double(device):
    """A million ones and one 1e8: float32 accumulation would lose the ones."""
    a = np.ones((1000, 1000), np.float32)
    a[0, 0] = 1e8
    result = run_kernel(device, REDUCE.format(kind="add", T="f32"), "k", (1000, 1000), [a])
    assert result == np.float32(1e8 + 999_999)


@pytest.mark.parametrize("kind,expected", [("add", 0.0), ("min", np.inf), ("max", -np.inf)])
def test_empty_launch_gives_identity(device, kind, expected):
    a = np.zeros((0, 4), np.float32)
    assert run_kernel(device, REDUCE.format(kind=kind, T="f32"), "k", (4, 0), [a]) == expected
    ints = np.zeros((4, 0), np.int32)
    result = run_kernel(device, REDUCE.format(kind=kind, T="i32"), "k", (0, 4), [ints])
    info = np.iinfo(np.int32)
    assert result == {"add": 0, "min": info.max, "max": info.min}[kind]


def test_reduce_nan_propagates(device):
    a = f32(64, 64, seed=4)
    a[10, 10] = np.nan
    for kind in ("add", "min", "max"):
        assert np.isnan(run_kernel(device, REDUCE.format(kind=kind, T="f32"), "k", (64, 64), [a]))


COUNT_IF = """
kern.kernel @k rank 3 reduce "add" {
^bb0(%a: memref<?x?x?xf32>, %t: f32):
  %x = kern.index 0
  %y = kern.index 1
  %z = kern.index 2
  %v = memref.load %a[%z, %y, %x] : memref<?x?x?xf32>
  %above = arith.cmpf ogt, %v, %t : f32
  %r = scf.if %above -> (i32) {
    %one = arith.constant 1 : i32
    scf.yield %one : i32
  } else {
    %zero = arith.constant 0 : i32
    scf.yield %zero : i32
  }
  kern.yield %r : i32
}
"""


def test_rank3_reduce_with_if(device):
    a = f32(7, 130, 90, seed=5)
    assert run_kernel(device, COUNT_IF, "k", (90, 130, 7), [a, 0.5]) == (a > 0.5).sum()
