"""The native worker pool (``ccomp.runtime.devices.native_pool``) with real JIT-compiled
kernels: every row covered once, partials where the ABI puts them, concurrent callers
from many Python threads, compiled programs called from 8 threads, and a process that
exits (or forks) with workers alive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import ccomp
from ccomp.runtime.devices.jit import Jit
from ccomp.runtime.devices.native_pool import NativePool

ROOT = Path(__file__).resolve().parents[2]

# count: ctx is an i32 counter per row; each row of the chunk is incremented atomically,
# and the chunk's partial (when given) receives (begin, end, pthread_self()).
# slow: the same after a busy loop, so that a launch lasts long enough for a worker to join.
KERNELS = r"""
declare i64 @pthread_self()
@sink = global i64 0

define void @count(ptr %ctx, i64 %b, i64 %e, ptr %part) {
entry:
  %any = icmp slt i64 %b, %e
  br i1 %any, label %loop, label %done
loop:
  %i = phi i64 [ %b, %entry ], [ %n, %loop ]
  %p = getelementptr i32, ptr %ctx, i64 %i
  %o = atomicrmw add ptr %p, i32 1 monotonic
  %n = add i64 %i, 1
  %m = icmp slt i64 %n, %e
  br i1 %m, label %loop, label %done
done:
  %isnull = icmp eq ptr %part, null
  br i1 %isnull, label %ret, label %rec
rec:
  store i64 %b, ptr %part
  %p1 = getelementptr i64, ptr %part, i64 1
  store i64 %e, ptr %p1
  %t = call i64 @pthread_self()
  %p2 = getelementptr i64, ptr %part, i64 2
  store i64 %t, ptr %p2
  br label %ret
ret:
  ret void
}

define void @slow(ptr %ctx, i64 %b, i64 %e, ptr %part) {
entry:
  br label %spin
spin:
  %k = phi i64 [ 0, %entry ], [ %k1, %spin ]
  %v = load volatile i64, ptr @sink
  %k1 = add i64 %k, 1
  %more = icmp slt i64 %k1, 20000
  br i1 %more, label %spin, label %work
work:
  call void @count(ptr %ctx, i64 %b, i64 %e, ptr %part)
  ret void
}
"""

HEAT = ROOT / "examples" / "heat.cn"
SUM = "graph s(a: image<f32>) -> f32 { return sum(a) }\n"


@pytest.fixture(scope="module")
def kernels() -> dict[str, int]:
    jit = Jit()
    addresses, _ = jit.compile(KERNELS, ["count", "slow"])
    kernels.jit = jit  # type: ignore[attr-defined]  # the engine must outlive the test's calls
    return addresses


@pytest.fixture(scope="module")
def pool() -> NativePool:
    return NativePool.instance()


def _launch(pool: NativePool, kernel: int, rows: int, nchunks: int, nthreads: int) -> tuple[np.ndarray, np.ndarray]:
    counts = np.zeros(max(rows, 1), np.int32)
    partials = np.zeros((max(nchunks, 1), 3), np.int64)
    pool.parallel_for(kernel, counts.ctypes.data, rows, nchunks, partials.ctypes.data, partials.strides[0], nthreads)
    return counts[:rows], partials[:nchunks]


COMBOS = [(rows, n, t) for rows in (0, 1, 2, 7, 64, 1001, 4099) for n in (0, 1, 2, 3, 8, 28, 100)
          for t in (1, 2, 3, 8)]


def test_every_row_once_and_partials_in_place(pool: NativePool, kernels: dict[str, int]) -> None:
    """Chunk i covers [rows*i/n, rows*(i+1)/n) and writes partials + i*stride; all rows
    exactly once (none when there are no chunks), on at most nthreads threads."""
    limit = pool.workers + 1
    for rows, n, t in COMBOS:
        counts, partials = _launch(pool, kernels["count"], rows, n, t)
        expected = 1 if n > 0 else 0
        assert (counts == expected).all(), (rows, n, t)
        for i in range(n):
            assert tuple(partials[i, :2]) == (rows * i // n, rows * (i + 1) // n), (rows, n, t, i)
        if n:
            assert len(set(partials[:, 2])) <= min(max(t, 1), limit), (rows, n, t)


def test_one_thread_or_one_chunk_stays_on_the_caller(pool: NativePool, kernels: dict[str, int]) -> None:
    me = threading.get_ident()  # pthread_self() on POSIX
    for rows, n, t in ((1000, 8, 1), (1000, 1, 8), (5, 1, 2)):
        _, partials = _launch(pool, kernels["slow"], rows, n, t)
        assert set(partials[:, 2]) == {me}


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: the pool has no workers")
def test_workers_take_chunks(pool: NativePool, kernels: dict[str, int]) -> None:
    """Workers exist after a parallel launch and run some of the chunks: over up to 5000
    launches of slow chunks (it stops at the first helped one; many, so that a worker
    descheduled for a while on a busy machine still gets its turn), at least one chunk
    ran on a thread other than the caller."""
    me = threading.get_ident()
    helped = False
    for _ in range(5000):
        counts, partials = _launch(pool, kernels["slow"], 64, 8, 2)
        assert (counts == 1).all()
        if set(partials[:, 2]) - {me}:
            helped = True
            break
    assert pool.running() == pool.workers
    assert helped


def test_concurrent_callers(pool: NativePool, kernels: dict[str, int]) -> None:
    """8 Python threads launch at once: the one owning the workers shares them, the
    others run their chunks themselves; every launch is complete when it returns."""
    failures: list[str] = []

    def caller(seed: int) -> None:
        rows = 500 + 37 * seed
        for call in range(200):
            counts, _ = _launch(pool, kernels["count" if call % 2 else "slow"], rows, 8 + seed, 2 + seed % 3)
            if not (counts == 1).all():
                failures.append(f"thread {seed} call {call}")

    threads = [threading.Thread(target=caller, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_programs_from_eight_threads() -> None:
    """8 threads, each with its own heat and sum programs (llvm, parallel launches),
    call them 100 times; every result equals a single-threaded run's (heat is pointwise;
    the sum's float64 partials of these float32 values are exact in any grouping)."""
    rng = np.random.default_rng(0)
    u0 = rng.random((256, 256), np.float32)
    a = rng.random((512, 512), np.float32)
    heat = [ccomp.compile(HEAT, target="llvm") for _ in range(8)]
    sums = [ccomp.compile(SUM, target="llvm") for _ in range(8)]
    threads_before = heat[0].device.threads, sums[0].device.threads
    heat[0].device.threads = sums[0].device.threads = 1
    want_heat = np.array(heat[0](u0=u0, steps=4))
    want_sum = sums[0](a=a)
    heat[0].device.threads, sums[0].device.threads = threads_before
    assert want_sum == np.float32(a.sum(dtype=np.float64))
    failures: list[str] = []

    def caller(i: int) -> None:
        for call in range(100):
            if not np.array_equal(heat[i](u0=u0, steps=4), want_heat):
                failures.append(f"heat: thread {i} call {call}")
            if sums[i](a=a) != want_sum:
                failures.append(f"sum: thread {i} call {call}")

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


EXIT_SCRIPT = """
import sys, threading, time
from pathlib import Path
import numpy as np
import ccomp
prog = ccomp.compile(Path(sys.argv[1]), target="llvm")
u0 = np.random.default_rng(1).random((512, 512), np.float32)
out = prog(u0=u0, steps=3)
assert out.shape == (512, 512)
if sys.argv[2] == "sleeping":
    time.sleep(0.3)  # far past the idle spin: the workers are asleep
elif sys.argv[2] == "launching":  # a daemon thread still launching as the interpreter exits
    threading.Thread(target=lambda: [prog(u0=u0, steps=2) for _ in range(10**6)], daemon=True).start()
    time.sleep(0.05)
"""


@pytest.mark.parametrize("state", ["spinning", "sleeping", "launching"])
def test_exit_with_workers_alive(state: str) -> None:
    """A process exits 0, silently, with its workers spinning, asleep, or busy with a
    daemon thread's launches (the atexit hook waits for the launch, then joins them)."""
    res = subprocess.run([sys.executable, "-c", EXIT_SCRIPT, str(HEAT), state], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert (res.returncode, res.stderr) == (0, "")


INTERRUPT_SCRIPT = """
import sys
from pathlib import Path
import numpy as np
import ccomp
prog = ccomp.compile(Path(sys.argv[1]), target="llvm")
u0 = np.random.default_rng(1).random((1024, 1024), np.float32)
prog(u0=u0, steps=1)
try:
    print("ready", flush=True)
    while True:
        prog(u0=u0, steps=20)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


def test_ctrl_c_reaches_python_during_parallel_launches() -> None:
    """SIGINT while parallel launches run: workers block every signal, so the Python
    thread gets it, as a KeyboardInterrupt once the launch under way returns."""
    child = subprocess.Popen([sys.executable, "-c", INTERRUPT_SCRIPT, str(HEAT)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=120)
    finally:
        child.kill()
    assert (child.returncode, out, err) == (0, "interrupted\n", "")


SHUTDOWN_SCRIPT = """
import os, sys
import numpy as np
from ccomp.runtime.devices.jit import Jit
from ccomp.runtime.devices.native_pool import NativePool
sys.path.insert(0, sys.argv[1])
from test_native_pool import KERNELS
jit = Jit()
count = jit.compile(KERNELS, ["count"])[0]["count"]
pool = NativePool.instance()

def check(rows, n, t):
    c = np.zeros(rows, np.int32)
    pool.parallel_for(count, c.ctypes.data, rows, n, 0, 0, t)
    assert (c == 1).all()

assert pool.running() == 0  # lazily: no worker before the first parallel launch
check(1000, 8, 1)
assert pool.running() == 0  # nor after a serial one
check(1000, 8, 2)
assert pool.running() == pool.workers
pid = os.fork()
if pid == 0:  # the child has no worker threads: it must start its own, not wait for the parent's
    try:
        assert pool.running() == 0
        check(1000, 8, 2)
        assert pool.running() == pool.workers
    except BaseException:
        os._exit(1)
    os._exit(0)
assert os.waitpid(pid, 0)[1] == 0
pool.shutdown()
assert pool.running() == 0
check(1000, 8, 2)  # after shutdown: correct, on the calling thread
assert pool.running() == 0
pool.shutdown()  # idempotent
print("ok")
"""


@pytest.mark.skipif(not hasattr(os, "fork") or (os.cpu_count() or 1) < 2, reason="needs fork and two cores")
def test_lazy_start_fork_and_shutdown() -> None:
    res = subprocess.run([sys.executable, "-c", SHUTDOWN_SCRIPT, str(Path(__file__).parent)], capture_output=True,
                         text=True, cwd=ROOT, timeout=120)
    assert (res.returncode, res.stdout, res.stderr) == (0, "ok\n", "")
