"""``ccomp/driver/plot.py``: the raster and voltage pictures are real PNGs of the
expected size with ink where the spikes and traces are, and a missing matplotlib is a
one-line error that names the ``plot`` extra."""

from __future__ import annotations

import argparse
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from ccomp.diagnostics import CompileError
from ccomp.driver import plot

pytest.importorskip("matplotlib", reason="matplotlib (the test and plot extras) draws the pictures")


def _ink(path) -> tuple[tuple[int, int], np.ndarray]:
    """The image's size and a mask of its non-white pixels."""
    img = np.asarray(Image.open(path).convert("RGB")).astype(np.int32)
    return (img.shape[1], img.shape[0]), (img < 250).any(axis=2)


def _raster(steps: int, n: int, seed: int) -> np.ndarray:
    spikes = np.random.default_rng(seed).random((steps, n)) < 0.1
    s, i = np.nonzero(spikes)
    return np.stack([s, i], axis=1).astype(np.int32)


def test_raster_png_has_a_panel_per_layer_with_spikes_and_rate(tmp_path) -> None:
    path = tmp_path / "raster.png"
    panels = [plot.RasterPanel("h", _raster(100, 128, 1), 128, 100, 1e-3),
              plot.RasterPanel("o", _raster(100, 10, 2), 10, 100, 1e-3)]
    plot.draw_raster(path, panels)
    size, ink = _ink(path)
    assert size[0] == int(plot.WIDTH_IN * plot.DPI) and size[1] >= 300
    assert 0.02 < ink.mean() < 0.6  # axes, labels, dots and rate lines; not a blank or black page
    red = np.asarray(Image.open(path).convert("RGB")).astype(np.int32)
    rate_pixels = (red[..., 0] > 150) & (red[..., 1] < 120) & (red[..., 2] < 120)  # tab:red rate lines
    assert rate_pixels.sum() > 100
    empty = tmp_path / "empty.png"
    plot.draw_raster(empty, [plot.RasterPanel("h", np.zeros((0, 2), np.int32), 128, 100, 1e-3)])
    assert _ink(empty)[1].mean() < ink.mean()  # axes only: less ink than with spikes


def test_more_spikes_more_ink(tmp_path) -> None:
    few, many = tmp_path / "few.png", tmp_path / "many.png"
    raster = _raster(100, 50, 3)
    plot.draw_raster(few, [plot.RasterPanel("h", raster[:20], 50, 100, None)])
    plot.draw_raster(many, [plot.RasterPanel("h", raster, 50, 100, None)])
    assert _ink(many)[1].sum() > _ink(few)[1].sum() + 500


def test_voltage_png(tmp_path) -> None:
    path = tmp_path / "voltage.png"
    t = np.arange(200, dtype=np.float32)[:, None]
    trace = (np.sin(t / 10 + np.arange(20, dtype=np.float32)) * 0.5).astype(np.float32)  # (200, 20)
    plot.draw_voltage(path, [plot.TracePanel("h", trace, 1e-4), plot.TracePanel("o", trace[:, :3], 1e-4)])
    size, ink = _ink(path)
    assert size[0] == int(plot.WIDTH_IN * plot.DPI)
    colored = np.asarray(Image.open(path).convert("RGB")).astype(np.int32)
    lines = (colored.max(axis=2) - colored.min(axis=2)) > 60  # coloured line pixels, not grey text
    assert lines.sum() > 1000


def test_kind_from_the_file_name() -> None:
    assert plot.kind_of("out/raster.png") == "raster" and plot.kind_of("spikes.svg") == "raster"
    assert plot.kind_of("voltage.png") == "voltage" and plot.kind_of("h_trace.pdf") == "voltage"


def test_bad_suffix_and_no_recordings_are_clean_errors(tmp_path) -> None:
    with pytest.raises(CompileError, match=r"--plot raster.gif: give a file ending in .png, .svg, .pdf"):
        plot.check_flags(argparse.Namespace(plot=["raster.gif"]))
    prog = SimpleNamespace(name="classify", outputs=[SimpleNamespace(name="out")])
    args = argparse.Namespace(plot=[str(tmp_path / "raster.png")])
    with pytest.raises(CompileError, match=r"draws raster\(L\) outputs, and 'classify' returns none"):
        plot.from_run(prog, [np.zeros(10, np.int32)], args)


def test_from_run_without_program_info_takes_arrays_by_shape(tmp_path) -> None:
    """A program whose source is not at hand (a loaded build): int32 (k, 2) outputs are
    rasters, 2-D float outputs traces."""
    prog = SimpleNamespace(name="net", source=None,
                           outputs=[SimpleNamespace(name=n) for n in ("count", "raster_h", "trace_h")])
    values = [np.zeros(30, np.int32), _raster(50, 30, 4), np.random.default_rng(0).random((50, 30)).astype(np.float32)]
    r, v = tmp_path / "raster.png", tmp_path / "voltage.png"
    plot.from_run(prog, values, argparse.Namespace(plot=[str(r), str(v)]))
    assert _ink(r)[1].mean() > 0.02 and _ink(v)[1].mean() > 0.02


def test_missing_matplotlib_names_the_extra(monkeypatch, tmp_path) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # what an uninstalled package imports as
    with pytest.raises(CompileError) as err:
        plot.check_flags(argparse.Namespace(plot=["raster.png"]))
    assert str(err.value).count("\n") == 0 and "pip install 'ccomp[plot]'" in str(err.value)
    with pytest.raises(CompileError, match=r"ccomp\[plot\]"):
        plot.draw_raster(tmp_path / "r.png", [plot.RasterPanel("h", np.zeros((0, 2), np.int32), 1, 1)])
