"""The native host's prepared allocations (``RT_PREPARED``, ``runtime/native_buffers.py``):
a call with the same inputs as the last takes its buffers without calling back into
Python, and anything unexpected falls back to the callback with the same results,
memory checks and errors."""

from __future__ import annotations

import numpy as np
import pytest

import ccomp
from ccomp.runtime.devices import native_host_abi as A
from ccomp.runtime.native_host import NativeHostRunner, make_runner

TRIVIAL = "graph triv(a: image<f32>) -> image<f32> { return a * 2.0 }"


def _trivial() -> tuple[ccomp.Program, NativeHostRunner]:
    prog = ccomp.compile(TRIVIAL, target="llvm", cache=False)
    assert isinstance(prog._runner, NativeHostRunner)
    return prog, prog._runner


def test_a_repeated_call_allocates_without_calling_back():
    prog, runner = _trivial()
    a = np.arange(64, dtype=np.float32).reshape(8, 8)
    prog(a)  # the first call with these inputs calls back: nothing is known yet
    assert (runner.alloc_calls, runner.prepared.taken_total) == (1, 0)
    for n in range(1, 4):
        np.testing.assert_array_equal(prog(a), a * 2)
        assert (runner.alloc_calls, runner.prepared.taken_total) == (1, n)
    assert runner.pool.live_bytes == 0 or runner.pool.live_bytes == a.nbytes * len(runner.handed_out)


def test_other_input_shapes_call_back_once_then_are_prepared():
    prog, runner = _trivial()
    prog(np.ones((8, 8), np.float32))
    prog(np.ones((8, 8), np.float32))
    b = np.ones((5, 3), np.float32)
    assert prog(b).shape == (5, 3)
    assert (runner.alloc_calls, runner.prepared.taken_total) == (2, 1)
    assert prog(b).shape == (5, 3)
    assert (runner.alloc_calls, runner.prepared.taken_total) == (2, 2)


def test_a_prepared_buffer_that_does_not_match_falls_back_and_goes_back_to_the_pool():
    prog, runner = _trivial()
    a = np.ones((8, 8), np.float32)
    prog(a)
    prog(a)
    runner.prepared.words[2 + 1] = 7  # the native side now expects a 7-row buffer: a mismatch
    kept = [prog(a)]  # held, so only the unused prepared buffer can be free afterwards
    np.testing.assert_array_equal(kept[0], a * 2)
    assert (runner.alloc_calls, runner.prepared.taken_total) == (2, 1)
    assert runner.pool.live_bytes == a.nbytes  # the output; the prepared one went back
    assert runner.pool.free_bytes == a.nbytes
    prog(a)  # the plan was written again from the call: taken again
    assert (runner.alloc_calls, runner.prepared.taken_total) == (2, 2)


def test_the_memory_limit_still_applies_with_its_location():
    prog, runner = _trivial()
    a = np.ones((64, 64), np.float32)
    held = [prog(a), prog(a)]  # outputs are live while the caller holds them
    assert runner.prepared.taken_total == 1
    prog.pool.limit = 5 * a.nbytes // 2  # room for no third: the prepared one is refused, then the real one
    with pytest.raises(ccomp.CompileError, match=r":1:52: .*shape 64 x 64.*in use") as first:
        prog(a)
    with pytest.raises(ccomp.CompileError, match=r"shape 64 x 64.*in use") as again:
        prog(a)
    assert str(first.value) == str(again.value)
    held.clear()
    np.testing.assert_array_equal(prog(a), a * 2)


def test_the_abi_version_is_part_of_the_fingerprint(monkeypatch, caplog):
    prog, runner = _trivial()
    fn = prog.variants.variants[0].fn
    assert prog.device.hosts[A.host_symbol(fn)][1] == A.describe_host(fn).fingerprint
    monkeypatch.setattr(A, "ABI_VERSION", A.ABI_VERSION + 1)  # a build made against another layout
    assert not isinstance(make_runner(fn, prog.device, prog.pool), NativeHostRunner)
    assert "another schedule" in caplog.text
