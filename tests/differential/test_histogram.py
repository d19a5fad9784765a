"""``histogram(img, bins, lo, hi)`` on every target against ``numpy.histogram`` and the
reference evaluator: odd image sizes, NaN, values outside the range, values exactly on
the bin edges NumPy computes (f32 ``linspace``) and at ``hi``, an empty range, and the
run-time errors for a range NumPy refuses."""

from __future__ import annotations

import numpy as np
import pytest
from diffutil import TARGETS, assert_matches, reference

from ccomp.diagnostics import CompileError

PAIR = """graph h(src: image<f32>, lo: f32 = 0.0, hi: f32 = 1.0) -> (img: image<f32>, counts: tensor<16xi32>) {
  let v = src * 2.0
  return v, histogram(v, 16, lo, hi)
}
"""

ALONE = """graph h(src: image<f32>, lo: f32, hi: f32) -> tensor<7xi32> {
  return histogram(src, 7, lo, hi)
}
"""


def numpy_counts(values: np.ndarray, bins: int, lo: float, hi: float) -> np.ndarray:
    """The definition: NumPy with the range as f32, NaN left out."""
    flat = values.reshape(-1)
    return np.histogram(flat[~np.isnan(flat)], bins, range=(np.float32(lo), np.float32(hi)))[0].astype(np.int32)


def edge_image(bins: int, lo: float, hi: float, shape: tuple[int, int]) -> np.ndarray:
    """Every f32 bin edge NumPy uses, its neighbours one ulp away, ``lo``/``hi``, NaN and
    values outside the range, tiled over an odd-sized image."""
    lo32, hi32 = np.float32(lo), np.float32(hi)
    edges = np.linspace(lo32, hi32, bins + 1, dtype=np.float32)
    special = np.concatenate([edges, np.nextafter(edges, np.float32(-np.inf)), np.nextafter(edges, np.float32(np.inf)),
                              np.array([np.nan, -np.inf, np.inf, lo32 - 1, hi32 + 1, -0.0], np.float32)])
    return np.resize(special, shape).astype(np.float32)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("lo,hi", [(0.0, 2.0), (-0.3, 0.7), (0.1, 1.9)])
def test_random_with_outliers(compiled, rng, target, lo, hi):
    x = rng.normal(0.5, 0.6, size=(37, 53)).astype(np.float32)
    x[rng.random(x.shape) < 0.05] = np.nan
    prog = compiled(PAIR, target)
    out = prog(x, lo, hi)
    want = reference(PAIR, "h", [x, np.float32(lo), np.float32(hi)])
    assert_matches(out.img, want[0])
    assert_matches(out.counts, want[1])
    assert_matches(out.counts, numpy_counts(x * np.float32(2.0), 16, lo, hi))
    assert out.counts.sum() < x.size  # some values fell outside or were NaN


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("lo,hi", [(0.0, 1.0), (-1.7, 3.3), (0.1, 0.3), (1e-3, 7.0)])
def test_values_on_bin_edges(compiled, target, lo, hi):
    x = edge_image(7, lo, hi, (19, 23))
    got = compiled(ALONE, target)(x, lo, hi)
    assert_matches(got, numpy_counts(x, 7, lo, hi))
    assert_matches(got, reference(ALONE, "h", [x, np.float32(lo), np.float32(hi)])[0])


@pytest.mark.parametrize("target", TARGETS)
def test_empty_range_widens_like_numpy(compiled, target):
    x = np.array([[2.0, 1.5, 2.5, 2.4999, 1.4999, np.nan, 2.0]], np.float32)
    got = compiled(ALONE, target)(x, 2.0, 2.0)
    assert_matches(got, numpy_counts(x, 7, 2.0, 2.0))
    assert got.sum() == 5  # 1.4999 is below lo - 0.5, NaN is not counted


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("lo,hi,message", [(1.0, 0.0, "needs lo <= hi"), (0.0, np.inf, "is not finite"),
                                           (np.nan, 1.0, "is not finite"),
                                           (-3e38, 3e38, "wider than f32 can hold")])
def test_bad_range_is_a_located_error(compiled, target, lo, hi, message):
    x = np.zeros((3, 5), np.float32)
    with pytest.raises(CompileError, match=message) as info:
        compiled(ALONE, target)(x, lo, hi)
    assert ":2:10:" in str(info.value)  # at histogram(...)
    with pytest.raises(Exception, match=message):
        reference(ALONE, "h", [x, np.float32(lo), np.float32(hi)])


@pytest.mark.parametrize("target", TARGETS)
def test_counts_start_at_zero_on_every_call(compiled, target, rng):
    """The counters come from the buffer pool: a second call must not add to the first."""
    prog = compiled(ALONE, target)
    x = rng.random((31, 17), dtype=np.float32)
    first, second = prog(x, 0.0, 1.0), prog(x, 0.0, 1.0)
    assert_matches(second, first)
    assert first.sum() == x.size
