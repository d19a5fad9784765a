"""The LLVM device: kernels JIT-compiled for the host CPU, run on all of its cores.

Buffers are plain C-contiguous NumPy arrays (a ``memref<?x?xvector<4xf32>>`` of size
``h x w`` is an ``(h, w, 4)`` float32 array) that kernels read and write in place, so
upload and download copy nothing: an input array of the right dtype and layout is
the buffer, and an output buffer is handed to the caller as is.

The device compiles LLVM IR text the backend generated (``llvm_abi.LLVMCode``), in
memory or read back from a build folder, and never lowers IR itself: the kernels'
ABI is read off the ``kern.kernel`` ops, which is all it needs of the module.

A launch splits the index space's rows (see ``llvm_abi``) into
contiguous chunks and hands them to the process's native worker pool
(``native_pool``) in one foreign call: the launching thread and up to ``threads - 1``
native workers claim chunks through atomics, with the GIL released throughout. Small
launches are one chunk, run on the calling thread alone, where waking a worker would
cost more than the work. A launch is one native call, so a Ctrl-C is seen when it
returns, after every chunk has run: no kernel is left writing into a buffer the
buffer pool may hand out again.
"""

from __future__ import annotations

import ctypes
import logging
import math
import mmap
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import MemRefType, ModuleOp

from ccomp.dialects.kern import KernelOp
from ccomp.runtime.devices.base import Device, address_of, array_shape, element_layout
from ccomp.runtime.devices.jit import Jit
from ccomp.runtime.devices.llvm_abi import KernelABI, LLVMCode, describe_kernel, point_weight
from ccomp.runtime.devices.native_host_abi import host_symbol
from ccomp.runtime.devices.native_pool import NativePool

log = logging.getLogger(__name__)

MIN_PARALLEL_POINTS = 1 << 15  # below this a launch runs on the calling thread
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
    address: int  # the entry point (kernel ABI), called by the native pool
    may_alias: str  # LLVM IR of the variant without noalias, compiled on demand
    slots: tuple[_Slot, ...]
    weight: int = 1  # points one point counts as (``llvm_abi.point_weight``: its loops)
    aliasing_address: int = 0


def _slots(abi: KernelABI) -> tuple[_Slot, ...]:
    slots = []
    for b in abi.bindings:
        layout = element_layout(b.type.element_type if b.is_buffer else b.type)  # type: ignore[attr-defined]
        ndim = b.rank + (1 if layout.lanes > 1 else 0)
        slots.append(_Slot(b.index, b.is_buffer, layout.dtype, layout.lanes, b.rank, ndim, b.dims_offset,
                           b.written, str(b.type)))
    return tuple(slots)


class LLVMDevice(Device):
    """Runs ``kern`` kernels as native code via llvmlite MCJIT on ``threads`` cores."""

    name = "llvm"
    upload_copies = False  # host memory is device memory: a fitting array is used as is
    download_is_view = True

    def __init__(self, threads: int | None = None, opt_level: int = 3, widen: bool = True):
        """``threads``: threads per launch, the caller's included (default: all cores; the
        native pool has ``os.cpu_count() - 1`` workers per process); ``widen``: ask the
        code generator for vector-typed bodies run several columns per iteration (see
        ``codegen_options``)."""
        self.threads = max(1, threads or os.cpu_count() or 1)
        self.widen = widen
        self.jit = Jit(opt_level)
        self.kernels: dict[str, _Kernel] = {}
        # native host schedules (``native_host_abi``): symbol -> (address, ABI fingerprint)
        self.hosts: dict[str, tuple[int, int]] = {}
        self.optimised_ir = ""  # the last compiled module, optimised (for inspection)
        self._pool = NativePool.instance()  # compiled once per process; workers start on a parallel launch
        self._compiling = threading.Lock()  # one JIT, possibly many launching threads

    # -- compilation ---------------------------------------------------------------

    def codegen_options(self) -> dict[str, Any]:
        return {"widen": self.widen}

    def load(self, module: ModuleOp, code: LLVMCode) -> None:
        """JIT-compile ``code`` (its ``may_alias`` variants later, when a launch needs one)."""
        start = time.perf_counter()
        kernels = [op for op in module.walk() if isinstance(op, KernelOp)]
        hosts = [host_symbol(op) for op in module.body.block.ops if isinstance(op, func.FuncOp)]
        with self._compiling:
            addresses, self.optimised_ir = self.jit.compile(code.module, [k.kernel_name for k in kernels],
                                                            [s for h in hosts for s in (h, h + ".abi")])
        for name in hosts:
            if name in addresses and name + ".abi" in addresses:
                self.hosts[name] = (addresses[name], ctypes.CFUNCTYPE(ctypes.c_int64)(addresses[name + ".abi"])())
        for op in kernels:
            name = op.kernel_name
            abi = describe_kernel(op, name)
            self.kernels[name] = _Kernel(abi, addresses[name], code.may_alias.get(name, ""), _slots(abi),
                                         point_weight(op))
        log.info("llvm: loaded %d kernel(s) in %.1f ms", len(kernels), 1e3 * (time.perf_counter() - start))

    def parallel_for_address(self) -> int:
        """The native pool's ``ccomp_parallel_for``, for native host schedules."""
        return self._pool.parallel_for_address

    def aliasing_address(self, kernel: str) -> int:
        """The may-alias variant of ``kernel`` (compiled on first use), for native hosts."""
        return self._aliasing_variant(self.kernels[kernel])

    def _aliasing_variant(self, kernel: _Kernel) -> int:
        """The kernel compiled without ``noalias``, for launches binding overlapping buffers."""
        with self._compiling:
            if not kernel.aliasing_address:
                if not kernel.may_alias:
                    raise RuntimeError(f"llvm: @{kernel.abi.name} binds overlapping buffers and its code has "
                                       "no may-alias variant")
                addresses, _ = self.jit.compile(kernel.may_alias, [kernel.abi.name])
                kernel.aliasing_address = addresses[kernel.abi.name]
        return kernel.aliasing_address

    # -- buffers -------------------------------------------------------------------

    def alloc(self, memref: MemRefType, dims: Sequence[int]) -> np.ndarray:
        return fresh_array(array_shape(memref, dims), element_layout(memref.element_type).dtype)

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
        fn = self._aliasing_variant(k) if _overlapping(spans) else k.address
        points = math.prod(grid) * k.weight
        rows = abi.rows(grid) if min(grid) > 0 else 0
        n = self._nchunks(rows, points)
        if abi.reduce is None:
            partials, base, stride = None, 0, 0
        else:
            partials = np.zeros((max(n, 1), abi.reduce_lanes), np.float64 if abi.reduce_float else np.int64)
            base, stride = address_of(partials), partials.strides[0]
        if n:
            self._pool.parallel_for(fn, address_of(ctx), rows, n, base, stride, self.threads)
        del keep, ctx
        return None if partials is None else _combine(abi, partials[:n])

    def _nchunks(self, rows: int, points: int) -> int:
        """How many chunks a launch is cut into: none for an empty one, one (run on the
        calling thread) for a small one, else ``CHUNKS_PER_THREAD`` per thread."""
        if rows == 0:
            return 0
        if self.threads == 1 or points < MIN_PARALLEL_POINTS or rows == 1:
            return 1
        return min(rows, self.threads * CHUNKS_PER_THREAD)

    def close(self) -> None:
        """Nothing to release: the native workers belong to the process (``native_pool``),
        shared by every device, and stop at interpreter exit."""


FRESH_MAPPING_BYTES = 1 << 20


def fresh_array(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An uninitialised array; from 1 MiB up in a mapping of its own (asked to use huge
    pages where the kernel allows). ``np.empty`` takes large arrays from glibc's heap
    once a freed mapping has raised its mmap threshold — after any dropped program —
    and a 1024x1024 heat step then ran 1.6-2x slower on such memory here (47 -> 85 ms
    for 200 steps). The mapping is freed with the array."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < FRESH_MAPPING_BYTES:
        return np.empty(shape, dtype)
    region = mmap.mmap(-1, nbytes)
    if hasattr(region, "madvise") and hasattr(mmap, "MADV_HUGEPAGE"):
        try:
            region.madvise(mmap.MADV_HUGEPAGE)
        except OSError:  # huge pages off or unsupported: a plain mapping is fine
            pass
    return np.frombuffer(region, dtype).reshape(shape)


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
            start = address_of(value)
            words[slot.index] = start
            words[slot.dims_offset: slot.dims_offset + slot.rank] = value.shape[: slot.rank]
            spans.append((start, start + value.nbytes, slot.written))
        else:
            box = np.array(value, slot.dtype)
            if box.size != slot.lanes:
                box = np.ascontiguousarray(np.broadcast_to(box, (slot.lanes,)))
            keep.append(box)
            words[slot.index] = address_of(box)
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
