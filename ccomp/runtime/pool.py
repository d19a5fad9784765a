"""Device buffers with a recycling pool and a memory budget.

The host schedule allocates a buffer for every materialised image; a loop that
allocates per iteration, or a program called many times, would grow memory without
bound if every allocation went to the driver. Instead a buffer that is no longer
referenced goes back to the pool (CPython frees it deterministically when its last
reference dies), and the next allocation of the same type and shape reuses it: a
loop's per-iteration buffers settle into a ping-pong of two, and buffers whose
lifetimes do not overlap share storage.

What the pool keeps *free* is bounded two ways, so a program called with changing
shapes does not hoard buffers nobody will ask for again (it kept a gigabyte over 120
heat calls of new shapes, with no hit): a free buffer not reused during the last
``KEEP_CALLS`` calls goes back to the driver when the next call starts, and free bytes
never exceed ``budget`` — over it, buffers of the shapes requested longest ago go
first. The budget is public: ``ccomp.compile(..., memory_budget=...)`` or the
``CCOMP_MEMORY_BUDGET`` environment variable (bytes, or a size such as ``512MB``).

What is *live* is bounded too, before the driver is asked: a buffer that would take the
live bytes over ``pool.limit`` (the memory of this machine or its cgroup, or the
device's ``memory_bytes`` if less), or that is larger than ``pool.buffer_limit`` (the
device's ``max_alloc_bytes``, as OpenCL's ``MAX_MEM_ALLOC_SIZE``), is an
:class:`AllocationError` carrying the location of the ``.cn`` expression that made it,
never a ``MemoryError`` traceback, a swapping machine or a driver that crashes. The
budget is not that bound: it says how much *free* memory to keep (0 keeps none), not
how much a program may use.
"""

from __future__ import annotations

import logging
import math
import mmap
import sys
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from xdsl.dialects.builtin import MemRefType

from ccomp.runtime.devices.base import Device, element_layout
from ccomp.runtime.sizes import (  # noqa: F401 - re-exported: the pool's public names
    BUDGET_ENV, DEFAULT_BUDGET, BudgetError, machine_memory, parse_budget, resolve_budget, show_bytes)

log = logging.getLogger(__name__)

KEEP_CALLS = 2  # a free buffer unused for this many whole calls goes back to the driver


class AllocationError(Exception):
    """A buffer refused before it was allocated (or refused by the driver). ``location``
    is the ``memref.alloc`` op's location, which the face turns into a diagnostic at
    the expression that made the buffer, as for a ``ScheduleCheckError``."""

    def __init__(self, message: str, location: Any = None):
        super().__init__(message)
        self.message, self.location = message, location


_NAMES = {("float32", 1): "f32", ("int32", 1): "i32", ("bool", 1): "bool", ("float32", 2): "vec2",
          ("float32", 3): "vec3", ("float32", 4): "vec4", ("int32", 2): "ivec2"}


def _element_name(t: MemRefType) -> str:
    """The ``.cn`` spelling of a buffer's element (``vec4``, ``f32``), for messages."""
    layout = element_layout(t.element_type)
    return _NAMES.get((layout.dtype.name, layout.lanes), str(t.element_type))


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


class _TypeInfo:
    """What the pool needs of a buffer type, worked out once per type object: hashing
    or printing an xDSL type costs microseconds, and a program call allocates and frees
    buffers every time (the cost of a whole native call on a small image)."""

    __slots__ = ("type", "key", "element_bytes")

    def __init__(self, t: MemRefType):
        layout = element_layout(t.element_type)
        self.type, self.key, self.element_bytes = t, str(t), layout.lanes * layout.dtype.itemsize


Key = tuple[str, tuple[int, ...]]


class BufferPool:
    """Recycles device buffers by (type, shape); keeps at most ``budget`` free bytes,
    and only buffers used during the last ``KEEP_CALLS`` calls.

    Accounting, for tests and users (``prog.pool``): ``free_bytes`` (held for reuse),
    ``live_bytes`` (in use, outputs handed to the caller included until reclaimed),
    ``peak_bytes``, ``hits``/``misses`` of ``alloc``, ``released`` (buffers given back
    to the driver), ``calls``. ``limit`` bounds the live bytes, ``buffer_limit`` each
    buffer (see the module docstring); lowering them keeps a program smaller."""

    def __init__(self, device: Device, budget: int | str | None = None):
        self.device, self.budget = device, resolve_budget(budget)
        # a driver's own limits, where it has them (OpenCL: global memory, largest buffer)
        self.limit = min(machine_memory(), getattr(device, "memory_bytes", None) or machine_memory())
        self.buffer_limit = getattr(device, "max_alloc_bytes", None) or self.limit
        # token -> (key, handle, bytes, the call it was last in use)
        self.free: OrderedDict[int, tuple[Key, Any, int, int]] = OrderedDict()
        self.requested: dict[Key, int] = {}  # key -> the last call that allocated it
        self.free_bytes = 0
        self.live_bytes = 0
        self.peak_bytes = 0
        self.hits = self.misses = self.released = 0
        self.calls = 0
        self._ids = 0
        self._types: dict[int, _TypeInfo] = {}
        self._free_floor = self._requested_floor = 0  # see begin_call

    def _info(self, t: MemRefType) -> _TypeInfo:
        """The type's info, keyed by identity (the entry keeps the type alive, so an id
        is never reused while cached)."""
        info = self._types.get(id(t))
        if info is None:
            info = self._types[id(t)] = _TypeInfo(t)
        return info

    def begin_call(self) -> None:
        """A new call of the program starts: release the free buffers no call used in
        the last ``KEEP_CALLS`` calls, and forget shapes requested no more recently."""
        self.calls += 1
        oldest = self.calls - KEEP_CALLS
        # the floors are lower bounds of the call numbers kept (later entries only add the
        # current call's): a scan that could find nothing to drop is skipped
        if self.free and self._free_floor < oldest:
            for token in [t for t, (_, _, _, used) in self.free.items() if used < oldest]:
                self._release(token)
            self._free_floor = min((e[3] for e in self.free.values()), default=self.calls)
        if self._requested_floor < oldest:
            self.requested = {k: c for k, c in self.requested.items() if c >= oldest}
            self._requested_floor = min(self.requested.values(), default=self.calls)

    def alloc(self, t: MemRefType, dims: Sequence[int], where: Any = None) -> Buffer:
        """A buffer of type ``t`` and shape ``dims``: a free one of the same type and
        shape, else a new one from the driver once :meth:`_check` allows it (``where``:
        the location of the op that asks, for its :class:`AllocationError`)."""
        if type(dims) is not tuple:  # the native host passes a tuple of ints already
            dims = tuple(int(d) for d in dims)
        info = self._types.get(id(t)) or self._info(t)  # (inlined: a call costs a program call's 3%)
        key = (info.key, dims)
        self.requested[key] = self.calls
        for token, (k, handle, size, _) in self.free.items():
            if k == key:
                del self.free[token]
                self.free_bytes -= size
                self.hits += 1
                self.live_bytes += size  # live + free unchanged: no new peak
                return Buffer(handle, t, dims, self)
        self.misses += 1
        size = math.prod(dims) * info.element_bytes
        self._check(t, dims, size, where)
        try:
            handle = self.device.alloc(t, dims)
        except Exception as exc:  # MemoryError, a driver's out-of-memory error: the same located error
            raise AllocationError(f"{self._what(t, dims, size)}, and the {self.device.name} device could not "
                                  f"allocate it ({type(exc).__name__}: {exc})", where) from None
        return self._live(Buffer(handle, t, dims, self), size)

    def _what(self, t: MemRefType, dims: tuple[int, ...], size: int) -> str:
        shape = " x ".join(map(str, dims)) or "1"
        return f"this value needs a buffer of {math.prod(dims)} {_element_name(t)} (shape {shape}, {show_bytes(size)})"

    def _check(self, t: MemRefType, dims: tuple[int, ...], size: int, where: Any) -> None:
        """Refuse a buffer with a negative size, larger than ``limit``, or that would
        take the live bytes over it (free buffers are given back to the driver first)."""
        if min(dims, default=0) < 0:
            raise AllocationError(f"cannot allocate a buffer of negative size {' x '.join(map(str, dims))}", where)
        cap = min(self.limit, self.buffer_limit)
        if size > cap:
            raise AllocationError(f"{self._what(t, dims, size)}, more than the {show_bytes(cap)} the "
                                  f"{self.device.name} device can hold here", where)
        if self.live_bytes + self.free_bytes + size > self.limit:
            self.clear()
        if self.live_bytes + size > self.limit:
            raise AllocationError(f"{self._what(t, dims, size)}, and with {show_bytes(self.live_bytes)} in use "
                                  f"that is more than the {show_bytes(self.limit)} the {self.device.name} device "
                                  "can hold here", where)

    def adopt(self, handle: Any, t: MemRefType, dims: Sequence[int]) -> Buffer:
        """A buffer the device made outside the pool (an uploaded input): counted live
        while held, then released to the driver rather than kept. Uploads never draw on
        the free list, so keeping them would add one free buffer per call: memory that
        grows with the number of calls."""
        dims = tuple(int(d) for d in dims)
        return self._live(Buffer(handle, t, dims, self, transient=True), math.prod(dims) * self._info(t).element_bytes)

    def _live(self, buf: Buffer, size: int) -> Buffer:
        self.live_bytes += size
        self.peak_bytes = max(self.peak_bytes, self.live_bytes + self.free_bytes)
        return buf

    def give_back(self, t: MemRefType, dims: tuple[int, ...], handle: Any, release: bool = False) -> None:
        """Take back a buffer nobody holds: kept for reuse, or (``release``) freed."""
        info = self._types.get(id(t)) or self._info(t)
        size = math.prod(dims) * info.element_bytes
        self.live_bytes -= size
        if release:
            self.device.release(handle)
            return
        self._ids += 1
        self.free[self._ids] = ((info.key, dims), handle, size, self.calls)
        self.free_bytes += size
        while self.free_bytes > self.budget and self.free:
            # the shape requested longest ago first, then the buffer freed longest ago
            self._release(min(self.free, key=lambda tok: (self.requested.get(self.free[tok][0], -1), tok)))

    def _release(self, token: int) -> None:
        _, handle, size, _ = self.free.pop(token)
        self.free_bytes -= size
        self.released += 1
        self.device.release(handle)
        log.debug("pool: released %d bytes", size)

    def clear(self) -> None:
        """Release every free buffer to the driver (buffers in use are not touched)."""
        for token in list(self.free):
            self._release(token)

    def __repr__(self) -> str:
        return (f"<BufferPool free {len(self.free)} buffers {self.free_bytes} B, live {self.live_bytes} B, "
                f"budget {self.budget} B, hits {self.hits}, misses {self.misses}, released {self.released}>")


Handed = list[tuple[MemRefType, tuple[int, ...], Any]]  # outputs given to the caller: (type, dims, array)


def reclaim_outputs(pool: BufferPool, handed_out: Handed) -> Handed:
    """Give ``pool`` back the output arrays of earlier calls the caller no longer holds,
    so a program called in a loop reuses its output storage instead of faulting in fresh
    pages every call (for devices whose outputs are the buffers themselves); returns the
    entries still held. Shared by the Python and the native host."""
    kept = []
    for t, dims, array in handed_out:
        # references: this list entry, the loop variable, getrefcount's argument
        # and no view of it: its base is nothing or its own mapping (``fresh_array``)
        if sys.getrefcount(array) <= 3 and (array.base is None or type(array.base) is mmap.mmap):
            pool.give_back(t, dims, array)
        else:
            kept.append((t, dims, array))
    return kept
