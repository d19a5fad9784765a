"""How a :class:`~ccomp.runtime.profile.Profile` is shown: the per-kernel table that
``ccomp run --profile`` prints, and Chrome trace-event JSON (``--profile FILE.json``).

The trace uses the subset of the trace-event format that Perfetto and
``chrome://tracing`` read: ``M`` (metadata) events name a process per device and a
thread per lane, ``X`` (complete) events carry ``name``, ``cat``, ``ph``, ``ts`` and
``dur`` in microseconds, ``pid`` and ``tid``. The host is process 0; each device a
process with a ``kernels`` and a ``transfers`` thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ccomp.runtime.profile import KernelStats, Profile

HEADER = ("kernel", "device", "calls", "total ms", "mean us", "MB moved", "GB/s", "GFLOP/s", "share")
TID_HOST, TID_KERNELS, TID_TRANSFERS = 0, 1, 2


def _row(r: KernelStats, gflops: bool = True) -> tuple[str, ...]:
    return (r.name, r.device, str(r.calls), f"{r.total_s * 1e3:.3f}", f"{r.mean_s * 1e6:.1f}",
            f"{r.bytes / 1e6:.2f}", f"{r.gbps:.2f}", f"{r.gflops:.2f}" if gflops else "-",
            f"{100 * r.share:.1f}%")


def table(profile: Profile) -> str:
    """Rows per kernel (most expensive first), then transfers, then the host's own time
    (everything else of the calls: binding, allocation, Python or native schedule);
    the shares add up to the calls' total."""
    rows = [_row(r) for r in profile.kernels()]
    transfers = profile.transfers()
    rows += [_row(r, gflops=False) for r in transfers]
    busy = profile.kernel_seconds() + sum(r.total_s for r in transfers)
    other = max(0.0, profile.total_s - busy)
    share = other / profile.total_s if profile.total_s > 0 else 0.0
    rows.append(("(host)", "host", str(profile.calls), f"{other * 1e3:.3f}", "-", "-", "-", "-", f"{100 * share:.1f}%"))
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADER)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    out = [line(HEADER), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    out.append(f"total {profile.total_s * 1e3:.3f} ms over {profile.calls} call(s) on {profile.target}; "
               f"kernels {profile.kernel_seconds() * 1e3:.3f} ms")
    return "\n".join(out)


def trace(profile: Profile) -> dict[str, Any]:
    """The profile as a trace-event JSON object (``{"traceEvents": [...]}``)."""
    devices = ["host"] + sorted({e.device for e in profile.events if e.device != "host"})
    pid = {d: i for i, d in enumerate(devices)}
    events: list[dict[str, Any]] = []
    for d, p in pid.items():
        events.append({"name": "process_name", "ph": "M", "ts": 0, "pid": p, "tid": 0, "args": {"name": d}})
        lanes = [(TID_HOST, "host steps")] if d == "host" else [(TID_KERNELS, "kernels"), (TID_TRANSFERS, "transfers")]
        for tid, name in lanes:
            events.append({"name": "thread_name", "ph": "M", "ts": 0, "pid": p, "tid": tid, "args": {"name": name}})
    origin = min((e.start_ns for e in profile.events), default=0)
    for e in profile.events:
        tid = TID_HOST if e.kind == "host" else TID_KERNELS if e.kind == "kernel" else TID_TRANSFERS
        args: dict[str, Any] = {}
        if e.kind != "host":
            args["bytes"] = e.bytes
        if e.kind == "kernel":
            args.update(grid=list(e.grid), flops=e.flops)
        events.append({"name": e.name, "cat": e.kind, "ph": "X", "ts": (e.start_ns - origin) / 1e3,
                       "dur": e.dur_ns / 1e3, "pid": pid[e.device], "tid": tid, "args": args})
    return {"traceEvents": events, "displayTimeUnit": "ms",
            "otherData": {"target": profile.target, "total_ms": profile.total_s * 1e3, "calls": profile.calls}}


__all__ = ["HEADER", "table", "trace"]
