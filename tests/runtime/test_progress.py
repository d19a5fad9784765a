"""Progress of repeat zones, and Ctrl-C: in Python (a ``progress`` callback) and on
the command line (a bar on a terminal; SIGINT ends a run with exit 130 and a clean
message, on every target)."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import ccomp
from ccomp.driver.progress import ProgressBar
from ccomp.runtime.devices.targets import probe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "differential"))
from looputil import TARGETS, assert_matches, fresh, reference  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
HEAT = (ROOT / "examples" / "heat.cn").read_text()
NESTED = """graph nested(src: image<f32>, k: i32, m: i32) -> (img: image<f32>, count: i32) {
    let r = repeat k (a = src, c = 0) {
        let b = repeat m (d = a, e = c) { yield d + 1.0, e + 1 }
        yield b.d, b.e
    }
    return r.a, r.c
}"""


@pytest.mark.parametrize("target", TARGETS)
def test_progress_reports_each_iteration_of_a_zone(target):
    prog = fresh(HEAT, target)
    seen: list[tuple[int, int]] = []
    u = np.random.default_rng(0).random((12, 9), np.float32)
    out = prog(u, 7, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, 7) for i in range(1, 8)]
    assert_matches(out, reference(HEAT, "heat", [u, np.int32(7)])[0])
    prog(u, 3)  # without a callback, nothing is reported
    assert len(seen) == 7


def test_only_the_outermost_zone_reports():
    prog = ccomp.compile(NESTED)
    seen: list[tuple[int, int]] = []
    prog(np.zeros((4, 4), np.float32), 3, 5, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


class Stop(KeyboardInterrupt):
    """What Ctrl-C raises, from a known place."""


@pytest.mark.parametrize("target", TARGETS)
def test_interrupted_program_stays_usable(target):
    """A callback raising KeyboardInterrupt mid-zone stops the run; afterwards no
    buffer of that run is held, and the next call computes the right answer."""
    prog = fresh(HEAT, target)
    u = np.random.default_rng(1).random((32, 24), np.float32)
    want = reference(HEAT, "heat", [u, np.int32(6)])[0]
    first = prog(u, 6)  # held: its storage stays counted live on llvm
    live = prog.pool.live_bytes

    def stop(done, total):
        if done == 50:
            raise Stop

    with pytest.raises(Stop):
        prog(u, 100000, progress=stop)
    assert prog.pool.live_bytes == live  # the interrupted run's buffers are back (outputs still held stay)
    assert len(prog.launches) == 50
    assert_matches(prog(u, 6), want)
    assert_matches(first, want)


def test_bar_waits_then_throttles_then_erases():
    quiet = io.StringIO()
    bar = ProgressBar(quiet, delay=60.0)
    for i in range(1, 1001):
        bar(i, 1000)
    bar.close()
    assert quiet.getvalue() == ""  # a short run shows nothing

    stream = io.StringIO()
    bar = ProgressBar(stream, "heat ", delay=0.0, interval=0.1)
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < 0.35:
        n += 1
        bar(n, 10**9)
    elapsed = time.monotonic() - start
    assert 1 <= bar.updates <= elapsed / 0.1 + 2 < n
    assert "heat [" in stream.getvalue() and f"/{10**9}" in stream.getvalue()
    bar.close()
    assert stream.getvalue().endswith("\r") and bar.drawn == 0


def _cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ccomp.driver.cli", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_no_bar_when_stderr_is_not_a_terminal(tmp_path):
    proc = _cli("run", "examples/heat.cn", "--input", "u0=examples/data/card.png", "--input", "steps=3000",
                "--output", f"out={tmp_path / 'x.npy'}")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0 and err == b"", err
    assert b"wrote" in out


@pytest.mark.parametrize("target", TARGETS)
def test_ctrl_c_stops_a_long_run(target, tmp_path):
    """SIGINT while a million-step heat run is in its loop (the bar, forced on, says
    so): exit 130 within 3 s of the signal, 'interrupted', no traceback, no output."""
    ok, detail = probe(target)
    if not ok:
        pytest.skip(f"{target} unavailable: {detail}")
    result = tmp_path / "x.npy"
    proc = _cli("run", "examples/heat.cn", "-t", target, "--input", "u0=examples/data/card.png",
                "--input", "steps=1000000", "--output", f"out={result}", "--progress")
    err = bytearray()

    def read() -> None:
        while chunk := proc.stderr.read1(4096):
            err.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while b"/1000000" not in err and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert b"/1000000" in err, (proc.poll(), bytes(err))
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        proc.wait(timeout=30)
        stopped = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=5)
    text = err.decode()
    assert proc.returncode == 130, text
    assert text.rstrip().endswith("interrupted") and "Traceback" not in text, text
    assert stopped < 3.0, stopped
    assert not result.exists()
