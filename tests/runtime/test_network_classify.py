"""examples/classify.cn as shipped (weights examples/w1.npy, w2.npy; input
examples/data/bar3.npy): identical spike counts on llvm, opencl and glsl, equal to the
NumPy reference with its STDP, and runnable from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ccomp
from snnref import Conn, Input, Layer, Stdp, simulate

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "classify.cn"


@pytest.fixture(scope="module")
def inputs() -> list[np.ndarray]:
    sample = np.load(ROOT / "examples" / "data" / "bar3.npy").reshape(28, 28)
    return [np.ascontiguousarray(a).reshape(-1) for a in (sample, sample.T, sample[::-1])]  # three bar angles


def reference(x: np.ndarray) -> np.ndarray:
    w1, w2 = np.load(ROOT / "examples" / "w1.npy"), np.load(ROOT / "examples" / "w2.npy")
    res = simulate({"s": Input("poisson", x, 100.0)},
                   {"h": Layer(128, 0.010, v_th=1.0, v_reset=0.0, refractory=0.002), "o": Layer(10, 0.010)},
                   [Conn("s", "h", w1), Conn("h", "o", w2)], 100, 1e-3,
                   stdps=(Stdp(1, 0.01, 0.012, 0.020, 0.020),))
    return res.count["o"]


def test_identical_spike_counts_on_every_target(inputs):
    got = {t: [ccomp.compile_file(EXAMPLE, target=t)(pixels=x) for x in inputs] for t in ("llvm", "opencl", "glsl")}
    for k, x in enumerate(inputs):
        want = reference(x)
        assert want.sum() > 0  # the shipped weights give activity
        for t in got:
            assert got[t][k].dtype == np.int32 and got[t][k].shape == (10,)
            assert np.array_equal(got[t][k], want), (t, k, got[t][k], want)


def test_ccomp_run_with_the_shipped_input(tmp_path):
    out = tmp_path / "counts.npy"
    res = subprocess.run([sys.executable, "-m", "ccomp.driver.cli", "run", str(EXAMPLE), "--input",
                          f"pixels={ROOT / 'examples' / 'data' / 'bar3.npy'}", "--output", f"out={out}"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert res.returncode == 0, res.stderr
    assert np.array_equal(np.load(out), reference(np.load(ROOT / "examples" / "data" / "bar3.npy")))
