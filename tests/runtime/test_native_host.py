"""The native host (llvm): a program call is one native call that runs the whole host
schedule — loops, launches, swaps, checks, reductions — against the Python host and
the reference; checks, progress, Ctrl-C-style stops, threads, exit and memory."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
from xdsl.dialects import func
from xdsl.parser import Parser

import ccomp
from ccomp.backends.llvm.codegen import emit_llvm_code
from ccomp.dialects.context import make_context
from ccomp.runtime.devices.llvm import LLVMDevice
from ccomp.runtime.host import HostRunner, ScheduleCheckError
from ccomp.runtime.native_host import NativeHostRunner

ROOT = Path(__file__).resolve().parents[2]
HEAT = (ROOT / "examples" / "heat.cn").read_text()
SUM = "graph s(a: image<f32>) -> f32 { return sum(a) }"
PROGRAMS = {
    "heat": (HEAT, lambda r: [r.random((33, 47), dtype=np.float32), np.int32(9)]),
    "sum": (SUM, lambda r: [r.random((300, 257), dtype=np.float32)]),
    "swap": ("""graph swap(src: image<f32>, n: i32) -> (a: image<f32>, b: image<f32>) {
                let r = repeat n (a = src, b = src * 2.0) { yield b + 1.0, a }
                return r.a, r.b
            }""", lambda r: [r.random((20, 30), dtype=np.float32), np.int32(5)]),
    "pyramid": ((ROOT / "examples" / "pyramid.cn").read_text(),
                lambda r: [r.random((64, 48), dtype=np.float32), np.int32(7)]),
    "stats": ("""graph stats(a: image<vec4>) -> (lo: f32, hi: f32, scaled: image<vec4>) {
                return min(a.r), max(a.g), a * mean(a)
            }""", lambda r: [r.random((70, 90, 4), dtype=np.float32)]),
    "ints": ("graph c(a: image<i32>) -> i32 { return sum(a) + max(a) - min(a) }",
             lambda r: [r.integers(-1000, 1000, (300, 200), dtype=np.int32)]),
}

CHECKED = """
builtin.module {
  kern.kernel @inc_0 rank 2 {
  ^bb0(%0: memref<?x?xf32>, %1: memref<?x?xf32>):
    %2 = kern.index 0
    %3 = kern.index 1
    %4 = memref.load %0[%3, %2] : memref<?x?xf32>
    %5 = arith.constant 1.000000e+00 : f32
    %6 = arith.addf %4, %5 : f32
    memref.store %6, %1[%3, %2] : memref<?x?xf32>
    kern.yield
  }
  func.func @inc(%u0: memref<?x?xf32>, %steps: i32, %limit: i32) -> memref<?x?xf32> {
    %0 = arith.constant 0 : index
    %1 = arith.constant 1 : index
    %2 = arith.index_cast %steps : i32 to index
    %lim = arith.index_cast %limit : i32 to index
    %3 = memref.dim %u0, %0 : memref<?x?xf32>
    %4 = memref.dim %u0, %1 : memref<?x?xf32>
    %5 = memref.alloc(%3, %4) : memref<?x?xf32>
    %6 = memref.alloc(%3, %4) : memref<?x?xf32>
    %7, %8, %9 = scf.for %10 = %0 to %2 step %1 iter_args(%u = %u0, %11 = %5, %12 = %6) -> (memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>) {
      %ok = arith.cmpi slt, %10, %lim : index
      kern.check %ok, "iteration {0} reached the limit {1}"(%10, %lim : index, index)
      %13 = memref.dim %u, %0 : memref<?x?xf32>
      %14 = memref.dim %u, %1 : memref<?x?xf32>
      kern.launch @inc_0[%14, %13] (%u, %11) : (memref<?x?xf32>, memref<?x?xf32>) -> ()
      scf.yield %11, %12, %11 : memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>
    }
    func.return %7 : memref<?x?xf32>
  }
}
"""


def _python_host(monkeypatch: pytest.MonkeyPatch, src: str) -> ccomp.Program:
    monkeypatch.setenv("CCOMP_NATIVE_HOST", "0")
    prog = ccomp.compile(src, target="llvm")
    monkeypatch.delenv("CCOMP_NATIVE_HOST")
    return prog


def test_llvm_programs_run_on_the_native_host():
    prog = ccomp.compile(HEAT, target="llvm")
    assert isinstance(prog._runners[0], NativeHostRunner)
    assert "heat.host" in prog.device.hosts


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_native_and_python_hosts_agree(monkeypatch, name):
    """Same outputs, bit for bit, and the same launches in the same order."""
    src, make = PROGRAMS[name]
    args = make(np.random.default_rng(3))
    native = ccomp.compile(src, target="llvm")
    python = _python_host(monkeypatch, src)
    assert isinstance(python._runners[0], HostRunner)
    got, want = native(*args), python(*args)
    for g, w in zip(got if isinstance(got, tuple) else [got], want if isinstance(want, tuple) else [want]):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
    assert native.launches == python.launches


def _checked_runner() -> tuple[NativeHostRunner, HostRunner]:
    module = Parser(make_context(), CHECKED).parse_module()
    fn = next(op for op in module.walk() if isinstance(op, func.FuncOp))
    device = LLVMDevice()
    device.load(module, emit_llvm_code(module))
    return NativeHostRunner(fn, device), HostRunner(fn, device)


def test_a_check_failing_mid_loop_stops_with_its_message_and_the_runner_stays_usable():
    native, python = _checked_runner()
    u = np.zeros((40, 30), np.float32)
    for runner in (native, python):
        with pytest.raises(ScheduleCheckError, match=r"iteration 4 reached the limit 4"):
            runner.run([u, np.int32(10), np.int32(4)])
    assert len(native.launches) == 4  # the launches before the check ran, then nothing
    assert native.pool.live_bytes == 0  # every buffer of the stopped call went back
    out = native.run([u, np.int32(6), np.int32(100)])[0]
    np.testing.assert_array_equal(out, u + 6)


def test_the_launch_log_keeps_every_launch_past_its_capacity():
    native, _ = _checked_runner()
    out = native.run([np.ones((4, 3), np.float32), np.int32(3000), np.int32(5000)])[0]
    np.testing.assert_array_equal(out, np.full((4, 3), 3001, np.float32))
    assert len(native.launches) == 3000 and set(native.launches) == {("inc_0", (3, 4))}


def test_progress_is_reported_per_iteration_and_an_exception_stops_the_run():
    prog = ccomp.compile(HEAT, target="llvm")
    u = np.random.default_rng(0).random((16, 16), dtype=np.float32)
    seen: list[tuple[int, int]] = []
    prog(u0=u, steps=12, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, 12) for i in range(1, 13)]

    def stop(done: int, total: int) -> None:
        if done == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        prog(u0=u, steps=50, progress=stop)
    assert len(prog.launches) == 5
    np.testing.assert_array_equal(prog(u0=u, steps=12), _python_host(pytest.MonkeyPatch(), HEAT)(u0=u, steps=12))


def test_eight_threads_calling_one_program():
    heat, total = ccomp.compile(HEAT, target="llvm"), ccomp.compile(SUM, target="llvm")
    rng = np.random.default_rng(1)
    images = [rng.random((64, 80), dtype=np.float32) for _ in range(8)]
    want_heat = [heat(u0=a, steps=6).copy() for a in images]
    want_sum = [total(a) for a in images]
    failures: list[str] = []

    def work(k: int) -> None:
        for _ in range(100):
            if not np.array_equal(heat(u0=images[k], steps=6), want_heat[k]) or total(images[k]) != want_sum[k]:
                failures.append(f"thread {k}")
                return

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_the_interpreter_exits_cleanly_with_workers_alive():
    script = textwrap.dedent(f"""
        import numpy as np, ccomp
        prog = ccomp.compile({HEAT!r}, target="llvm", cache=False)
        out = prog(u0=np.ones((512, 512), np.float32), steps=20)
        assert out.shape == (512, 512)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stderr == ""


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads the resident size from /proc (Linux)")
def test_no_memory_growth_over_a_thousand_calls():
    prog = ccomp.compile(HEAT, target="llvm")
    u = np.random.default_rng(2).random((64, 64), dtype=np.float32)
    for _ in range(100):
        prog(u0=u, steps=3)
    before, live = _rss_bytes(), prog.pool.live_bytes
    for _ in range(1000):
        prog(u0=u, steps=3)
    assert prog.pool.live_bytes == live
    assert _rss_bytes() - before < 1 << 20  # under 1 KB a call, i.e. nothing kept per call


def test_a_build_folder_runs_its_native_host_and_a_mismatched_one_falls_back(tmp_path, caplog):
    """The .ll of a build holds the host schedule; if host.mlir no longer matches the .ll
    (its fingerprint differs), the loaded schedule runs on the Python host instead."""
    from ccomp.runtime.build import write_build

    prog = ccomp.compile(HEAT, target="llvm")
    write_build(prog.build, tmp_path)
    loaded = ccomp.api.load(tmp_path)
    assert isinstance(loaded._runners[0], NativeHostRunner)
    u = np.random.default_rng(4).random((20, 24), dtype=np.float32)
    np.testing.assert_array_equal(loaded(u0=u, steps=5), prog(u0=u, steps=5))
    address, digest = loaded.device.hosts["heat.host"]
    loaded.device.hosts["heat.host"] = (address, digest ^ 1)
    from ccomp.runtime.native_host import make_runner

    runner = make_runner(loaded.variants.variants[0].fn, loaded.device, loaded.pool)
    assert isinstance(runner, HostRunner) and "another schedule" in caplog.text
