"""GL context blocks on the glsl device (``ccomp/runtime/devices/gl_launch.py``:
``held``, ``outside``): glcontext's ``with ctx`` does not nest — leaving an inner one
leaves no context current — so a device or buffer the garbage collector frees in the
middle of another device's launch must wait until that launch's block ends."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from ccomp.runtime.devices.gl_launch import held, outside
from ccomp.runtime.devices.targets import probe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "differential"))
from looputil import assert_matches, fresh, reference  # noqa: E402

HEAT = (Path(__file__).resolve().parents[2] / "examples" / "heat.cn").read_text()
ADD = "graph add(src: image<f32>) -> image<f32> { return src + 1.0 }"

pytestmark = pytest.mark.skipif(not probe("glsl")[0], reason="glsl unavailable")


def test_a_device_closed_inside_another_devices_block_closes_after_it():
    kept, dropped = fresh(HEAT, "glsl"), fresh(ADD, "glsl")
    ctx = kept.device.ctx
    data = np.arange(16, dtype=np.float32)
    with held(ctx):
        outside(dropped.device.close)  # what GLDevice.__del__ does when the collector runs here
        assert dropped.device.ctx is not None  # not yet: closing now would leave no context current
        buffer = ctx.buffer(data.tobytes())  # so GL calls of this block still reach kept's context
        np.testing.assert_array_equal(np.frombuffer(buffer.read(), np.float32), data)
        buffer.release()
    assert dropped.device.ctx is None  # closed when the block ended
    u = np.random.default_rng(0).random((9, 7), np.float32)
    assert_matches(kept(u, 5), reference(HEAT, "heat", [u, np.int32(5)])[0])


def test_work_outside_any_block_runs_at_once():
    prog = fresh(ADD, "glsl")
    outside(prog.device.close)
    assert prog.device.ctx is None
