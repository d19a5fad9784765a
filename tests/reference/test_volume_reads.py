"""The reference evaluator's 3-D reads and reductions against plain NumPy loops: the
oracle of every volume test must itself be right."""

from __future__ import annotations

import numpy as np

from ccomp.reference import images

RNG = np.random.default_rng(3)


def test_extent_grid_is_x_y_z():
    xs, ys, zs = images.extent_grid(4, 3, 2)
    assert xs.shape == (2, 3, 4) and xs.dtype == np.int32
    assert xs[1, 2, 3] == 3 and ys[1, 2, 3] == 2 and zs[1, 2, 3] == 1


def test_clamp_read_clamps_every_axis():
    vol = RNG.random((3, 4, 5), dtype=np.float32)
    x = np.array([-2, 0, 4, 9], np.int32)
    y = np.array([1, -1, 7, 3], np.int32)
    z = np.array([5, 2, -3, 1], np.int32)
    want = [vol[min(max(k, 0), 2), min(max(j, 0), 3), min(max(i, 0), 4)] for i, j, k in zip(x, y, z)]
    np.testing.assert_array_equal(images.clamp_read(vol, x, y, z), want)


def test_read_over_a_larger_extent_repeats_the_edges():
    vol = RNG.random((2, 2, 3), dtype=np.float32)
    big = images.read_over(vol, 4, 3, 3)  # width 4, height 3, depth 3
    assert big.shape == (3, 3, 4)
    np.testing.assert_array_equal(big[2, 2, 3], vol[1, 1, 2])
    assert images.read_over(vol, 3, 2, 2) is vol


def test_reductions_cover_every_slice():
    vol = RNG.random((3, 4, 5), dtype=np.float32)
    assert images.reduce("add", vol, 3) == np.float32(vol.sum(dtype=np.float64))
    assert images.reduce("mean", vol, 3) == np.float32(vol.sum(dtype=np.float64) / 60)
    assert images.reduce("max", vol, 3) == vol.max()
    v4 = RNG.random((2, 3, 4, 4), dtype=np.float32)
    np.testing.assert_array_equal(images.reduce("min", v4, 3), v4.min(axis=(0, 1, 2)))
