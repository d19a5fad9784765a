"""Runs a host schedule the LLVM backend compiled to native code (``native_host_abi``).

The Python side of a call is small and fixed: write each input's address and sizes
into preallocated argument words, make one foreign call (ctypes releases the GIL),
and turn the output words back into arrays. Everything between — loops, launches,
sizes, swaps, checks, reduction combines — runs natively, so a repeat zone of
thousands of launches costs no Python per launch.

Python stays in charge of what it does best and what users see: buffers come from
the program's :class:`BufferPool` (reuse, budget, reclaimed outputs) through the
``RT_ALLOC``/``RT_RELEASE`` callbacks (or, for a call with the last call's input
shapes, allocated before it: ``native_buffers.Prepared``); a failed ``kern.check`` becomes the same
located :class:`ScheduleCheckError` as under the Python host; ``progress(done,
total)`` and Ctrl-C are served by ``RT_POLL`` between iterations of an outermost
repeat zone; the launch log gives ``Program.launches``. Whatever a callback raises
is kept and re-raised once the native call has returned, since an exception cannot
cross native frames.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from xdsl.dialects import func, memref, scf
from xdsl.dialects.builtin import MemRefType

from ccomp.runtime.devices import native_host_abi as A
from ccomp.runtime.devices.base import address_of, element_layout
from ccomp.runtime.native_buffers import BufferHeaders, Prepared, words as _words
from ccomp.runtime.native_status import logged_launches, stop_error
from ccomp.runtime.pool import BufferPool, reclaim_outputs
from ccomp.runtime.profile_native import NativeStamps
from ccomp.runtime.sigint import call_deferring_sigint

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from ccomp.runtime.devices.llvm import LLVMDevice

Progress = Callable[[int, int], None]
LOG_ENTRIES = 1024
POLL_SECONDS = 0.05  # without a progress callback, Ctrl-C is seen within this much
_clock = time.perf_counter


def _weak_method(runner: Any, name: str) -> Callable[..., Any]:
    """``runner.name`` without a reference to ``runner``: the runner holds its ctypes
    callbacks, so bound methods would make a cycle that keeps it, its device and the
    device's JIT engine (native code) alive until the cyclic GC happens to run."""
    ref, method = weakref.ref(runner), getattr(type(runner), name)  # no bound method per call

    def call(*args: Any) -> Any:
        return method(ref(), *args)  # only ever called inside the runner's own native call
    return call


class NativeHostRunner(BufferHeaders):
    """Drop-in for :class:`ccomp.runtime.host.HostRunner` on the llvm device when the
    backend lowered ``fn`` natively (``device.hosts`` has its symbol)."""

    def __init__(self, fn: func.FuncOp, device: LLVMDevice, pool: BufferPool | None = None,
                 abi: A.HostABI | None = None):
        from ccomp.runtime.devices.llvm import CHUNKS_PER_THREAD, MIN_PARALLEL_POINTS

        self.fn, self.device = fn, device
        self.pool = pool or BufferPool(device)
        self.abi = abi = abi or A.describe_host(fn)
        self.entry = A.HOST_FN(device.hosts[abi.symbol][0])
        self.timings: dict[str, float] = {}
        self.handed_out: list[tuple[MemRefType, tuple[int, ...], np.ndarray]] = []
        self.rt = np.zeros(A.RT_WORDS, np.int64)
        self.args = np.zeros(max(abi.arg_words, 1), np.int64)
        self.outs = np.zeros(max(abi.result_words, 1), np.int64)
        self.status = np.zeros(abi.status_words, np.int64)
        self.log = np.zeros(LOG_ENTRIES * A.LOG_WORDS, np.int64)
        self.headers = np.zeros((len(abi.arg_types), 3), np.int64)  # inputs' headers: never released
        self.boxes: list[np.ndarray | None] = []
        # (dtype, first word, rank) of each buffer argument, asked of the xDSL types once
        self.arg_layouts = [(element_layout(t.element_type).dtype, abi.arg_offsets[i], t.get_num_dims())
                            if isinstance(t, MemRefType) else None for i, t in enumerate(abi.arg_types)]
        for i, t in enumerate(abi.arg_types):
            if isinstance(t, MemRefType):
                self.headers[i, 1] = -1 - i
                self.args[abi.arg_offsets[i]] = address_of(self.headers[i])
                self.boxes.append(None)
            else:
                layout = element_layout(t)
                box = np.zeros(layout.lanes, layout.dtype)
                self.args[abi.arg_offsets[i]] = address_of(box)
                self.boxes.append(box)
        self._callbacks = tuple(kind(_weak_method(self, name)) for kind, name in (
            (A.ALLOC_FN, "_alloc"), (A.RELEASE_FN, "_release"), (A.POLL_FN, "_poll"), (A.ALIAS_FN, "_alias"),
            (A.FLUSH_FN, "_flush")))
        for slot, cb in zip((A.RT_ALLOC, A.RT_RELEASE, A.RT_POLL, A.RT_ALIAS, A.RT_FLUSH), self._callbacks):
            self.rt[slot] = ctypes.cast(cb, ctypes.c_void_p).value
        self.rt[A.RT_PARALLEL_FOR] = device.parallel_for_address()
        self.rt[A.RT_THREADS] = device.threads
        self.rt[A.RT_LOG] = address_of(self.log)
        self.rt[A.RT_LOG_CAPACITY] = LOG_ENTRIES
        self.rt[A.RT_POLL_NS] = int(POLL_SECONDS * 1e9)
        self.rt[A.RT_MIN_PARALLEL] = MIN_PARALLEL_POINTS
        self.rt[A.RT_CHUNKS_PER_THREAD] = CHUNKS_PER_THREAD
        self.prepared = Prepared()  # buffers the native code takes without a callback
        self.rt[A.RT_PREPARED] = address_of(self.prepared.table)
        self.alloc_calls = 0  # RT_ALLOC callbacks, over all calls (for tests)
        self.pointers = tuple(address_of(a) for a in (self.rt, self.args, self.outs, self.status))
        # (first word, scalar layout or None for a buffer) of each result
        self.result_specs = [(off, None if isinstance(t, MemRefType) else element_layout(t))
                             for t, off in zip(abi.result_types, abi.result_offsets, strict=True)]
        # the same words as memoryviews: reading one gives an int, not a NumPy scalar
        self.rt_words, self.arg_words, self.out_words = (_words(a) for a in (self.rt, self.args, self.outs))
        # one tuple per argument: (scalar box, dtype, first word, rank, header words, type)
        self.plan = [(box, *(layout or (None, 0, 0)), _words(row), t) for box, layout, row, t
                     in zip(self.boxes, self.arg_layouts, self.headers, abi.arg_types, strict=True)]
        # per call
        # (type, the rt words holding its dims) of each allocation
        self.alloc_plan = [(t, self.rt_words[A.RT_DIMS: A.RT_DIMS + t.get_num_dims()]) for t in abi.allocs]
        # alloc_index -> the op's location, for an AllocationError (describe_host's walk order)
        self.alloc_where = [op.location for op in fn.walk() if isinstance(op, memref.AllocOp)]
        self.init_headers()
        self.inputs: list[np.ndarray | None] = []
        self.progress: Progress | None = None
        self.error: BaseException | None = None
        self.logged: list[np.ndarray] = []
        self.profiler: Any = None  # a runtime.profile.Profiler while a profiled call runs
        self.stamps = NativeStamps(LOG_ENTRIES)  # per-launch timestamps, when profiling
        self.interrupted: list[Any] | None = None  # SIGINTs caught during a native call (sigint.py)
        self.loops = any(isinstance(op, scf.ForOp) for op in fn.walk())  # it polls: Ctrl-C matters

    # -- callbacks (run with the GIL, inside the native call) ---------------------------

    def _alloc(self, index: int, dims_address: int) -> int:
        try:
            self.alloc_calls += 1
            t, dims = self.alloc_plan[index]
            dims = tuple(dims)
            self.prepared.note(index, dims)
            return self.hold(self.pool.alloc(t, dims, self.alloc_where[index]))
        except BaseException as exc:  # noqa: BLE001 - re-raised after the native call returns
            self.error = exc
            return 0

    def _poll(self, done: int, total: int) -> int:
        try:
            if self.interrupted:
                return 1
            if self.progress is not None:
                self.progress(done, total)
            return 0
        except BaseException as exc:  # noqa: BLE001 - Ctrl-C lands here too: Python runs its handler now
            self.error = exc
            return 1

    def _alias(self, kernel: int) -> int:
        try:
            return self.device.aliasing_address(self.abi.kernels[kernel])
        except BaseException as exc:  # noqa: BLE001
            self.error = exc
            return 0

    def _flush(self) -> None:
        self.logged.append(self.log.copy())
        self.stamps.flush(self.rt)
        self.rt[A.RT_LOG_COUNT] = 0

    # -- running ---------------------------------------------------------------------

    @property
    def launches(self) -> list[tuple[str, tuple[int, ...]]]:
        """The kernels the last call ran, with their grids, from the native launch log."""
        current = self.log[: self.rt_words[A.RT_LOG_COUNT] * A.LOG_WORDS]
        return logged_launches(self.abi, self.device, [*self.logged, current])

    def run(self, args: Sequence[Any], progress: Progress | None = None) -> list[Any]:
        """As :meth:`HostRunner.run`: arrays and scalars in, arrays and NumPy scalars out."""
        if self.handed_out:
            self.reclaim()
        self.pool.begin_call()
        self.progress, self.error, self.logged = progress, None, []
        try:
            return self._run(args)
        except BaseException as exc:
            if exc.__traceback__ is not None:
                traceback.clear_frames(exc.__traceback__.tb_next)
            raise
        finally:
            self.free_headers.extend(self.live)
            self.live.clear()  # every buffer of the call not handed out goes back to the pool
            self.inputs = []
            self.progress = None

    def _run(self, args: Sequence[Any]) -> list[Any]:
        start = _clock()
        words = self.arg_words
        self.inputs = inputs = []
        key = []  # what the sizes of the call's allocations follow from
        for (box, dtype, off, rank, header, t), value in zip(self.plan, args, strict=True):
            if box is not None:
                inputs.append(None)
                box[...] = value
                key.append(box.tobytes())
                continue
            if type(value) is not np.ndarray or value.dtype != dtype or not value.flags.c_contiguous:
                value = self.device.upload(t, value)  # FastBinder's values never need this
            inputs.append(value)
            header[0] = 1
            header[2] = words[off + 1] = address_of(value)
            shape = value.shape
            key.append(shape)
            for d in range(rank):
                words[off + 2 + d] = shape[d]
        self.prepared.prepare(self, key)
        rt = self.rt_words
        rt[A.RT_PROGRESS] = self.progress is not None
        rt[A.RT_LAST_POLL] = time.monotonic_ns()
        rt[A.RT_LOG_COUNT] = 0
        profiling = self.profiler is not None
        if profiling:
            self.stamps.start(self.rt)
        run = _clock()
        code = None
        try:
            if self.loops and threading.current_thread() is threading.main_thread():
                code = call_deferring_sigint(lambda: self.entry(*self.pointers), self)
            else:
                code = self.entry(*self.pointers)
        finally:
            self.prepared.finish(self, code == A.OK)
            if profiling:
                self.rt[A.RT_PROFILE] = 0
        done = _clock()
        self.timings = {"upload": run - start, "run": done - run}
        if code != A.OK:
            self._raise(code)
        outs = self._outputs()
        self.timings["download"] = _clock() - done
        if profiling:
            self.stamps.record(self.profiler, self.device.name, self.launches, self.timings, start,
                               int(self.rt[A.RT_LOG_COUNT]))
        return outs

    def _raise(self, code: int) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        raise stop_error(self.abi, self.status, code, self.fn.sym_name.data)

    def _outputs(self) -> list[Any]:
        outs, seen, words = [], set(), self.out_words
        for off, layout in self.result_specs:
            if layout is not None:
                value = self.outs[off:].view(layout.dtype)[: layout.lanes].copy()
                outs.append(value[0] if layout.lanes == 1 else value)
                continue
            ident = self.header_ids.get(words[off])
            if ident is None:  # an input's header (its id says which input)
                ident = ctypes.c_int64.from_address(words[off] + 8).value
            if ident < 0:  # an input handed back: the caller's array, so a copy
                outs.append(np.array(self.inputs[-1 - ident], copy=True))
                continue
            buf = self.live[ident]
            array = buf.handle
            if ident in seen:
                outs.append(np.array(array, copy=True))
                continue
            seen.add(ident)
            buf.detach()  # the caller owns this storage now
            self.handed_out.append((buf.type, buf.dims, array))
            outs.append(array)
        return outs

    def reclaim(self) -> None:
        """As :meth:`HostRunner.reclaim`: take back earlier outputs the caller dropped."""
        self.handed_out = reclaim_outputs(self.pool, self.handed_out)



def make_runner(fn: func.FuncOp, device: Any, pool: BufferPool) -> Any:
    """The runner for ``fn``: native when the device compiled its host schedule (the
    llvm target), else the Python :class:`HostRunner`. ``CCOMP_NATIVE_HOST=0`` keeps
    the Python host everywhere (to compare the two, or to rule the native one out)."""
    from ccomp.runtime.host import HostRunner

    native = getattr(device, "hosts", {}).get(A.host_symbol(fn))
    if native is None or os.environ.get("CCOMP_NATIVE_HOST", "1") == "0":
        return HostRunner(fn, device, pool)
    abi = A.describe_host(fn)  # prints the schedule: once, shared with the runner
    if native[1] != abi.fingerprint:
        log.warning("llvm: the native host of @%s was compiled from another schedule than the one loaded; "
                    "running the loaded schedule on the Python host", fn.sym_name.data)
        return HostRunner(fn, device, pool)
    return NativeHostRunner(fn, device, pool, abi)


__all__ = ["NativeHostRunner", "make_runner"]
