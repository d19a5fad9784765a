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
        top.scatter(x, raster[:, 1], s=4, marker="|", linewidths=1.0, color="black")
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


def from_run(prog: Any, values: Sequence[Any], args: argparse.Namespace) -> None:
    """Draw what ``--plot`` asked for from a run's outputs: int32 (k, 2) outputs are
    rasters, 2-D float outputs traces; layer sizes, steps and dt come from the program
    where it states them (``prog.network``), else from the arrays."""
    if not getattr(args, "plot", []):
        return
    rasters, traces = _recordings(prog, values)
    info = getattr(prog, "network", None)
    dt = getattr(info, "dt_s", None)
    for path in args.plot:
        kind = kind_of(path)
        found = rasters if kind == "raster" else traces
        if not found:
            what = "raster(L)" if kind == "raster" else "trace(L)"
            raise CompileError(f"--plot {path} draws {what} outputs, and '{prog.name}' returns none; "
                               f"add {what} for a layer L to its outputs")
        try:
            if kind == "raster":
                steps = getattr(info, "steps", None) or max([len(t) for _, t in traces]
                                                            + [int(r[:, 0].max()) + 1 for _, r in found if len(r)]
                                                            + [1])
                panels = [RasterPanel(name, r, _size(info, name, r, traces), steps, dt) for name, r in found]
                draw_raster(path, panels)
            else:
                draw_voltage(path, [TracePanel(name, t, dt) for name, t in found])
        except OSError as exc:
            raise CompileError(f"cannot write the picture to {path}: {exc.strerror}") from None
        print(f"plot: wrote {path}", file=sys.stderr)


def _recordings(prog: Any, values: Sequence[Any]) -> tuple[list[tuple[str, np.ndarray]], list[tuple[str, np.ndarray]]]:
    rasters, traces = [], []
    for port, value in zip(prog.outputs, values):
        a = np.asarray(value)
        if a.ndim == 2 and a.shape[1] == 2 and a.dtype == np.int32:
            rasters.append((port.name, a))
        elif a.ndim == 2 and np.issubdtype(a.dtype, np.floating):
            traces.append((port.name, a))
    return rasters, traces


def _size(info: Any, name: str, raster: np.ndarray, traces: list[tuple[str, np.ndarray]]) -> int:
    sizes = getattr(info, "layer_sizes", None) or {}
    for layer, n in sizes.items():
        if layer in name:
            return int(n)
    return int(raster[:, 1].max()) + 1 if len(raster) else 1
