"""Pictures of a spiking run: ``ccomp run net.cn --plot raster.png`` / ``--plot voltage.png``.

A spike raster per layer with the population rate under it, or the membrane traces
of the recorded layers, drawn with matplotlib (the optional ``[plot]`` extra). The
drawing functions take plain arrays — rasters as int32 (k, 2) arrays of (step,
neuron) pairs, traces as (T, N) float arrays — so they work on any run's outputs;
``add_flags`` and ``from_run`` are the CLI's hook. Which picture a file gets is read
from its name: one with ``voltage`` or ``trace`` in it gets the traces, any other the
raster. matplotlib is imported only when a picture is asked for, and its absence is a
one-line error that names the extra, before the program runs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ccomp.diagnostics import CompileError

log = logging.getLogger(__name__)
FORMATS = (".png", ".svg", ".pdf")
MAX_TRACES = 10  # lines per layer: more is unreadable
WIDTH_IN, DPI = 8.0, 100


@dataclass(frozen=True)
class RasterPanel:
    """One layer's spikes: ``raster`` (k, 2) int32 of (step, neuron), ``n`` neurons,
    ``steps`` steps of ``dt_s`` seconds (None: the x axis counts steps)."""

    name: str
    raster: np.ndarray
    n: int
    steps: int
    dt_s: float | None = None


@dataclass(frozen=True)
class TracePanel:
    """One recorded layer's membrane potentials: ``trace`` (T, N)."""

    name: str
    trace: np.ndarray
    dt_s: float | None = None


def require_matplotlib() -> None:
    """Raise the one-line error that names the ``plot`` extra when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CompileError("--plot needs matplotlib, which is not installed; install it with "
                           "pip install 'ccomp[plot]' (or pip install matplotlib)") from None


def _figure(rows: int, ratios: Sequence[float]):
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, max(2.0, sum(ratios) * 0.9)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(rows, 1, height_ratios=list(ratios))
    return fig, grid


def _time(steps: np.ndarray, dt_s: float | None) -> tuple[np.ndarray, str]:
    return (steps * dt_s * 1e3, "time (ms)") if dt_s else (steps.astype(np.float64), "step")


def draw_raster(path: str | Path, panels: Sequence[RasterPanel]) -> None:
    """Write a raster per layer (a dot per spike, neurons up the y axis) with the
    population rate under it (spikes per neuron per second, or per step without dt)."""
    fig, grid = _figure(2 * len(panels), [3, 1] * len(panels))
    for k, p in enumerate(panels):
        raster = np.asarray(p.raster).reshape(-1, 2)
        top = fig.add_subplot(grid[2 * k])
        x, label = _time(raster[:, 0], p.dt_s)
        tick = min(max(130.0 / max(p.n, 1), 2.0), 12.0)  # points: a tick per row, short for many rows
        top.scatter(x, raster[:, 1], s=tick * tick, marker="|", linewidths=1.0, color="black")
        end, _ = _time(np.array([p.steps]), p.dt_s)
        top.set_xlim(0, end[0])
        top.set_ylim(-0.5, p.n - 0.5)
        top.set_ylabel("neuron")
        top.set_title(f"{p.name}: {len(raster)} spikes, {p.n} neurons")
        bottom = fig.add_subplot(grid[2 * k + 1], sharex=top)
        per_step = np.bincount(raster[:, 0], minlength=p.steps)[: p.steps] / max(p.n, 1)
        rate = per_step / p.dt_s if p.dt_s else per_step
        t, _ = _time(np.arange(p.steps), p.dt_s)
        bottom.plot(t, rate, color="tab:red", linewidth=1.0, drawstyle="steps-post")
        bottom.set_ylabel("rate (Hz)" if p.dt_s else "rate / step")
        bottom.set_xlabel(label)
    fig.savefig(path)
    log.info("wrote raster of %d layer(s) to %s", len(panels), path)


def draw_voltage(path: str | Path, panels: Sequence[TracePanel]) -> None:
    """Write the membrane traces of each recorded layer (its first ``MAX_TRACES`` neurons)."""
    fig, grid = _figure(len(panels), [2] * len(panels))
    for k, p in enumerate(panels):
        trace = np.asarray(p.trace, np.float64).reshape(len(p.trace), -1)
        ax = fig.add_subplot(grid[k])
        t, label = _time(np.arange(trace.shape[0]), p.dt_s)
        shown = min(trace.shape[1], MAX_TRACES)
        for j in range(shown):
            ax.plot(t, trace[:, j], linewidth=0.8)
        more = f" (first {shown} of {trace.shape[1]})" if shown < trace.shape[1] else ""
        ax.set_title(f"{p.name}: membrane potential{more}")
        ax.set_ylabel("v")
        ax.set_xlabel(label)
    fig.savefig(path)
    log.info("wrote traces of %d layer(s) to %s", len(panels), path)


# ---- the CLI's hook ---------------------------------------------------------------------
def add_flags(run_parser: argparse.ArgumentParser) -> None:
    run_parser.add_argument(
        "--plot", action="append", default=[], metavar="FILE.png",
        help="draw a network's recordings: a spike raster per layer with its population rate (raster(L) "
             "outputs), or, for a file named like voltage.png, the membrane traces (trace(L) outputs); "
             "needs matplotlib (pip install 'ccomp[plot]')")


def kind_of(path: str) -> str:
    """``voltage`` for a file whose name says voltage or trace, else ``raster``."""
    stem = Path(path).stem.lower()
    return "voltage" if "voltage" in stem or "trace" in stem else "raster"


def check_flags(args: argparse.Namespace) -> None:
    """Refuse a bad ``--plot`` before the program runs (a long simulation should not end
    in 'cannot draw')."""
    for path in getattr(args, "plot", []):
        if Path(path).suffix.lower() not in FORMATS:
            raise CompileError(f"--plot {path}: give a file ending in {', '.join(FORMATS)}")
    if getattr(args, "plot", []):
        require_matplotlib()


@dataclass(frozen=True)
class Recording:
    """What the program says of one output: a decoder ``kind`` of layer ``label``."""

    kind: str
    label: str
    size: int


@dataclass(frozen=True)
class NetworkInfo:
    dt_s: float
    steps: int | None
    outputs: dict[int, Recording]


def describe(prog: Any) -> NetworkInfo | None:
    """dt, steps and what each output records, read from the program's ``snn.network``
    (its L1 IR, generated again from the source: cheap next to a run). None where the
    program is no network or its source is not at hand (a loaded build folder)."""
    source = getattr(prog, "source", None)
    if source is None:
        return None
    from xdsl.dialects import arith, func

    from ccomp.frontend import lower_to_l1

    try:
        from ccomp.dialects import snn

        module = lower_to_l1(source)
    except (ImportError, CompileError):
        return None
    for fn in module.body.block.ops:
        if not isinstance(fn, func.FuncOp) or fn.sym_name.data != prog.name:
            continue
        net = next((op for op in fn.walk() if isinstance(op, snn.NetworkOp)), None)
        ret = fn.body.block.last_op
        if net is None or not isinstance(ret, func.ReturnOp):
            return None
        yielded = net.body.block.last_op.operands
        outputs = {}
        for i, value in enumerate(ret.operands):
            if value.owner is not net:
                continue
            decode = yielded[net.res.index(value)].owner
            if isinstance(decode, snn.DecodeOp) and decode.kind.data in ("raster", "trace"):
                layer = decode.population.owner
                label = layer.label.data if hasattr(layer, "label") else f"output {i}"
                outputs[i] = Recording(decode.kind.data, label, snn.population_size(decode.population))
        steps = net.steps.owner
        fixed = steps.value.value.data if isinstance(steps, arith.ConstantOp) else None
        return NetworkInfo(net.dt.value.data, fixed, outputs)
    return None


def from_run(prog: Any, values: Sequence[Any], args: argparse.Namespace) -> None:
    """Draw what ``--plot`` asked for from a run's outputs. Layers, sizes, dt and steps
    come from the program (``describe``); without it int32 (k, 2) outputs are taken for
    rasters and 2-D float outputs for traces. Of a batch, copy 0 is drawn."""
    if not getattr(args, "plot", []):
        return
    info = describe(prog)
    rasters, traces = _recordings(prog, values, info)
    dt = info.dt_s if info else None
    for path in args.plot:
        kind = kind_of(path)
        found = rasters if kind == "raster" else traces
        if not found:
            what = "raster(L)" if kind == "raster" else "trace(L)"
            raise CompileError(f"--plot {path} draws {what} outputs, and '{prog.name}' returns none; "
                               f"add {what} for a layer L to its outputs")
        try:
            if kind == "raster":
                steps = (info.steps if info else None) or max(
                    [len(t) for _, t, _ in traces] + [int(r[:, 0].max()) + 1 for _, r, _ in found if len(r)] + [1])
                draw_raster(path, [RasterPanel(name, r, n or (int(r[:, 1].max()) + 1 if len(r) else 1), steps, dt)
                                   for name, r, n in found])
            else:
                draw_voltage(path, [TracePanel(name, t, dt) for name, t, _ in found])
        except OSError as exc:
            raise CompileError(f"cannot write the picture to {path}: {exc.strerror}") from None
        print(f"plot: wrote {path}", file=sys.stderr)


def _recordings(prog: Any, values: Sequence[Any], info: NetworkInfo | None
                ) -> tuple[list[tuple[str, np.ndarray, int | None]], list[tuple[str, np.ndarray, int | None]]]:
    """(title, array, layer size) of the raster and trace outputs, batch copy 0 only."""
    rasters, traces = [], []
    for i, (port, value) in enumerate(zip(prog.outputs, values)):
        a = np.asarray(value)
        rec = info.outputs.get(i) if info else None
        if info is not None and rec is None:
            continue
        batched = a.ndim == 2 and a.shape[1] == 3 or np.issubdtype(a.dtype, np.floating) and a.ndim == 3
        title = f"{rec.label} ({port.name})" if rec else port.name
        if batched:
            title += " — copy 0 of the batch"
        if a.dtype == np.int32 and a.ndim == 2 and a.shape[1] in (2, 3) and (rec is None or rec.kind == "raster"):
            rasters.append((title, a[a[:, 0] == 0][:, 1:] if a.shape[1] == 3 else a, rec.size if rec else None))
        elif np.issubdtype(a.dtype, np.floating) and a.ndim in (2, 3) and (rec is None or rec.kind == "trace"):
            traces.append((title, a[0] if a.ndim == 3 else a, rec.size if rec else None))
    return rasters, traces
