"""Buffers the native host holds: their headers (``native_host_abi``), and those it
takes without calling back into Python (``RT_PREPARED``).


A trivial program's call spends more crossing from native code into the ``RT_ALLOC``
callback (ctypes marshalling, the GIL, a Python frame) than in the allocation itself.
So before a call the runner allocates, from the same pool with the same checks, the
buffers the call is expected to ask for, and the native ``alloc`` takes them in order
while index and sizes match; any other request calls back as before, and the buffers
not taken go back to the pool when the call ends.

The expectation is the previous call's allocations, used only when this call's input
shapes and scalar values are those of the previous call: sizes follow from those for
every schedule the compiler makes, so a wrong guess (sizes that depend on data) costs
a fallback and briefly held pool buffers, never a wrong result. Preparation that the
pool refuses (a memory limit) just stops: the real request then fails at its own op,
with its own location, as without this table. The table belongs to one runner, and a
program's calls take turns (``Program._lock``), so concurrent threads never share it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ccomp.runtime.devices import native_host_abi as A
from ccomp.runtime.devices.base import address_of
from ccomp.runtime.pool import AllocationError, Buffer

HEADER_BLOCK = 64

Spec = tuple[int, tuple[int, ...]]  # (alloc_index, dims) of one allocation


def words(a: np.ndarray) -> memoryview:
    """The int64 words of ``a`` as a flat memoryview (it keeps ``a`` alive)."""
    return memoryview(a).cast("B").cast("q")


class BufferHeaders:
    """The native host runner's buffer headers (rows ``[refs, id, data]``) and the
    buffers they stand for during a call."""

    def init_headers(self) -> None:
        self.live: dict[int, Buffer] = {}  # header id -> buffer, for the call's allocations
        self.header_rows: list[memoryview] = []
        self.header_addresses: list[int] = []
        self.header_ids: dict[int, int] = {}  # address -> id, for the outputs' headers
        self.free_headers: list[int] = []

    def hold(self, buf: Buffer) -> int:
        """A header (``refs = 1``) for ``buf``, live until the native code releases it
        or the call ends; returns its address."""
        if not self.free_headers:
            self._grow_headers()
        ident = self.free_headers.pop()
        header = self.header_rows[ident]
        header[0] = 1
        header[2] = address_of(buf.handle)
        self.live[ident] = buf
        return self.header_addresses[ident]

    def _grow_headers(self) -> None:
        """Another block of headers (rows ``[refs, id, data]``); blocks never move, so a
        header's address stays valid while the native code holds it."""
        block = np.zeros((HEADER_BLOCK, 3), np.int64)
        first = len(self.header_rows)
        block[:, 1] = np.arange(first, first + HEADER_BLOCK)
        flat = words(block)  # item access without NumPy scalars
        self.header_rows.extend(flat[3 * i: 3 * i + 3] for i in range(HEADER_BLOCK))  # keep the block alive
        self.header_addresses.extend(address_of(block) + 24 * i for i in range(HEADER_BLOCK))
        self.header_ids.update((address, first + i) for i, address in enumerate(self.header_addresses[first:]))
        self.free_headers.extend(range(first + HEADER_BLOCK - 1, first - 1, -1))

    def _release(self, ident: int) -> None:
        if self.live.pop(ident, None) is not None:  # the Buffer's last reference: back to the pool
            self.free_headers.append(ident)




class Prepared:
    """The ``RT_PREPARED`` table of one runner and what its last call allocated. The
    entries' index and sizes are written when the plan changes, so a call with the
    same inputs as the last writes only the headers and the count."""

    def __init__(self) -> None:  # no reference to the runner: that would be a cycle (see _weak_method)
        self.table = np.zeros(2 + A.PREPARED_MAX * A.PREPARED_ENTRY, np.int64)
        self.words = words(self.table)
        self.key: Any = None  # the inputs' shapes and scalars of the last call
        self.specs: list[Spec] = []  # the plan: the last call's first allocations, in order
        self.entries: list[tuple[int, Any, tuple[int, ...], Any]] = []  # (header word, type, dims, where)
        self.count = 0  # entries prepared for this call
        self.events: list[tuple[int, int, tuple[int, ...]]] = []  # callbacks: (entries taken before, index, dims)
        self.taken_total = 0  # entries the native code took, over all calls (for tests)

    def prepare(self, runner: Any, key: list[Any]) -> None:
        """Fill the table for a call whose inputs are ``key``; the buffers go into the
        runner's live set like the callback's, so those not taken are dropped with the
        call's other buffers."""
        words = self.words
        words[1] = 0
        n = 0
        if key != self.key:
            self.key, self.specs, self.entries = key, [], []
        else:
            hold, alloc = runner.hold, runner.pool.alloc
            try:
                for at, t, dims, where in self.entries:
                    words[at] = hold(alloc(t, dims, where))
                    n += 1
            except AllocationError:
                pass  # the native request, if it comes, fails at its op as before
        words[0] = self.count = n

    def note(self, index: int, dims: tuple[int, ...]) -> None:
        """The native code called back for ``(index, dims)``."""
        self.events.append((self.words[1], index, dims))

    def finish(self, runner: Any, ok: bool) -> None:
        """The call returned: what it allocated is the plan for the next one with the
        same inputs (none after a failure: its trace may be partial)."""
        words = self.words
        taken = words[1]
        words[0] = words[1] = 0
        self.taken_total += taken
        if ok and not self.events and taken == self.count:
            return  # the plan held (or there is none and nothing was allocated)
        trace, last = [], 0
        for before, index, dims in self.events:
            trace.extend(self.specs[last:before])
            trace.append((index, dims))
            last = before
        trace.extend(self.specs[last:taken])
        self.events = []
        if not ok:
            self.key, trace = None, []
        self.specs = trace[: A.PREPARED_MAX]
        self.entries = []
        abi, where = runner.abi, runner.alloc_where
        for n, (index, dims) in enumerate(self.specs):
            at = 2 + n * A.PREPARED_ENTRY
            words[at] = index
            for d in range(3):
                words[at + 1 + d] = dims[d] if d < len(dims) else 0
            self.entries.append((at + 4, abi.allocs[index], dims, where[index]))
