"""The LLVM device: kernels JIT-compiled for the host CPU, run on all of its cores.

Buffers are plain C-contiguous NumPy arrays (a ``memref<?x?xvector<4xf32>>`` of size
``h x w`` is an ``(h, w, 4)`` float32 array), so upload and download are one copy each
and kernels read and write the arrays in place.

A launch splits the index space's rows (see ``ccomp.backends.llvm.abi``) into
contiguous chunks and calls the compiled kernel once per chunk from a thread pool.
ctypes releases the GIL for the duration of a foreign call, so the chunks run truly
in parallel; small launches run on the calling thread, where a pool round trip would
cost more than the work.
"""

from __future__ import annotations

import ctypes
import logging
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from xdsl.dialects.builtin import MemRefType, ModuleOp

from ccomp.backends.llvm.abi import KernelABI
from ccomp.backends.llvm.jit import Jit
from ccomp.backends.llvm.lower import lower_module
from ccomp.runtime.device import Device, array_shape, element_layout

log = logging.getLogger(__name__)

_KERNEL_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p)
MIN_PARALLEL_POINTS = 1 << 15  # below this a launch runs on the calling thread
CHUNKS_PER_THREAD = 4  # more chunks than threads evens out uneven rows


@dataclass
class _Kernel:
    abi: KernelABI
    fn: Any  # the ctypes entry point
    module: ModuleOp  # to lower the may-alias variant on demand
    prefix: str
    aliasing_fn: Any = None


class LLVMDevice(Device):
    """Runs ``kern`` kernels as native code via llvmlite MCJIT on ``threads`` cores."""

    name = "llvm"

    def __init__(self, threads: int | None = None, opt_level: int = 3):
        self.threads = max(1, threads or os.cpu_count() or 1)
        self.jit = Jit(opt_level)
        self.kernels: dict[str, _Kernel] = {}
        self.optimised_ir = ""  # the last compiled module, optimised (for inspection)
        self._pool: ThreadPoolExecutor | None = None
        self._modules = 0

    # -- compilation ---------------------------------------------------------------

    def prepare(self, module: ModuleOp) -> None:
        start = time.perf_counter()
        prefix = f"ccomp{self._modules}_"
        self._modules += 1
        lowered = lower_module(module, prefix=prefix)
        addresses, self.optimised_ir = self.jit.compile(lowered)
        for name, abi in lowered.kernels.items():
            self.kernels[name] = _Kernel(abi, _KERNEL_FN(addresses[name]), module, prefix)
        log.info("llvm: prepared %d kernel(s) in %.1f ms", len(lowered.kernels), 1e3 * (time.perf_counter() - start))

    def _aliasing_variant(self, kernel: _Kernel) -> Any:
        """The kernel compiled without ``noalias``, for launches binding overlapping buffers."""
        if kernel.aliasing_fn is None:
            lowered = lower_module(kernel.module, prefix=kernel.prefix + "alias_", noalias=False,
                                   only=[kernel.abi.name])
            addresses, _ = self.jit.compile(lowered)
            kernel.aliasing_fn = _KERNEL_FN(addresses[kernel.abi.name])
        return kernel.aliasing_fn

    # -- buffers -------------------------------------------------------------------

    def alloc(self, memref: MemRefType, dims: Sequence[int]) -> np.ndarray:
        return np.empty(array_shape(memref, dims), dtype=element_layout(memref.element_type).dtype)

    def upload(self, memref: MemRefType, array: np.ndarray) -> np.ndarray:
        return np.array(array, dtype=element_layout(memref.element_type).dtype, order="C", copy=True)

    def download(self, buffer: np.ndarray) -> np.ndarray:
        return buffer.copy()

    # -- launches ------------------------------------------------------------------

    def launch(self, kernel: str, grid: Sequence[int], args: Sequence[Any]) -> Any:
        k = self.kernels.get(kernel)
        if k is None:
            raise KeyError(f"llvm device: no prepared kernel @{kernel}")
        abi = k.abi
        grid = tuple(int(g) for g in grid)
        if len(grid) != abi.rank or len(args) != len(abi.bindings):
            raise ValueError(f"@{kernel} takes a rank-{abi.rank} grid and {len(abi.bindings)} arguments")
        ctx, keep = self._context(abi, grid, args)
        fn = self._aliasing_variant(k) if _overlapping(abi, args) else k.fn
        rows = abi.rows(grid) if min(grid) > 0 else 0
        chunks = self._chunks(rows, int(np.prod(grid)))
        partials = np.zeros((max(len(chunks), 1), abi.reduce_lanes), np.float64 if abi.reduce_float else np.int64)
        base, stride = partials.ctypes.data, partials.strides[0]
        calls = [(ctx.ctypes.data, lo, hi, base + i * stride) for i, (lo, hi) in enumerate(chunks)]
        if len(calls) == 1:
            fn(*calls[0])
        elif calls:
            list(self._executor().map(lambda c: fn(*c), calls))
        del keep
        return None if abi.reduce is None else _combine(abi, partials[: len(chunks)])

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

    @staticmethod
    def _context(abi: KernelABI, grid: tuple[int, ...], args: Sequence[Any]) -> tuple[np.ndarray, list[np.ndarray]]:
        """The ``ctx`` word array of one launch, and the scalar boxes it points into."""
        ctx = np.zeros(abi.ctx_words, np.int64)
        keep: list[np.ndarray] = []
        for bind, value in zip(abi.bindings, args, strict=True):
            if bind.is_buffer:
                layout = element_layout(bind.type.element_type)  # type: ignore[attr-defined]
                if not isinstance(value, np.ndarray) or value.dtype != layout.dtype or not value.flags.c_contiguous:
                    raise TypeError(f"@{abi.name} binding {bind.index}: expected a C-contiguous {layout.dtype} array")
                expect = bind.rank + (1 if layout.lanes > 1 else 0)
                if value.ndim != expect or (layout.lanes > 1 and value.shape[-1] != layout.lanes):
                    raise ValueError(f"@{abi.name} binding {bind.index}: array of shape {value.shape} "
                                     f"does not fit {bind.type}")
                ctx[bind.index] = value.ctypes.data
                ctx[bind.dims_offset: bind.dims_offset + bind.rank] = value.shape[: bind.rank]
            else:
                layout = element_layout(bind.type)
                box = np.ascontiguousarray(np.broadcast_to(np.asarray(value, dtype=layout.dtype), (layout.lanes,)))
                keep.append(box)
                ctx[bind.index] = box.ctypes.data
        ctx[abi.extents_offset: abi.extents_offset + abi.rank] = grid
        return ctx, keep

    def close(self) -> None:
        """Stop the worker threads (they also stop when the device is collected)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


def _overlapping(abi: KernelABI, args: Sequence[Any]) -> bool:
    """True when a buffer the kernel writes may share memory with another binding."""
    buffers = [(b, args[b.index]) for b in abi.bindings if b.is_buffer]
    for i, (bi, ai) in enumerate(buffers):
        for bj, aj in buffers[i + 1:]:
            if (bi.written or bj.written) and np.may_share_memory(ai, aj):
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
