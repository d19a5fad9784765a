"""The native host's side of profiling: a timestamp table beside its launch log.

When a profiler is attached, ``NativeHostRunner`` hands the compiled host schedule the
address of this table in ``rt[RT_PROFILE]``; the schedule stores ``CLOCK_MONOTONIC``
before and after each launch at the launch's log entry (``backends/llvm/host_calls.py``
``emit_stamp``). The table is flushed with the log when the log fills. Off, the word is
0 and the schedule skips the stores.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ccomp.runtime.devices import native_host_abi as A
from ccomp.runtime.devices.base import address_of


class NativeStamps:
    """One runner's timestamp table and the copies flushed during a call."""

    def __init__(self, entries: int):
        self.entries = entries
        self.table: np.ndarray | None = None
        self.flushed: list[np.ndarray] = []

    def start(self, rt: np.ndarray) -> None:
        """Arm the table for a call (``rt[RT_PROFILE]``; the runner resets it after)."""
        if self.table is None:
            self.table = np.zeros(self.entries * 2, np.int64)
        self.flushed = []
        rt[A.RT_PROFILE] = address_of(self.table)

    def flush(self, rt: np.ndarray) -> None:
        """The log is full and about to restart: keep the stamps written so far."""
        if self.table is not None and rt[A.RT_PROFILE]:
            self.flushed.append(self.table.copy())

    def record(self, profiler: Any, device: str, launches: list[tuple[str, tuple[int, ...]]],
               timings: dict[str, float], start: float, count: int) -> None:
        """The call's host steps (``timings``, from ``start``) and each launch's stamps."""
        at = start
        for name in ("upload", "run", "download"):
            profiler.host(name, int(at * 1e9), int(timings[name] * 1e9))
            at += timings[name]
        assert self.table is not None
        stamps = np.concatenate([*self.flushed, self.table[: count * 2]]).reshape(-1, 2).tolist()
        for (name, grid), (begin, end) in zip(launches, stamps, strict=True):
            profiler.kernel(device, name, grid, begin, end - begin)


__all__ = ["NativeStamps"]
