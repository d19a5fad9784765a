"""The LLVM device: kernels JIT-compiled for the host CPU, run on all of its cores.

Buffers are plain C-contiguous NumPy arrays (a ``memref<?x?xvector<4xf32>>`` of size
``h x w`` is an ``(h, w, 4)`` float32 array) that kernels read and write in place, so
upload and download copy nothing: an input array of the right dtype and layout is
the buffer, and an output buffer is handed to the caller as is.

The device compiles LLVM IR text the backend generated (``llvm_abi.LLVMCode``), in
memory or read back from a build folder, and never lowers IR itself: the kernels'
ABI is read off the ``kern.kernel`` ops, which is all it needs of the module.

A launch splits the index space's rows (see ``llvm_abi``) into
contiguous chunks and calls the compiled kernel once per chunk, from the launching
thread and ``threads - 1`` pool threads claiming chunks as they become free. ctypes
releases the GIL for the duration of a foreign call, so the chunks run truly in
parallel; small launches run on the calling thread alone, where waking a helper would
cost more than the work.
"""

from __future__ import annotations

import ctypes
import logging
import math
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from xdsl.dialects import scf
from xdsl.dialects.builtin import MemRefType, ModuleOp

from ccomp.dialects.kern import KernelOp
from ccomp.runtime.devices.base import Device, array_shape, element_layout
from ccomp.runtime.devices.jit import Jit
from ccomp.runtime.devices.llvm_abi import KernelABI, LLVMCode, describe_kernel

log = logging.getLogger(__name__)

_KERNEL_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p)
MIN_PARALLEL_POINTS = 1 << 15  # below this a launch runs on the calling thread
MIN_PARALLEL_LOOPING = 1 << 10  # the same for kernels whose points loop (rows of a sparse matrix)
CHUNKS_PER_THREAD = 4  # more chunks than threads evens out uneven rows


@dataclass(frozen=True)
class _Slot:
    """One binding, as a launch needs it: worked out once per kernel at ``load``."""

    index: int
    buffer: bool
    dtype: np.dtype
    lanes: int
    rank: int  # memref rank (buffers)
    ndim: int  # NumPy ndim of a buffer: rank, plus the lanes axis of vector elements
    dims_offset: int
    written: bool
    type_text: str


@dataclass
class _Kernel:
    abi: KernelABI
    fn: Any  # the ctypes entry point
    may_alias: str  # LLVM IR of the variant without noalias, compiled on demand
    slots: tuple[_Slot, ...]
    loops: bool = False  # its points run loops: fewer points already make a launch worth sharing
    aliasing_fn: Any = None


def _slots(abi: KernelABI) -> tuple[_Slot, ...]:
    slots = []
    for b in abi.bindings:
        layout = element_layout(b.type.element_type if b.is_buffer else b.type)  # type: ignore[attr-defined]
        ndim = b.rank + (1 if layout.lanes > 1 else 0)
        slots.append(_Slot(b.index, b.is_buffer, layout.dtype, layout.lanes, b.rank, ndim, b.dims_offset,
                           b.written, str(b.type)))
    return tuple(slots)


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]  # cheaper than a.ctypes.data on every launch


class LLVMDevice(Device):
    """Runs ``kern`` kernels as native code via llvmlite MCJIT on ``threads`` cores."""

    name = "llvm"
    upload_copies = False  # host memory is device memory: a fitting array is used as is
    download_is_view = True

    def __init__(self, threads: int | None = None, opt_level: int = 3, widen: bool = True):
        """``threads``: worker threads per launch (default: all cores); ``widen``: ask the
        code generator for vector-typed bodies run several columns per iteration (see
        ``codegen_options``)."""
        self.threads = max(1, threads or os.cpu_count() or 1)
        self.widen = widen
        self.jit = Jit(opt_level)
        self.kernels: dict[str, _Kernel] = {}
        self.optimised_ir = ""  # the last compiled module, optimised (for inspection)
        self._pool: ThreadPoolExecutor | None = None
        self._compiling = threading.Lock()  # one JIT, possibly many launching threads

    # -- compilation ---------------------------------------------------------------

    def codegen_options(self) -> dict[str, Any]:
        return {"widen": self.widen}

    def load(self, module: ModuleOp, code: LLVMCode) -> None:
        """JIT-compile ``code`` (its ``may_alias`` variants later, when a launch needs one)."""
        start = time.perf_counter()
        kernels = [op for op in module.walk() if isinstance(op, KernelOp)]
        with self._compiling:
            addresses, self.optimised_ir = self.jit.compile(code.module, [k.kernel_name for k in kernels])
        for op in kernels:
            name = op.kernel_name
            abi = describe_kernel(op, name)
            looping = any(isinstance(inner, scf.ForOp) for inner in op.walk())
            self.kernels[name] = _Kernel(abi, _KERNEL_FN(addresses[name]), code.may_alias.get(name, ""), _slots(abi),
                                         looping)
        log.info("llvm: loaded %d kernel(s) in %.1f ms", len(kernels), 1e3 * (time.perf_counter() - start))

    def _aliasing_variant(self, kernel: _Kernel) -> Any:
        """The kernel compiled without ``noalias``, for launches binding overlapping buffers."""
        with self._compiling:
            if kernel.aliasing_fn is None:
                if not kernel.may_alias:
                    raise RuntimeError(f"llvm: @{kernel.abi.name} binds overlapping buffers and its code has "
                                       "no may-alias variant")
                addresses, _ = self.jit.compile(kernel.may_alias, [kernel.abi.name])
                kernel.aliasing_fn = _KERNEL_FN(addresses[kernel.abi.name])
        return kernel.aliasing_fn

    # -- buffers -------------------------------------------------------------------

    def alloc(self, memref: MemRefType, dims: Sequence[int]) -> np.ndarray:
        return np.empty(array_shape(memref, dims), dtype=element_layout(memref.element_type).dtype)

    def upload(self, memref: MemRefType, array: np.ndarray) -> np.ndarray:
        """The array itself when it is C-contiguous of the element dtype, else a copy that
        is (``upload_copies`` is False: the host treats the result as the caller's)."""
        return np.ascontiguousarray(array, dtype=element_layout(memref.element_type).dtype)

    def download(self, buffer: np.ndarray) -> np.ndarray:
        """The buffer itself (``download_is_view``): the host copies when it must."""
        return buffer

    # -- launches ------------------------------------------------------------------

    def launch(self, kernel: str, grid: Sequence[int], args: Sequence[Any]) -> Any:
        k = self.kernels.get(kernel)
        if k is None:
            raise KeyError(f"llvm device: no loaded kernel @{kernel}")
        abi = k.abi
        grid = tuple(int(g) for g in grid)
        if len(grid) != abi.rank or len(args) != len(k.slots):
            raise ValueError(f"@{kernel} takes a rank-{abi.rank} grid and {len(k.slots)} arguments")
        words, keep, spans = _pack(abi, k.slots, args)
        words[abi.extents_offset: abi.extents_offset + abi.rank] = grid
        ctx = np.array(words, np.int64)
        fn = self._aliasing_variant(k) if _overlapping(spans) else k.fn
        points = math.prod(grid) * (MIN_PARALLEL_POINTS // MIN_PARALLEL_LOOPING if k.loops else 1)
        chunks = self._chunks(abi.rows(grid) if min(grid) > 0 else 0, points)
        if abi.reduce is None:
            partials, base, stride = None, 0, 0
        else:
            partials = np.zeros((max(len(chunks), 1), abi.reduce_lanes), np.float64 if abi.reduce_float else np.int64)
            base, stride = _address(partials), partials.strides[0]
        addr = _address(ctx)
        calls = [(addr, lo, hi, base + i * stride) for i, (lo, hi) in enumerate(chunks)]
        if len(calls) == 1:
            fn(*calls[0])
        elif calls:
            run = _Chunks(fn, calls, (ctx, keep, partials, args))
            try:
                for _ in range(min(self.threads, len(calls)) - 1):
                    self._executor().submit(run.work, True)
                run.work()  # the caller works too, from the first moment
                run.finished.wait()
                run.hold = None  # a helper still queued must not keep buffers referenced
            except BaseException:  # Ctrl-C: run no more chunks, let running ones end
                run.stop()
                raise
        del keep, ctx
        return None if partials is None else _combine(abi, partials[: len(chunks)])

    def _chunks(self, rows: int, points: int) -> list[tuple[int, int]]:
        if rows == 0:
            return []
        if self.threads == 1 or points < MIN_PARALLEL_POINTS or rows == 1:
            return [(0, rows)]
        n = min(rows, self.threads * CHUNKS_PER_THREAD)
        edges = [rows * i // n for i in range(n + 1)]
        return [(edges[i], edges[i + 1]) for i in range(n)]

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="ccomp-llvm")
        return self._pool

    def close(self) -> None:
        """Stop the worker threads (they also stop when the device is collected)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


class _Chunks:
    """The chunk calls of one launch, claimed one at a time by whichever thread is free.

    Waking a pool thread costs tens of microseconds on a busy machine, so the launching
    thread does not wait for helpers to start: it claims chunks itself, and waits only
    for chunks already under way. A helper that wakes after the last chunk was claimed
    finds nothing to do and touches nothing of the launch.

    A ``KeyboardInterrupt`` reaches only the launching thread, between its chunks or
    while it waits: ``stop`` then cancels the unclaimed chunks and waits for the
    helpers' running ones (one chunk each at most), so the run stops promptly and no
    kernel writes into buffers the pool may hand out again. ``hold`` (the launch's
    context words and buffers) stays referenced while a helper holds ``work``."""

    def __init__(self, fn: Any, calls: list[tuple[int, int, int, int]], hold: Any = None):
        self.fn, self.calls, self.hold = fn, calls, hold
        self.claimed = self.done = self.busy = 0  # busy: chunks helpers are running
        self.lock = threading.Lock()
        self.finished = threading.Event()
        self.idle = threading.Condition(self.lock)

    def work(self, helper: bool = False) -> None:
        while True:
            with self.lock:
                i = self.claimed
                if i == len(self.calls):
                    return
                self.claimed += 1
                self.busy += helper
            self.fn(*self.calls[i])  # ctypes releases the GIL for the call
            with self.lock:
                self.done += 1
                self.busy -= helper
                if self.done == len(self.calls):
                    self.finished.set()
                if not self.busy:
                    self.idle.notify_all()

    def stop(self) -> None:
        with self.lock:
            self.claimed = len(self.calls)
            while self.busy:
                self.idle.wait()


def _pack(abi: KernelABI, slots: tuple[_Slot, ...], args: Sequence[Any]) -> tuple[list[int], list[np.ndarray], list[tuple[int, int, bool]]]:
    """The ``ctx`` words of a launch (extents left to fill), the scalar boxes they point
    into, and each buffer's byte span with whether the kernel writes it."""
    words = [0] * abi.ctx_words
    keep: list[np.ndarray] = []
    spans: list[tuple[int, int, bool]] = []
    for slot, value in zip(slots, args, strict=True):
        if slot.buffer:
            if type(value) is not np.ndarray or value.dtype != slot.dtype or not value.flags.c_contiguous:
                raise TypeError(f"@{abi.name} binding {slot.index}: expected a C-contiguous {slot.dtype} array")
            if value.ndim != slot.ndim or (slot.lanes > 1 and value.shape[-1] != slot.lanes):
                raise ValueError(f"@{abi.name} binding {slot.index}: array of shape {value.shape} "
                                 f"does not fit {slot.type_text}")
            start = _address(value)
            words[slot.index] = start
            words[slot.dims_offset: slot.dims_offset + slot.rank] = value.shape[: slot.rank]
            spans.append((start, start + value.nbytes, slot.written))
        else:
            box = np.array(value, slot.dtype)
            if box.size != slot.lanes:
                box = np.ascontiguousarray(np.broadcast_to(box, (slot.lanes,)))
            keep.append(box)
            words[slot.index] = _address(box)
    return words, keep, spans


def _overlapping(spans: list[tuple[int, int, bool]]) -> bool:
    """True when a buffer the kernel writes shares memory with another bound buffer."""
    for i, (s0, e0, w0) in enumerate(spans):
        for s1, e1, w1 in spans[i + 1:]:
            if (w0 or w1) and s0 < e1 and s1 < e0:
                return True
    return False


def _combine(abi: KernelABI, partials: np.ndarray) -> Any:
    """Fold the chunk partials (float64 or int64) and cast to the yielded type."""
    assert abi.reduce_type is not None
    dtype = element_layout(abi.reduce_type).dtype
    if len(partials) == 0:
        if abi.reduce == "add":
            total = np.zeros(abi.reduce_lanes, partials.dtype)
        elif abi.reduce_float:
            total = np.full(abi.reduce_lanes, np.inf if abi.reduce == "min" else -np.inf)
        else:
            info = np.iinfo(dtype) if dtype != np.bool_ else np.iinfo(np.int8)
            total = np.full(abi.reduce_lanes, info.max if abi.reduce == "min" else info.min, np.int64)
    else:
        fold = {"add": np.sum, "min": np.min, "max": np.max}[abi.reduce or "add"]
        total = fold(partials, axis=0)
    result = total.astype(dtype)
    return result if abi.reduce_lanes > 1 else result[0]
