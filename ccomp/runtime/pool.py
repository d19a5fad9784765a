"""Device buffers with a recycling pool and a memory budget.

The host schedule allocates a buffer for every materialised image; a loop that
allocates per iteration, or a program called many times, would grow memory without
bound if every allocation went to the driver. Instead a buffer that is no longer
referenced goes back to the pool (CPython frees it deterministically when its last
reference dies), and the next allocation of the same type and shape reuses it: a
loop's per-iteration buffers settle into a ping-pong of two, and buffers whose
lifetimes do not overlap share storage. Free buffers beyond ``budget`` bytes are
released to the driver, least recently used first.
"""

from __future__ import annotations

import functools

import logging
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from xdsl.dialects.builtin import MemRefType

from ccomp.runtime.devices.base import Device, nbytes

log = logging.getLogger(__name__)

DEFAULT_BUDGET = 1 << 30  # bytes of free buffers kept for reuse


class Buffer:
    """A device buffer and the shape the host knows it by. When the last reference to
    it goes, its storage returns to its pool (if it has one), or to the driver if the
    pool only adopted it (``transient``)."""

    __slots__ = ("handle", "type", "dims", "pool", "transient", "__weakref__")

    def __init__(self, handle: Any, type: MemRefType, dims: tuple[int, ...], pool: "BufferPool | None",
                 transient: bool = False):
        self.handle, self.type, self.dims, self.pool = handle, type, dims, pool
        self.transient = transient

    def detach(self) -> Any:
        """Take the storage out of pool management (it now belongs to the caller)."""
        self.pool = None
        return self.handle

    def __del__(self) -> None:
        pool = self.pool
        if pool is not None:
            self.pool = None
            try:
                pool.give_back(self.type, self.dims, self.handle, release=self.transient)
            except Exception:  # never raise from a finaliser (e.g. at interpreter exit)
                pass


@functools.lru_cache(maxsize=256)
def _type_key(t: MemRefType) -> str:
    """The buffer type as text (printing an xDSL type costs tens of microseconds, and
    a schedule asks for it at every allocation)."""
    return str(t)


class BufferPool:
    """Recycles device buffers by (type, shape); keeps at most ``budget`` free bytes."""

    def __init__(self, device: Device, budget: int = DEFAULT_BUDGET):
        self.device, self.budget = device, budget
        self.free: OrderedDict[int, tuple[tuple[str, tuple[int, ...]], Any, int]] = OrderedDict()
        self.free_bytes = 0
        self.live_bytes = 0
        self.peak_bytes = 0
        self.hits = self.misses = 0
        self._ids = 0

    def alloc(self, t: MemRefType, dims: Sequence[int]) -> Buffer:
        dims = tuple(int(d) for d in dims)
        key = (_type_key(t), dims)
        for token, (k, handle, size) in self.free.items():
            if k == key:
                del self.free[token]
                self.free_bytes -= size
                self.hits += 1
                return self._live(Buffer(handle, t, dims, self), size)
        self.misses += 1
        size = nbytes(t, dims)
        return self._live(Buffer(self.device.alloc(t, dims), t, dims, self), size)

    def adopt(self, handle: Any, t: MemRefType, dims: Sequence[int]) -> Buffer:
        """A buffer the device made outside the pool (an uploaded input): counted live
        while held, then released to the driver rather than kept. Uploads never draw on
        the free list, so keeping them would add one free buffer per call: memory that
        grows with the number of calls."""
        dims = tuple(int(d) for d in dims)
        return self._live(Buffer(handle, t, dims, self, transient=True), nbytes(t, dims))

    def _live(self, buf: Buffer, size: int) -> Buffer:
        self.live_bytes += size
        self.peak_bytes = max(self.peak_bytes, self.live_bytes + self.free_bytes)
        return buf

    def give_back(self, t: MemRefType, dims: tuple[int, ...], handle: Any, release: bool = False) -> None:
        """Take back a buffer nobody holds: kept for reuse, or (``release``) freed."""
        size = nbytes(t, dims)
        self.live_bytes -= size
        if release:
            self.device.release(handle)
            return
        self._ids += 1
        self.free[self._ids] = ((_type_key(t), dims), handle, size)
        self.free_bytes += size
        while self.free_bytes > self.budget and self.free:
            _, (_, old, old_size) = self.free.popitem(last=False)
            self.free_bytes -= old_size
            self.device.release(old)
            log.debug("pool over budget: released %d bytes", old_size)

    def clear(self) -> None:
        """Release every free buffer to the driver."""
        while self.free:
            _, (_, handle, size) = self.free.popitem(last=False)
            self.free_bytes -= size
            self.device.release(handle)
