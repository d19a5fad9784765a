"""Weights files at run time (ccomp/runtime/weights.py): read with allow_pickle=False, only
regular files, NaN refused; a file that changed since compiling is read as it is now."""

from __future__ import annotations

import os

import numpy as np
import pytest

import ccomp
from ccomp import CompileError
from ccomp.runtime.weights import load_weights

NET = """network n(x: tensor<4xf32>) -> tensor<3xi32> steps 20 dt 1ms {
    input s = poisson(x, max_rate: 500Hz)
    layer h = lif(3, tau: 5ms) <- s weights "w.npy"
    return spike_count(h)
}
"""


def test_loader_refuses_what_is_not_a_plain_numeric_file(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([object()] * 4, dtype=object), allow_pickle=True)
    with pytest.raises(CompileError, match="cannot read weights file"):
        load_weights(str(tmp_path / "obj.npy"), False)
    os.mkfifo(tmp_path / "fifo.npy")
    with pytest.raises(CompileError, match="not a regular file"):  # returns at once, never blocks
        load_weights(str(tmp_path / "fifo.npy"), False)
    np.save(tmp_path / "nan.npy", np.array([[np.nan]], np.float32))
    with pytest.raises(CompileError, match="NaN"):
        load_weights(str(tmp_path / "nan.npy"), False)
    with pytest.raises(CompileError, match="cannot read weights file"):
        load_weights(str(tmp_path / "gone.npy"), False)


def test_program_reads_the_file_when_loaded(tmp_path):
    path = tmp_path / "n.cn"
    path.write_text(NET)
    np.save(tmp_path / "w.npy", np.full((4, 3), 2.0, np.float32))
    x = np.ones(4, np.float32)
    assert ccomp.compile_file(path)(x=x).sum() > 0
    np.save(tmp_path / "w.npy", np.zeros((4, 3), np.float32))  # same program text, new weights
    assert ccomp.compile_file(path)(x=x).sum() == 0
    (tmp_path / "w.npy").unlink()
    with pytest.raises(CompileError, match="w.npy"):  # at compile time, or loading a cached build
        ccomp.compile_file(path)
    with pytest.raises(CompileError, match="weights file 'w.npy' does not exist"):
        ccomp.compile_file(path, cache=False)
