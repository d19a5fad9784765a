"""One handler kernel launch on the llvm device with the least Python per batch.

A handler's launch binds only buffers (no scalars, no reduction) whose outputs were
just allocated, so nothing in it can alias; :meth:`LLVMDevice.launch` checks both for
any kernel and costs about 17 us a call here (``_pack``, the overlap test, the pool).
For a batch the device would run on the calling thread anyway (fewer points than
``MIN_PARALLEL_POINTS``) this calls the kernel's exported entry (the kernel ABI of
``runtime/devices/llvm_abi.py``: ``void k(i64* ctx, i64 begin, i64 end, ptr partial)``)
directly with a ``ctx`` filled from the buffers; larger batches go through the
device, which splits them across the native pool's threads.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Sequence

import numpy as np

from ccomp.runtime.devices.base import address_of
from ccomp.runtime.devices.llvm import MIN_PARALLEL_POINTS

_ENTRY = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p)


class DirectLaunch:
    """``launch(grid, arrays)`` of one loaded llvm kernel (see the module docstring).

    The arrays are the handler runner's own — inputs it made C-contiguous of the
    kernel's dtypes after checking their shapes, outputs it allocated — so they are
    not checked again per launch."""

    def __init__(self, device, kernel: str):
        k = device.kernels[kernel]
        self.device, self.kernel, self.abi, self.weight = device, kernel, k.abi, k.weight
        if k.abi.reduce is not None or not all(s.buffer for s in k.slots):  # pragma: no cover - actor-lower's kernels
            raise ValueError(f"@{kernel}: a direct launch binds buffers only and reduces nothing")
        self.places = [(s.index, s.dims_offset, s.rank) for s in k.slots]
        self.entry = _ENTRY(k.address)
        self._spare: tuple[ctypes.Array, int] | None = None

    def __call__(self, grid: Sequence[int], arrays: Sequence[np.ndarray]) -> None:
        if math.prod(grid) * self.weight >= MIN_PARALLEL_POINTS:
            self.device.launch(self.kernel, grid, arrays)
            return
        abi = self.abi
        rows = abi.rows(tuple(grid))
        if not rows:
            return
        # The ctx block is a ctypes array kept between calls, its address known: a new
        # NumPy ctx and its address cost ~1.5 us of a ~5 us one-message launch. Taken
        # while in use, so a second thread launching the same kernel (the call drops
        # the GIL) makes its own. Every call writes the same words; the rest stay 0.
        spare = self._spare
        self._spare = None
        words, ctx = spare if spare is not None else _new_ctx(abi.ctx_words)
        for (index, dims, rank), a in zip(self.places, arrays, strict=True):
            words[index] = address_of(a)
            words[dims:dims + rank] = a.shape
        words[abi.extents_offset:abi.extents_offset + abi.rank] = grid
        self.entry(ctx, 0, rows, None)
        self._spare = (words, ctx)


def _new_ctx(n: int) -> tuple[ctypes.Array, int]:
    words = (ctypes.c_int64 * n)()
    return words, ctypes.addressof(words)
