"""The cost of a parallel launch through the native worker pool (ccomp/runtime/devices/
native_pool.py), and the heat kernel's launch time on 1 and 2 threads.

    python bench/launch.py [--calls 200000] [--size 1024]

1. An empty launch (a kernel that does nothing, ``nchunks = 2 * threads``) called many
   times from Python through ctypes, on 1 thread (the calling thread alone) and on 2
   (the caller plus a worker), best of several runs, in microseconds per launch.
2. The same from native code: a JIT-compiled loop calling ``ccomp_parallel_for`` N
   times through its address, which separates the ctypes crossing from the pool's own
   cost (what a native host schedule pays per launch).
3. examples/heat.cn's stencil kernel on a size x size grid, the device on 1 and 2
   threads: ``device.launch`` (argument packing included), fastest and median of 300
   (the median shows a busy machine; the fastest, what the pool does when both cores
   are free).

The issue's target for (1)/(2): a parallel launch on 2 threads costs at most 5 us.
Figures are wall-clock on a shared machine: run it twice and read the best.
"""

from __future__ import annotations

import argparse
import ctypes
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import ROOT  # noqa: E402

from ccomp.runtime.devices.jit import Jit  # noqa: E402
from ccomp.runtime.devices.native_pool import NativePool  # noqa: E402

# @empty: a kernel of the kernel ABI that does nothing. @loop: call the pool `calls`
# times through its address, as a native host schedule would.
LOOP_IR = r"""
define void @empty(ptr %ctx, i64 %b, i64 %e, ptr %part) {
  ret void
}

define void @loop(ptr %pf, ptr %kernel, i64 %calls, i64 %nchunks, i64 %nthreads) {
entry:
  %any = icmp sgt i64 %calls, 0
  br i1 %any, label %body, label %exit
body:
  %i = phi i64 [ 0, %entry ], [ %next, %body ]
  call void %pf(ptr %kernel, ptr null, i64 %nchunks, i64 %nchunks, ptr null, i64 0, i64 %nthreads)
  %next = add i64 %i, 1
  %more = icmp slt i64 %next, %calls
  br i1 %more, label %body, label %exit
exit:
  ret void
}
"""

_LOOP = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64)


def best_per_call(run: Callable[[int], None], calls: int, repeat: int = 5) -> float:
    """The fastest of ``repeat`` timings of ``run(calls)``, in microseconds per call."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run(calls)
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e6


def each_call(call: Callable[[], None], calls: int) -> tuple[float, float, float]:
    """Mean, median and 99.9th percentile of ``calls`` calls timed one by one, in
    microseconds: on a shared machine the mean carries rare milliseconds-long stalls
    (a thread descheduled while it holds a chunk) that the median does not."""
    clock = time.perf_counter_ns
    times = np.empty(calls, np.int64)
    for i in range(calls):
        start = clock()
        call()
        times[i] = clock() - start
    p50, p999 = np.percentile(times, [50, 99.9]) / 1e3
    return float(times.mean() / 1e3), float(p50), float(p999)


def empty_launches(calls: int) -> list[tuple[str, tuple[float, float, float], float]]:
    """Per threads (1, 2): the name, (mean, median, p99.9) us per launch from Python,
    and the best mean us per launch from native code."""
    pool = NativePool.instance()
    jit = Jit()
    addresses, _ = jit.compile(LOOP_IR, ["empty", "loop"])
    kernel, native = addresses["empty"], _LOOP(addresses["loop"])
    call = pool._parallel_for  # the ctypes function itself: no Python method frame
    rows = []
    for threads in (1, 2):
        nchunks = 2 * threads

        def from_native(n: int, t: int = threads, c: int = nchunks) -> None:
            native(pool.parallel_for_address, kernel, n, c, t)

        from_native(1000)  # the workers exist and are warm
        python = each_call(lambda t=threads, c=nchunks: call(kernel, 0, c, c, 0, 0, t), calls)
        rows.append((f"{threads} (nchunks {nchunks})", python, best_per_call(from_native, calls)))
    return rows


def heat_launches(size: int) -> list[tuple[int, float, float]]:
    """Per threads (1, 2): the fastest and the median of 300 ``device.launch`` calls of
    the heat kernel (one step, no temporal blocking) on a size x size grid, in us."""
    import ccomp

    prog = ccomp.compile(ROOT / "examples" / "heat.cn", target="llvm")
    u0 = np.random.default_rng(0).random((size, size), np.float32)
    prog(u0=u0[:8, :8].copy(), steps=1)
    kernel = prog.launches[0][0]  # one step: the plain stencil kernel
    a, b = u0.copy(), np.empty_like(u0)
    rows = []
    for threads in (1, 2):
        prog.device.threads = threads
        times = []
        for _ in range(300):
            start = time.perf_counter()
            prog.device.launch(kernel, (size, size), [a, b])
            times.append(time.perf_counter() - start)
            a, b = b, a
        times.sort()
        rows.append((threads, times[0] * 1e6, times[len(times) // 2] * 1e6))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200_000)
    ap.add_argument("--size", type=int, default=1024)
    args = ap.parse_args()
    pool = NativePool.instance()
    print(f"native pool: {pool.workers} worker(s) + the caller, idle spin {pool.spin_iterations} pause iterations")
    print(f"empty launch, us: from Python through ctypes (mean, median, p99.9 of {args.calls} calls), "
          "from native code (best mean)")
    print(f"{'threads':18} {'mean':>8} {'median':>8} {'p99.9':>9} {'native':>8}")
    for name, (mean, median, tail), native in empty_launches(args.calls):
        print(f"{name:18} {mean:8.2f} {median:8.2f} {tail:9.1f} {native:8.3f}")
    print(f"heat {args.size}x{args.size}: device.launch of the stencil kernel, us (fastest, median of 300)")
    for threads, fastest, median in heat_launches(args.size):
        print(f"  {threads} thread(s): {fastest:8.1f} fastest {median:8.1f} median")


if __name__ == "__main__":
    main()
