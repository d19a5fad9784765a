"""``ccomp run net.cn --plot raster.png --plot voltage.png`` on a real network program:
the pictures are written with the layers the program names, and a missing matplotlib
or a program without recordings is a one-line error with exit code 1."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from PIL import Image

import ccomp
from ccomp.driver import cli, plot

pytest.importorskip("matplotlib", reason="matplotlib (the test and plot extras) draws the pictures")

NET = """network pair() -> (r: tensor<?x2xi32>, tr: tensor<60x4xf32>, c: tensor<4xi32>, ro: tensor<?x2xi32>)
    steps 60 dt 0.5ms
{
    layer n = lif(4, tau: 10ms, v_th: 1.0, bias: 2.0, refractory: 2ms)
    layer m = lif(3, tau: 5ms, v_th: 0.5) <- n weights "w.npy"
    return raster(n), trace(n), spike_count(n), raster(m)
}
"""


@pytest.fixture
def program(tmp_path):
    np.save(tmp_path / "w.npy", np.full((4, 3), 0.9, np.float32))
    path = tmp_path / "pair.cn"
    path.write_text(NET)
    return path


def test_raster_and_voltage_pictures(program, tmp_path, capsys) -> None:
    raster, voltage = tmp_path / "raster.png", tmp_path / "voltage.png"
    assert cli.main(["run", str(program), "--plot", str(raster), "--plot", str(voltage)]) == 0
    err = capsys.readouterr().err
    assert f"plot: wrote {raster}" in err and f"plot: wrote {voltage}" in err
    info = plot.describe(ccomp.compile_file(str(program)))
    assert info is not None and info.dt_s == pytest.approx(5e-4) and info.steps == 60
    assert {i: (r.kind, r.label, r.size) for i, r in info.outputs.items()} == {
        0: ("raster", "n", 4), 1: ("trace", "n", 4), 3: ("raster", "m", 3)}
    for path in (raster, voltage):
        img = np.asarray(Image.open(path).convert("RGB"))
        assert img.shape[1] == int(plot.WIDTH_IN * plot.DPI) and (img < 250).any(axis=2).mean() > 0.02
    assert Image.open(raster).size[1] > Image.open(voltage).size[1]  # two layers, each with its rate


def test_missing_matplotlib_is_one_line(program, tmp_path, capsys, monkeypatch) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert cli.main(["run", str(program), "--plot", str(tmp_path / "raster.png")]) == 1
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "pip install 'ccomp[plot]'" in err and "Traceback" not in err
    assert not (tmp_path / "raster.png").exists()


def test_no_trace_output_is_named(program, tmp_path, capsys) -> None:
    src = program.read_text().replace("trace(n), ", "").replace("tr: tensor<60x4xf32>, ", "")
    program.write_text(src)
    assert cli.main(["run", str(program), "--plot", str(tmp_path / "voltage.png")]) == 1
    assert "draws trace(L) outputs, and 'pair' returns none" in capsys.readouterr().err
