"""The process's native worker pool: parallel kernel launches without Python in the loop.

A Python ``ThreadPoolExecutor`` cost more per launch than it gained on a 2-core machine
(waking a helper through Python locks and the GIL took tens of microseconds). This pool
is LLVM IR (``native_pool_ir``) JIT-compiled once per process with its own MCJIT
engine: persistent pthreads that take work through atomics, spin briefly when idle
and then sleep on a condition variable. No C compiler is involved, at install time or
at run time; only llvmlite and the libc/libpthread symbols already in the process.

The C-ABI entry point, whose address is ``NativePool.parallel_for_address`` so that
native code (the host schedule lowered to LLVM) can call it directly::

    void ccomp_parallel_for(ptr kernel, ptr ctx, i64 rows, i64 nchunks,
                            ptr partials, i64 partial_stride, i64 nthreads)

``kernel`` has the kernel ABI of ``llvm_abi`` (``void (ptr ctx, i64 begin, i64 end,
ptr partial)``); chunk ``i`` covers rows ``[rows*i/nchunks, rows*(i+1)/nchunks)`` with
``partial = partials + i*partial_stride`` (``rows * nchunks`` must fit in 63 bits, and
``nchunks`` in 31 or the launch runs serially); at most ``nthreads`` threads work on it,
the caller included; it returns when every chunk is done. ``nchunks <= 1`` or
``nthreads <= 1`` runs on the calling thread without touching any shared word. One
caller at a time owns the workers; a caller that finds them busy (another thread is
launching) runs its own chunks on its own thread, so concurrent calls are correct and
never wait for each other. A kernel must not call it reentrantly for parallelism (it
would find the pool busy and run serially, which is correct but not parallel).

Workers are created on the first parallel launch (``os.cpu_count() - 1`` of them: the
caller works too), blocked for every signal. The GIL is not held by native code: ctypes
releases it for the foreign call and workers never touch Python. An ``atexit`` hook
stops and joins them before the interpreter tears down; the JIT engine holding their
code is referenced from this module's global ``_POOL`` so that it is never freed while
a worker may run. A forked child forgets the parent's workers and starts its own.
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import logging
import os
import signal
import threading
import time

import llvmlite.binding as llvm

from ccomp.runtime.devices.jit import Jit
from ccomp.runtime.devices.native_pool_ir import SYMBOLS, pool_ir

log = logging.getLogger(__name__)

SPIN_US = 50.0  # how long an idle worker (and a launcher awaiting others' chunks) spins before sleeping
_PROBE_ITERATIONS = 4000

_PARALLEL_FOR = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                                 ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64)
_VOID = ctypes.CFUNCTYPE(None)
_SET = ctypes.CFUNCTYPE(None, ctypes.c_int64)
_COUNT = ctypes.CFUNCTYPE(ctypes.c_int64)
_PROBE = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64)

_POOL: NativePool | None = None  # the process's pool; keeps its engine alive while workers run
_POOL_LOCK = threading.Lock()


def _load_thread_library() -> None:
    """Make libc's (and, on older glibc, libpthread's) symbols visible to the JIT linker."""
    for name in ("c", "pthread"):
        path = ctypes.util.find_library(name)
        if path is not None:
            llvm.load_library_permanently(path)


class NativePool:
    """The worker pool of this process; get it with :meth:`instance`."""

    def __init__(self, workers: int):
        """Compile the pool for ``workers`` threads (created later, on the first parallel
        launch) and calibrate the idle spin to about ``SPIN_US`` microseconds."""
        self.workers = workers
        self.jit = Jit(opt_level=2)
        _load_thread_library()
        text = pool_ir(workers, int(signal.SIG_BLOCK), int(signal.SIG_SETMASK))
        addresses, _ = self.jit.compile(text, SYMBOLS)
        self.parallel_for_address: int = addresses["ccomp_parallel_for"]
        self._parallel_for = _PARALLEL_FOR(self.parallel_for_address)
        self._stop = _VOID(addresses["ccomp_pool_stop"])
        self._after_fork = _VOID(addresses["ccomp_pool_after_fork"])
        self._set_spin = _SET(addresses["ccomp_pool_set_spin"])
        self._running = _COUNT(addresses["ccomp_pool_workers"])
        self._probe = _PROBE(addresses["ccomp_pool_spin_probe"])
        self.spin_iterations = self.calibrate(SPIN_US)

    @classmethod
    def instance(cls) -> NativePool:
        """The process's pool, compiled on first use; its shutdown is registered with
        ``atexit`` and its reset with ``os.register_at_fork``."""
        global _POOL
        pool = _POOL
        if pool is None:
            with _POOL_LOCK:
                if _POOL is None:
                    created = cls(max(0, (os.cpu_count() or 1) - 1))
                    atexit.register(created.shutdown)
                    if hasattr(os, "register_at_fork"):
                        os.register_at_fork(after_in_child=created._after_fork)
                    _POOL = created
                    log.info("native pool: compiled for %d worker(s), idle spin %d iterations",
                             created.workers, created.spin_iterations)
                pool = _POOL
        return pool

    def parallel_for(self, kernel: int, ctx: int, rows: int, nchunks: int, partials: int = 0, stride: int = 0,
                     nthreads: int = 2) -> None:
        """Run ``kernel`` (an address, kernel ABI) over ``rows`` in ``nchunks`` chunks on at
        most ``nthreads`` threads; returns when all are done. The GIL is released for the
        whole call, so a Ctrl-C is seen when it returns, once every chunk has run."""
        self._parallel_for(kernel, ctx, rows, nchunks, partials, stride, nthreads)

    def running(self) -> int:
        """How many workers exist now (0 before the first parallel launch and after shutdown)."""
        return int(self._running())

    def calibrate(self, microseconds: float) -> int:
        """Set the idle spin to about ``microseconds``, from the time of one pause
        iteration measured here (the fastest of three probes); returns the iterations."""
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            self._probe(_PROBE_ITERATIONS)
            best = min(best, time.perf_counter() - start)
        per_iteration = max(best / _PROBE_ITERATIONS, 1e-9)
        iterations = max(16, int(microseconds * 1e-6 / per_iteration))
        self._set_spin(iterations)
        self.spin_iterations = iterations
        return iterations

    def shutdown(self) -> None:
        """Stop and join the workers (after a launch in progress ends). Later launches,
        Python or native, run on their calling thread. Idempotent."""
        self._stop()
