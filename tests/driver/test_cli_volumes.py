"""Volumes on the command line: a ``volume<T>`` input is a ``.npy`` of shape (D, H, W),
an output is written as ``.npy``; a PNG (one 2-D image) or an array of the wrong rank is
a clean error naming the input."""

from __future__ import annotations

import numpy as np
from cliutil import assert_user_error, ccomp
from test_cli import CARD, EXAMPLES

EROSION = str(EXAMPLES / "erosion.cn")


def test_erosion_reads_and_writes_npy_volumes(tmp_path):
    terrain = np.random.default_rng(0).random((6, 7, 8), dtype=np.float32)
    src, out = tmp_path / "terrain.npy", tmp_path / "eroded.npy"
    np.save(src, terrain)
    res = ccomp("run", EROSION, "-i", f"terrain={src}", "-i", "steps=3", "--output", f"eroded={out}")
    assert res.returncode == 0, res.stderr
    eroded = np.load(out)
    assert eroded.shape == (6, 7, 8) and eroded.dtype == np.float32
    assert "mass = " in res.stdout
    res = ccomp("run", EROSION, "-i", f"terrain={src}", "-i", "steps=1")
    assert res.returncode == 0, res.stderr
    assert "eroded: volume<f32> (6, 7, 8) (not written; add --output eroded=FILE)" in res.stdout


def test_png_is_not_a_volume(tmp_path):
    assert_user_error(ccomp("run", EROSION, "-i", f"terrain={CARD}"),
                      "input 'terrain': a PNG holds one 2-D image, not a volume; use .npy (depth, height, width)")
    src = tmp_path / "terrain.npy"
    np.save(src, np.zeros((4, 4, 4), np.float32))
    assert_user_error(ccomp("run", EROSION, "-i", f"terrain={src}", "-i", "steps=1", "--output",
                            f"eroded={tmp_path / 'e.png'}"),
                      "output 'eroded': a PNG holds one 2-D image, not a volume; write .npy")


def test_wrong_rank_names_the_volume_shape(tmp_path):
    src = tmp_path / "flat.npy"
    np.save(src, np.zeros((4, 5), np.float32))
    assert_user_error(ccomp("run", EROSION, "-i", f"terrain={src}"),
                      "input 'terrain' must have shape (depth, height, width), got (4, 5)")
