"""A network's time loop on the llvm target runs in the native host (one native call per
program call), gives the same bits and launches as the Python host, and reports
progress once per step."""

from __future__ import annotations

import numpy as np
import pytest

import ccomp
from ccomp.runtime.host import HostRunner
from ccomp.runtime.native_host import NativeHostRunner

NET = """
network net(x: tensor<32xf32>, w: tensor<32x16xf32>, steps: i32 = 40) -> (c: tensor<16xi32>, r: tensor<?x2xi32>,
        v: tensor<16xf32>)
    steps steps dt 1ms
{
    input s = poisson(x, max_rate: 300Hz)
    layer h = lif(16, tau: 10ms, refractory: 2ms) <- s weights w <- h weights uniform(-0.2, 0.4) delay: 1ms
    return spike_count(h), raster(h), voltage(h)
}
"""


def args():
    rng = np.random.default_rng(8)
    return rng.uniform(0, 1, 32).astype(np.float32), rng.uniform(0, 0.5, (32, 16)).astype(np.float32)


def test_native_host_runs_the_loop_and_agrees_with_the_python_host(monkeypatch):
    x, w = args()
    native = ccomp.compile(NET, target="llvm", cache=False)
    assert isinstance(native._runners[0], NativeHostRunner)
    monkeypatch.setenv("CCOMP_NATIVE_HOST", "0")
    python = ccomp.compile(NET, target="llvm", cache=False)
    monkeypatch.delenv("CCOMP_NATIVE_HOST")
    assert isinstance(python._runners[0], HostRunner)
    got, want = native(x=x, w=w), python(x=x, w=w)
    assert got[0].sum() > 10
    for g, e in zip(got, want):
        np.testing.assert_array_equal(g, e)
    assert native.launches == python.launches


def test_progress_once_per_step_and_an_exception_stops_the_run():
    x, w = args()
    prog = ccomp.compile(NET, target="llvm")
    seen: list[tuple[int, int]] = []
    prog(x=x, w=w, steps=25, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, 25) for i in range(1, 26)]

    def stop(done: int, total: int) -> None:
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        prog(x=x, w=w, steps=40, progress=stop)
    c, r, v = prog(x=x, w=w, steps=40)  # still usable, same result as a fresh run
    np.testing.assert_array_equal(c, ccomp.compile(NET, target="llvm", cache=False)(x=x, w=w)[0])
