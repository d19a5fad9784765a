"""Profiling (``prog(..., profile=True)``, ``with prog.profile()``, ``ccomp run --profile``):
each target's timers agree with a wall-clock measurement of the same call, every launch
is recorded with its work, the trace file is valid trace-event JSON, the table adds up,
and profiling changes no result."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import jsonschema
import numpy as np
import pytest

import ccomp
from ccomp.driver.cli import main
from ccomp.runtime.devices import native_host_abi as A
from ccomp.runtime.devices.targets import probe
from ccomp.runtime.native_host import LOG_ENTRIES, NativeHostRunner

ROOT = Path(__file__).resolve().parents[2]
HEAT = ROOT / "examples" / "heat.cn"
SCHEMA = json.loads((Path(__file__).with_name("trace_schema.json")).read_text())
# (target, native host): every way a launch is timed
WAYS = [("llvm", True), ("llvm", False), ("opencl", False), ("glsl", False)]
SIZES = {"llvm": (384, 60), "opencl": (192, 30), "glsl": (192, 30)}  # launch-dominated calls of ~5-50 ms


def _program(target: str, native: bool, monkeypatch: pytest.MonkeyPatch) -> ccomp.Program:
    if not probe(target)[0]:
        pytest.skip(f"{target} is not available here: {probe(target)[1]}")
    monkeypatch.setenv("CCOMP_NATIVE_HOST", "1" if native else "0")
    prog = ccomp.compile_file(HEAT, target=target)
    assert isinstance(prog._runner, NativeHostRunner) == native
    return prog


@pytest.mark.parametrize("target,native", WAYS, ids=[f"{t}-{'native' if n else 'python'}" for t, n in WAYS])
def test_profile_matches_wall_clock(target: str, native: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    prog = _program(target, native, monkeypatch)
    side, steps = SIZES[target]
    u = np.random.default_rng(1).random((side, side), dtype=np.float32)
    expected = prog(u, steps=steps)
    prog(u, steps=steps, profile=True)  # warm: the cost estimate, the profiling queue
    best = None
    for _ in range(3):  # the closest of three: a loaded machine may stall any single call
        start = time.perf_counter()
        out = prog(u, steps=steps, profile=True)
        wall = time.perf_counter() - start
        p = prog.last_profile
        gap = abs(p.total_s - wall) / wall
        best = gap if best is None else min(best, gap)
        np.testing.assert_array_equal(out, expected)
        kernels = p.kernels()
        assert [(k.name, k.device, k.calls) for k in kernels] == [("heat_0", target, steps)]
        assert 0 < p.kernel_seconds() <= p.total_s * 1.02
        assert kernels[0].bytes == pytest.approx(8.0 * side * side * steps)  # one f32 in, one out per point
        assert kernels[0].flops > 0 and kernels[0].gbps > 0
    assert best < 0.10, f"profile total vs wall clock: {best:.1%} apart"


def test_profile_block_accumulates_and_off_costs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    prog = _program("llvm", True, monkeypatch)
    u = np.ones((16, 16), np.float32)
    with prog.profile() as p:
        prog(u, steps=3)
        prog(u, steps=4)
    assert p.calls == 2 and sum(k.calls for k in p.kernels()) == 7
    prog(u, steps=2)
    runner = prog._runner
    assert runner.profiler is None and runner.rt[A.RT_PROFILE] == 0  # off: the native code skips the stamps
    assert prog.last_profile is not None and prog.last_profile.calls == 1  # the block's last call


def test_native_stamps_survive_log_flushes(monkeypatch: pytest.MonkeyPatch) -> None:
    prog = _program("llvm", True, monkeypatch)
    steps = 2 * LOG_ENTRIES + 37  # the launch log is flushed to Python twice
    prog(np.ones((8, 8), np.float32), steps=steps, profile=True)
    events = [e for e in prog.last_profile.events if e.kind == "kernel"]
    assert len(events) == steps
    assert all(e.dur_ns >= 0 and e.start_ns > 0 for e in events)
    starts = [e.start_ns for e in events]
    assert starts == sorted(starts)  # one after the other, in the order they ran


def test_trace_is_valid_trace_event_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    u = tmp_path / "u.npy"
    np.save(u, np.random.default_rng(2).random((40, 30), dtype=np.float32))
    trace = tmp_path / "trace.json"
    assert main(["run", str(HEAT), "-t", "opencl" if probe("opencl")[0] else "llvm", "-i", f"u0={u}",
                 "-i", "steps=7", "--profile", str(trace)]) == 0
    data = json.loads(trace.read_text())
    jsonschema.validate(data, SCHEMA)
    complete = [e for e in data["traceEvents"] if e["ph"] == "X"]
    assert sorted({e["cat"] for e in complete}) >= ["host", "kernel"]
    assert sum(e["cat"] == "kernel" for e in complete) == 7
    names = {(e["pid"], e["args"]["name"]) for e in data["traceEvents"] if e["name"] == "process_name"}
    assert (0, "host") in names and len(names) == 2  # the host and the device
    table = capsys.readouterr().out
    _check_table(table, kernels=["heat_0"])


def _check_table(text: str, kernels: list[str]) -> None:
    lines = text.splitlines()
    assert lines[0].split() == ["kernel", "device", "calls", "total", "ms", "mean", "us", "MB", "moved", "GB/s",
                                "GFLOP/s", "share"]
    assert set(lines[1]) == {"-", " "}
    rows = [line.split() for line in lines[2:] if line and not line.startswith(("total", "out"))]
    assert [r[0] for r in rows if r[0] in kernels] == kernels and rows[-1][0] == "(host)"
    shares = sum(float(r[-1].rstrip("%")) for r in rows)
    assert shares == pytest.approx(100.0, abs=0.5)  # kernels, transfers and the host's own time
    total = re.search(r"total ([\d.]+) ms over 1 call", text)
    assert total is not None
    assert sum(float(r[3]) for r in rows) == pytest.approx(float(total.group(1)), rel=0.01, abs=0.005)


def test_profile_flag_refuses_other_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    u = tmp_path / "u.npy"
    np.save(u, np.ones((4, 4), np.float32))
    assert main(["run", str(HEAT), "-i", f"u0={u}", "--profile", str(tmp_path / "t.txt")]) == 1
    assert "give a file ending in .json" in capsys.readouterr().err
