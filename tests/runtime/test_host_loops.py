"""The Python host's fast loops (``ccomp/runtime/host_loops.py``): a repeat zone whose
launches repeat with a period prepares each distinct launch once
(``Device.prepare_launch``) and then only issues them; any other loop runs iteration by
iteration. Every result is compared with the reference evaluator, and the device's own
``launch`` and ``prepare_launch`` are counted (they still run) to see which path a loop
took. Programs on llvm run their schedule natively, so llvm is covered here by a
``HostRunner`` made directly (``test_three_buffer_rotation``)."""

from __future__ import annotations

import subprocess
import sys
import weakref
from pathlib import Path

import numpy as np
import pytest

import ccomp
from ccomp.dialects.context import parse_module
from ccomp.runtime.host import HostRunner
from ccomp.runtime.host_loops import periodic_state
from ccomp.semantics.arith_math import ARITH_MATH_OPS
from xdsl.dialects import func, scf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "differential"))
from looputil import TARGETS, assert_matches, fresh, reference  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
HEAT = (ROOT / "examples" / "heat.cn").read_text()
GPU = ("opencl", "glsl")
# two states of two buffers each, two kernels, one of them taking a vec2 uniform the host computes
TWO = """graph two(a0: image<f32>, b0: image<f32>, n: i32) -> (a: image<f32>, b: image<f32>) {
    let r = repeat n (a = a0, b = b0) {
        let s = blur(a, 1)
        yield s + 0.5 * b[x+1, y], b - 0.25 * s[x, y-1]
    }
    return r.a, r.b
}"""
WAVE = """graph wave(u0: image<f32>, n: i32) -> image<f32> {
    let r = repeat n (u = u0, p = u0) {
        yield 2.0 * u - p + 0.1 * (u[x-1, y] + u[x+1, y] + u[x, y-1] + u[x, y+1] - 4.0 * u), u
    }
    return r.u
}"""
COUNTED = """graph counted(src: image<f32>, n: i32) -> image<f32> {
    return repeat n (a = src) { yield a + f32(iteration) }
}"""
CENTRED = """graph centred(src: image<f32>, n: i32) -> image<f32> {
    return repeat n (a = src) { yield 0.5 * (a - mean(a)) + a[x+1, y] }
}"""
# heat's kernel driven over three buffers in rotation: a -> b, b -> c, c -> a, ...
ROTATE = """  func.func @heat(%u0: memref<?x?xf32>, %steps: i32) -> memref<?x?xf32> {
    %0 = arith.constant 0 : index
    %1 = arith.constant 1 : index
    %2 = arith.index_cast %steps : i32 to index
    %3 = memref.dim %u0, %0 : memref<?x?xf32>
    %4 = memref.dim %u0, %1 : memref<?x?xf32>
    %5 = memref.alloc(%3, %4) : memref<?x?xf32>
    %6 = memref.alloc(%3, %4) : memref<?x?xf32>
    %7 = memref.alloc(%3, %4) : memref<?x?xf32>
    kern.launch @heat_0[%4, %3] (%u0, %5) : (memref<?x?xf32>, memref<?x?xf32>) -> ()
    %8, %9, %10 = scf.for %i = %0 to %2 step %1 iter_args(%a = %5, %b = %6, %c = %7) -> (memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>) {
      %h = memref.dim %a, %0 : memref<?x?xf32>
      %w = memref.dim %a, %1 : memref<?x?xf32>
      kern.launch @heat_0[%w, %h] (%a, %b) : (memref<?x?xf32>, memref<?x?xf32>) -> ()
      scf.yield %b, %c, %a : memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>
    }
    func.return %8 : memref<?x?xf32>
  }
}
"""


class Counted:
    """Counts the calls of a device's ``launch`` and ``prepare_launch``, which still run.
    The wrappers hold the device weakly: a cycle would leave it to the garbage collector."""

    def __init__(self, device) -> None:
        self.launch = self.prepare = 0
        ref, cls = weakref.ref(device), type(device)

        def counted_launch(*args):
            self.launch += 1
            return cls.launch(ref(), *args)

        def counted_prepare(*args):
            self.prepare += 1
            return cls.prepare_launch(ref(), *args)
        device.launch, device.prepare_launch = counted_launch, counted_prepare


def rand(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 9])
@pytest.mark.parametrize("target", GPU)
def test_heat_prepares_each_binding_once(target, n):
    """u0 -> A, then A -> B, B -> A, ...: three distinct launches prepared, none packed
    per iteration, every iteration recorded, the result the reference's."""
    prog = fresh(HEAT, target)
    assert prog._runner.fast_loops == 1
    count = Counted(prog.device)
    u = rand(12, 9)
    out = prog(u, n)
    assert count.launch == 0 and count.prepare == min(n, 3)
    assert prog.launches == [("heat_0", (9, 12))] * n
    assert_matches(out, reference(HEAT, "heat", [u, np.int32(n)])[0])


@pytest.mark.parametrize("target", GPU)
def test_two_states_two_kernels(target):
    """Four buffers in two ping-pongs, two kernels, a vector uniform computed on the host."""
    prog = fresh(TWO, target)
    count = Counted(prog.device)
    a, b = rand(10, 7, seed=1), rand(10, 7, seed=2)
    for n in (1, 4, 7):
        got = prog(a, b, n)
        for g, w in zip(got, reference(TWO, "two", [a, b, np.int32(n)])):
            assert_matches(g, w)
    assert count.launch == 0 and count.prepare == 2 + 6 + 6  # two launches per distinct state: 1, 3, 3 states
    assert [name for name, _ in prog.launches] == ["two_0", "two_1"] * 7


def test_the_state_is_analysed_once_as_a_periodic_function():
    """heat: u0 first, then a cycle of two; a three-buffer rotation: a cycle of three."""
    heat = fresh(HEAT, "opencl").build.host
    rotate = _rotation_module(fresh(HEAT, "opencl"))
    for fn, pre, period, states in [(heat, 1, 2, [0, 1, 2, 1, 2, 1, 2]), (rotate, 0, 3, [0, 1, 2, 0, 1, 2, 0])]:
        loop = next(op for op in fn.walk() if isinstance(op, scf.ForOp))
        found = periodic_state(loop, id, ARITH_MATH_OPS)  # heat's build checks its launches with arith
        assert (found.pre, found.period) == (pre, period)
        assert [found.index(i) for i in range(7)] == states


def _rotation_module(prog: ccomp.api.Program) -> func.FuncOp:
    text = str(prog.build.module)
    module = parse_module(text[: text.index("  func.func")] + ROTATE)
    return next(op for op in module.body.block.ops if isinstance(op, func.FuncOp))


@pytest.mark.parametrize("target", TARGETS)  # llvm: the Python host with the default prepare_launch
def test_three_buffer_rotation(target):
    prog = fresh(HEAT, target)
    runner = HostRunner(_rotation_module(prog), prog.device, prog.pool)
    assert runner.fast_loops == 1
    count = Counted(prog.device)
    u = rand(11, 13, seed=3)
    for n in (2, 3, 4, 10):
        out = runner.run([u, np.int32(n)])[0]
        assert_matches(out, reference(HEAT, "heat", [u, np.int32(n + 1)])[0])
    # the launch before each loop; the default prepare_launch (llvm's) issues through launch
    assert count.launch == 4 + (2 + 3 + 4 + 10 if target == "llvm" else 0)
    assert count.prepare == 2 + 3 + 3 + 3
    assert len(runner.launches) == 11


@pytest.mark.parametrize("src, args", [
    (WAVE, [rand(9, 8)]),  # a buffer allocated in the loop
    (COUNTED, [rand(9, 8)]),  # the iteration number reaches a kernel
    (CENTRED, [rand(9, 8)]),  # a reduction read back every iteration
])
@pytest.mark.parametrize("target", GPU)
def test_other_loops_take_the_general_path(target, src, args):
    prog = fresh(src, target)
    assert prog._runner.fast_loops == 0
    count = Counted(prog.device)
    args = [*args, np.int32(5)]
    got = prog(*args)
    assert_matches(got, reference(src, prog.name, args)[0], atol=1e-4)
    assert count.prepare == 0 and count.launch == len(prog.launches) >= 5


class Stop(KeyboardInterrupt):
    """What Ctrl-C raises, from a known place."""


@pytest.mark.parametrize("target", GPU)
def test_progress_and_interruption_on_the_fast_path(target):
    """Progress after every iteration; a callback raising stops the run after that
    iteration's launches, the run's buffers go back, and the program computes right."""
    prog = fresh(TWO, target)
    a, b = rand(16, 12, seed=4), rand(16, 12, seed=5)
    want = reference(TWO, "two", [a, b, np.int32(6)])
    seen: list[tuple[int, int]] = []
    got = prog(a, b, 6, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, 6) for i in range(1, 7)]
    for g, w in zip(got, want):
        assert_matches(g, w)
    live = prog.pool.live_bytes

    def stop(done, total):
        if done == 5:
            raise Stop

    with pytest.raises(Stop):
        prog(a, b, 100000, progress=stop)
    assert len(prog.launches) == 10  # five iterations of two launches
    assert prog.pool.live_bytes == live
    for g, w in zip(prog(a, b, 6), want):
        assert_matches(g, w)


@pytest.mark.parametrize("target", GPU)
def test_interrupted_without_a_callback(target):
    """Ctrl-C lands between prepared launches when no callback is set: here the 100th
    launch of a 1000-step run raises. The run records the launches of the blocks issued
    before, its buffers go back, and the program computes right afterwards."""
    prog = fresh(HEAT, target)
    device, calls = prog.device, [0]
    cls, ref = type(device), weakref.ref(device)

    def interrupting(*args):
        issue = cls.prepare_launch(ref(), *args)

        def run():
            calls[0] += 1
            if calls[0] == 100:
                raise Stop
            issue()
        return run
    device.prepare_launch = interrupting
    u = rand(16, 12, seed=8)
    live = prog.pool.live_bytes
    with pytest.raises(Stop):
        prog(u, 1000)
    # u0 -> A, then whole blocks: the first holds 8 launches (the run-ahead starts at 8)
    assert 9 <= len(prog.launches) < 100 and set(prog.launches) == {("heat_0", (12, 16))}
    assert prog.pool.live_bytes == live
    del device.prepare_launch
    assert_matches(prog(u, 7), reference(HEAT, "heat", [u, np.int32(7)])[0])


@pytest.mark.parametrize("target", GPU)
def test_loaded_build_with_launch_checks_stays_fast(target, tmp_path):
    """A loaded build checks every launch's bounds (``launch_guard``): checks that depend
    on the state only are evaluated once per distinct state."""
    subprocess.run([sys.executable, "-m", "ccomp.driver.cli", "build", str(ROOT / "examples" / "heat.cn"),
                    "-t", target, "-o", str(tmp_path)], check=True, capture_output=True)
    prog = ccomp.load(tmp_path)
    assert prog._runner.fast_loops == 1
    count = Counted(prog.device)
    u = rand(6, 5, seed=6)
    assert_matches(prog(u, 7), reference(HEAT, "heat", [u, np.int32(7)])[0])
    assert count.launch == 0 and count.prepare == 3


def test_opencl_reuses_the_kernel_objects_of_prepared_launches():
    prog = fresh(HEAT, "opencl")
    u = rand(8, 8, seed=7)
    prog(u, 5)
    spare = list(prog.device.spare["heat_0"])
    assert len(spare) == 3  # given back when the loop dropped its prepared launches
    prog(u, 5)
    assert sorted(map(id, prog.device.spare["heat_0"])) == sorted(map(id, spare))
