"""Per-kernel profiles of program calls: what ran where, for how long, and how fast.

A :class:`Profiler` is handed to a host runner for the calls it should measure. The
runners report three kinds of events, all on the host's ``perf_counter_ns`` clock
(``CLOCK_MONOTONIC`` on Linux, the clock the native host reads too):

* ``host`` — a host step of the call (upload, run, download);
* ``kernel`` — one launch, timed where the device times it best: the native host's
  own timestamps around each launch (llvm), OpenCL profiling events, GL timer queries
  (``Device.timed``), host timers around a synchronous launch otherwise;
* ``transfer`` — an upload, download or migration of one buffer, with its bytes.

Device times that arrive later (OpenCL, GL: ``Device.timed`` hands back a resolver)
are placed on the host timeline as an in-order queue runs them: each starts when it
was issued or when the one before it on that device ended, whichever is later.

Each launch's FLOPs and bytes come from ``ccomp.dialects.kern_cost`` (the estimate the
``partition-devices`` pass places kernels by) times its number of points, so a
:class:`Profile` reports achieved GB/s and GFLOP/s beside the times. ``report.py``
prints the table and writes the Chrome trace.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ccomp.dialects.kern_cost import KernelCost, points


@dataclass
class Event:
    """One measured span. ``device`` is the target it ran on (``host`` for host steps)."""

    kind: str  # "host", "kernel" or "transfer"
    name: str
    device: str
    start_ns: int
    dur_ns: int
    bytes: float = 0.0
    flops: float = 0.0
    grid: tuple[int, ...] = ()


@dataclass
class KernelStats:
    """One kernel's launches in a profile (one row of the table)."""

    name: str
    device: str
    calls: int = 0
    total_s: float = 0.0
    bytes: float = 0.0
    flops: float = 0.0
    share: float = 0.0  # of the profile's total time

    @property
    def mean_s(self) -> float:
        return self.total_s / self.calls if self.calls else 0.0

    @property
    def gbps(self) -> float:
        return self.bytes / self.total_s / 1e9 if self.total_s > 0 else 0.0

    @property
    def gflops(self) -> float:
        return self.flops / self.total_s / 1e9 if self.total_s > 0 else 0.0


@dataclass
class Profile:
    """What one or more profiled calls did: ``events`` in time order and ``total_s``,
    the calls' own measured time (upload to download, the runner's clock)."""

    target: str
    events: list[Event] = field(default_factory=list)
    total_s: float = 0.0
    calls: int = 0

    def kernels(self) -> list[KernelStats]:
        """Per (kernel, device): calls, times, work; most expensive first."""
        rows: dict[tuple[str, str], KernelStats] = {}
        for e in self.events:
            if e.kind != "kernel":
                continue
            row = rows.setdefault((e.name, e.device), KernelStats(e.name, e.device))
            row.calls += 1
            row.total_s += e.dur_ns / 1e9
            row.bytes += e.bytes
            row.flops += e.flops
        for row in rows.values():
            row.share = row.total_s / self.total_s if self.total_s > 0 else 0.0
        return sorted(rows.values(), key=lambda r: -r.total_s)

    def transfers(self) -> list[KernelStats]:
        """Per (direction, device): uploads, downloads and migrations, as table rows."""
        rows: dict[tuple[str, str], KernelStats] = {}
        for e in self.events:
            if e.kind == "transfer":
                row = rows.setdefault((e.name, e.device), KernelStats(e.name, e.device))
                row.calls += 1
                row.total_s += e.dur_ns / 1e9
                row.bytes += e.bytes
        for row in rows.values():
            row.share = row.total_s / self.total_s if self.total_s > 0 else 0.0
        return sorted(rows.values(), key=lambda r: -r.total_s)

    def kernel_seconds(self) -> float:
        return sum(e.dur_ns for e in self.events if e.kind == "kernel") / 1e9

    def merge(self, other: Profile) -> None:
        """Add ``other``'s calls to this profile (a ``with prog.profile()`` block)."""
        self.events.extend(other.events)
        self.total_s += other.total_s
        self.calls += other.calls

    def table(self) -> str:
        from ccomp.runtime.profile_report import table
        return table(self)

    def trace(self) -> dict[str, Any]:
        from ccomp.runtime.profile_report import trace
        return trace(self)

    def write_trace(self, path: Any) -> None:
        """Write the Chrome trace-event JSON (opens in Perfetto, chrome://tracing)."""
        import json
        from pathlib import Path

        Path(path).write_text(json.dumps(self.trace(), indent=None))


class Profiler:
    """Collects the events of profiled calls (see the module docstring)."""

    def __init__(self, target: str, costs: dict[str, KernelCost]):
        self.target, self.costs = target, costs
        self.events: list[Event] = []
        self.pending: list[tuple[Event, Callable[[], int]]] = []

    def work(self, kernel: str, grid: tuple[int, ...]) -> tuple[float, float]:
        cost = self.costs.get(kernel)
        return cost.launch(points(grid)) if cost is not None else (0.0, 0.0)

    def kernel(self, device: str, name: str, grid: tuple[int, ...], start_ns: int, dur_ns: int) -> None:
        flops, nbytes = self.work(name, grid)
        self.events.append(Event("kernel", name, device, start_ns, dur_ns, nbytes, flops, grid))

    def host(self, name: str, start_ns: int, dur_ns: int) -> None:
        self.events.append(Event("host", name, "host", start_ns, dur_ns))

    def transfer(self, device: str, name: str, nbytes: int, start_ns: int, dur_ns: int) -> None:
        self.events.append(Event("transfer", name, device, start_ns, dur_ns, float(nbytes)))

    def launch(self, device: Any, name: str, grid: tuple[int, ...], issue: Callable[[], Any]) -> Any:
        """Issue one launch through ``device.timed`` and record it; returns its result."""
        issued = time.perf_counter_ns()
        result, duration = device.timed(issue)
        where = device.placed(name) if hasattr(device, "placed") else device.name
        flops, nbytes = self.work(name, grid)
        event = Event("kernel", name, where, issued, 0, nbytes, flops, grid)
        self.events.append(event)
        self.pending.append((event, duration))
        return result

    def wrap(self, device: Any, name: str, grid: tuple[int, ...], issue: Callable[[], Any]) -> Callable[[], Any]:
        """A prepared launch that records every issue."""
        def profiled() -> Any:
            return self.launch(device, name, grid, issue)
        return profiled

    def resolve(self) -> None:
        """Ask the devices for the times they report late (events, queries)."""
        for event, duration in self.pending:
            event.dur_ns = int(duration())
        self.pending = []

    def finish(self, total_s: float) -> Profile:
        """Resolve deferred device times, lay them out as in-order queues, and return
        the call's :class:`Profile`."""
        self.resolve()
        ends: dict[str, int] = {}
        for event in self.events:
            if event.kind == "kernel":
                event.start_ns = max(event.start_ns, ends.get(event.device, 0))
                ends[event.device] = event.start_ns + event.dur_ns
        events = sorted(self.events, key=lambda e: e.start_ns)
        self.events = []
        return Profile(self.target, events, total_s, 1)


def sync_timed(device: Any, issue: Callable[[], Any]) -> tuple[Any, Callable[[], int]]:
    """``Device.timed`` for a device without device timers: host time around the launch
    and a wait for it (nothing to wait for on a synchronous device)."""
    start = time.perf_counter_ns()
    result = issue()
    device.sync()
    duration = time.perf_counter_ns() - start
    return result, lambda: duration





class Recorder:
    """A program's profiling state: ``last`` (the last profiled call) and the profile
    a ``with prog.profile()`` block is accumulating. The face (``Program``) asks it
    to run a call profiled when either wants one; otherwise calls cost nothing extra."""

    def __init__(self, target: str, module: Any):
        self.target, self.module = target, module
        self.costs: dict[str, KernelCost] | None = None
        self.last: Profile | None = None
        self.blocks: list[Profile] = []  # open ``profile()`` blocks, innermost last

    def run(self, runner: Any, call: Callable[[], Any]) -> Any:
        """``call()`` (one run of ``runner``) with a profiler attached."""
        if self.costs is None:
            from ccomp.dialects.kern_cost import module_costs
            self.costs = module_costs(self.module)
        profiler = Profiler(self.target, self.costs)
        runner.device.start_profiling()
        runner.profiler = profiler
        mixed = hasattr(runner.device, "profiler")  # a mixed placement records its migrations
        if mixed:
            runner.device.profiler = profiler
        start = time.perf_counter()
        try:
            result = call()
            profiler.resolve()  # part of what profiling the call costs: inside its total
        finally:
            runner.profiler = None
            if mixed:
                runner.device.profiler = None
        profile = profiler.finish(time.perf_counter() - start)
        self.last = profile
        for block in self.blocks:
            block.merge(profile)
        return result

    def block(self) -> Any:
        """The context manager behind ``Program.profile()``."""
        import contextlib

        @contextlib.contextmanager
        def profiling() -> Any:
            profile = Profile(self.target)
            profile.calls = 0
            self.blocks.append(profile)
            try:
                yield profile
            finally:
                self.blocks.remove(profile)
        return profiling()
__all__ = ["Event", "KernelStats", "Profile", "Profiler", "Recorder", "sync_timed"]
