"""A dropped llvm Program gives its native code back.

Each llvm Program owns an ``LLVMDevice`` and so a MCJIT engine holding its compiled
modules; resident memory grew ~0.14 MB per compiled-and-dropped program. The engine is
now disposed of with its device (``Jit.close``), the modules live in an LLVM context
of the ``Jit``'s own (freed with it, where LLVM's global context keeps every constant
forever), and the native host's callbacks no longer form a cycle with their runner.

One cause is not ours: each run of llvmlite 0.50's O3 pipeline leaks ~0.12 MB, so the
``Jit`` reuses the optimised text of a program it has optimised before (``jit.py``),
and after the first few distinct programs runs the pipeline in a helper process
(``jit_worker.py``; different programs: tests/runtime/test_program_memory.py). RSS is read from ``/proc/self/statm`` after ``gc.collect()`` and glibc's
``malloc_trim``, once 20 programs have warmed every cache, and again after 200 more:
the issue's bound is 0.02 MB per program, 4 MB over 200 (before: ~24 MB). Linux only.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import weakref

import numpy as np
import pytest

import ccomp
from ccomp.runtime.devices.jit import Jit

log = logging.getLogger(__name__)
SRC = """graph tone(a: image<f32>, gain: f32 = 1.5) -> image<f32> {
    let s = blur(a, 1)
    return clamp(s * gain + 0.1, 0.0, 1.0)
}
"""
IMAGE = np.linspace(0, 1, 24 * 32, dtype=np.float32).reshape(24, 32)


def _rss() -> int:
    """Resident bytes once garbage is collected and glibc has given free heap back, so
    fragmentation of the Python heap is not mistaken for native code kept alive."""
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the figure is only noisier
        pass
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _compile_run_drop() -> None:
    prog = ccomp.compile_source(SRC, "tone.cn", target="llvm", cache=False)
    out = prog(IMAGE)
    assert out.shape == IMAGE.shape and 0.0 <= float(out.min()) <= float(out.max()) <= 1.0


def test_dropping_a_program_frees_its_engine_at_once():
    """No cycle keeps the device: its ``Jit`` (and engine) go when the Program does,
    without waiting for the cyclic garbage collector."""
    prog = ccomp.compile_source(SRC, "tone.cn", target="llvm", cache=False)
    prog(IMAGE)
    jit = weakref.ref(prog.device.jit)
    gc.disable()
    try:
        del prog
        assert jit() is None
    finally:
        gc.enable()


def test_a_closed_jit_refuses_to_compile():
    jit = Jit()
    addresses, _ = jit.compile("define i32 @f() {\n  ret i32 7\n}\n", ["f"])
    assert addresses["f"]
    jit.close()
    jit.close()  # idempotent
    with pytest.raises(RuntimeError, match="this JIT was closed"):
        jit.compile("define i32 @g() {\n  ret i32 1\n}\n", ["g"])


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="RSS is read from /proc")
def test_rss_is_flat_over_200_dropped_programs():
    for _ in range(20):
        _compile_run_drop()
    before = _rss()
    for _ in range(200):
        _compile_run_drop()
    grown = _rss() - before
    per_program = grown / 200 / 1e6
    log.info("RSS grew %.2f MB over 200 dropped programs: %.4f MB per program", grown / 1e6, per_program)
    print(f"RSS growth over 200 dropped llvm programs: {grown / 1e6:.2f} MB, {per_program:.4f} MB per program")
    assert per_program < 0.02, f"{per_program:.4f} MB per program"
