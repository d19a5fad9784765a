"""``ccomp run -t auto --explain``: the placement table of ``partition-devices`` with
its estimates, and, after ``--profile``, each kernel's estimate against what it measured.

The pass estimates with the sizes it can see at compile time (``points`` for extents
known only at run time), and writes per launch ``estimate = {target = seconds}``; the
table shows those. After a profiled run the estimate is recomputed for the grids the
launches really had (``dialects/kern_cost.py`` times the points, against the profile
of the device each ran on), next to the measured mean, so a wrong profile or a poor
cost estimate shows as a ratio far from 1.
"""

from __future__ import annotations

from typing import Any

from ccomp.dialects import kern
from ccomp.dialects.cost_model import DeviceProfile
from ccomp.dialects.kern_cost import module_costs, points


def placement_lines(module: Any) -> list[str]:
    """One row per launch of a placed schedule: kernel, device, estimates, migrations."""
    launches = [op for op in module.walk() if isinstance(op, kern.LaunchOp) and "device" in op.attributes]
    if not launches:
        return ["placement: no device profiles, so -t auto runs on llvm (run 'ccomp devices --measure', "
                "or set CCOMP_DEVICE_PROFILES)"]
    if not any("estimate" in op.attributes for op in launches):
        return ["placement: every kernel on " + ", ".join(sorted({op.attributes["device"].data for op in launches}))
                + " (no device profiles: run 'ccomp devices --measure', or set CCOMP_DEVICE_PROFILES)"]
    targets = sorted({t for op in launches if "estimate" in op.attributes for t in op.attributes["estimate"].data})
    header = ["kernel", "device"] + [f"{t} us" for t in targets] + ["migrate MB", "part"]
    rows = []
    for op in launches:
        est = op.attributes["estimate"].data if "estimate" in op.attributes else {}
        moved = op.attributes.get("transfer_bytes")
        part = op.attributes.get("part")
        rows.append([op.kernel_name, op.attributes["device"].data]
                    + [f"{est[t].value.data * 1e6:.1f}" if t in est else "-" for t in targets]
                    + [f"{moved.value.data / 1e6:.2f}" if moved is not None else "-", "split" if part else ""])
    return ["placement (estimated us per launch at compile-time sizes; run-time extents assumed 1M points):"] \
        + _columns(header, rows)


def measured_lines(module: Any, profile: Any, profiles: dict[str, DeviceProfile] | None) -> list[str]:
    """Per kernel and device: measured mean against the estimate at the measured grids."""
    if profiles is None:
        return []
    costs = module_costs(module)
    sums: dict[tuple[str, str], list[float]] = {}
    for e in profile.events:
        if e.kind != "kernel" or e.device not in profiles or e.name not in costs:
            continue
        flops, nbytes = costs[e.name].launch(points(e.grid))
        row = sums.setdefault((e.name, e.device), [0, 0.0, 0.0])
        row[0] += 1
        row[1] += e.dur_ns / 1e9
        row[2] += profiles[e.device].kernel_seconds(flops, nbytes, costs[e.name].gathers)
    rows = [[name, device, str(n), f"{est / n * 1e6:.1f}", f"{got / n * 1e6:.1f}", f"{got / est:.2f}"]
            for (name, device), (n, got, est) in sums.items()]
    return ["estimate against measurement (mean per launch, at the grids that ran):"] + _columns(
        ["kernel", "device", "calls", "estimate us", "measured us", "measured/estimate"], rows)


def _columns(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    fmt = lambda cells: "  ".join(c.ljust(w) if i < 2 else c.rjust(w)  # noqa: E731
                                  for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return [fmt(header)] + [fmt(r) for r in rows]


__all__ = ["measured_lines", "placement_lines"]
