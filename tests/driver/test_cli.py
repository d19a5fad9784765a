"""The ``ccomp`` command as a user runs it: real files, real exit codes, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cliutil import assert_user_error, ccomp

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CARD = EXAMPLES / "data" / "card.png"


def test_help_explains_commands():
    res = ccomp("--help")
    assert res.returncode == 0
    for word in ("build", "run", "targets", "examples:"):
        assert word in res.stdout


def test_run_tonemap_png(tmp_path):
    out = tmp_path / "tonemap.png"
    res = ccomp("run", "examples/tonemap.cn", "--input", f"src={CARD}", "--output", f"out={out}")
    assert res.returncode == 0, res.stderr
    img = np.asarray(Image.open(out))
    assert img.shape == np.asarray(Image.open(CARD)).shape
    # tonemap's output takes only two colours
    assert len(np.unique(img.reshape(-1, 4), axis=0)) == 2


def test_run_edges_prints_scalar_and_writes_npy(tmp_path):
    out = tmp_path / "mag.npy"
    res = ccomp("run", "examples/edges.cn", "--input", f"src={CARD}", "--output", f"mag={out}")
    assert res.returncode == 0, res.stderr
    assert "mean_mag = " in res.stdout
    mag = np.load(out)
    assert mag.dtype == np.float32 and mag.shape == (256, 384)
    printed = float(res.stdout.split("mean_mag = ")[1].split()[0])
    assert abs(printed - float(mag.mean())) < 1e-4


def test_scalar_input_from_command_line(tmp_path):
    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    assert ccomp("run", "examples/tonemap.cn", "-i", f"src={CARD}", "-i", "gain=0.1", "-o", f"out={a}").returncode == 0
    assert ccomp("run", "examples/tonemap.cn", "-i", f"src={CARD}", "-i", "gain=3", "-o", f"out={b}").returncode == 0
    assert not np.array_equal(np.load(a), np.load(b))


def test_build_writes_artefacts(tmp_path):
    res = ccomp("build", "examples/tonemap.cn", "-o", str(tmp_path / "build"))
    assert res.returncode == 0, res.stderr
    names = {p.name for p in (tmp_path / "build").iterdir()}
    assert {"manifest.json", "host.mlir", "program.cn", "kernels.ll"} <= names


@pytest.mark.parametrize("stage,marker", [("ast", "GraphDecl"), ("graph", "graph.map"),
                                          ("fused", "graph.load"), ("kern", "kern.kernel"),
                                          ("llvm", "define")])
def test_emit_each_stage(stage, marker):
    res = ccomp("build", "examples/tonemap.cn", "--emit", stage)
    assert res.returncode == 0, res.stderr
    assert marker in res.stdout


def test_print_ir_after_all():
    res = ccomp("build", "examples/edges.cn", "--emit", "kern", "--print-ir-after-all")
    assert res.returncode == 0, res.stderr
    for flag in ("graph-fuse", "graph-to-kern", "canonicalize", "cse"):
        assert f"IR after {flag}" in res.stderr


def test_missing_program_file():
    assert_user_error(ccomp("build", "nope.cn"), "no such file", "nope.cn")
    assert_user_error(ccomp("build", "nope"), "no such file: 'nope'")
    assert_user_error(ccomp("build", "examples"), "'examples' is a folder")


def test_ccomp_opt_errors_are_not_tracebacks():
    res = subprocess.run([sys.executable, "-m", "ccomp.driver.opt", "missing.cn"], capture_output=True, text=True)
    assert res.returncode == 1 and "no such file" in res.stderr and "Traceback" not in res.stderr
    res = subprocess.run([sys.executable, "-m", "ccomp.driver.opt", "examples/edges.cn", "-p", "no-such-pass"],
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 1 and "no-such-pass" in res.stderr and "Traceback" not in res.stderr


def test_unknown_stage_and_target():
    assert_user_error(ccomp("build", "examples/tonemap.cn", "--emit", "spirv"), "unknown stage 'spirv'")
    assert_user_error(ccomp("build", "examples/tonemap.cn", "-t", "vulkan"), "unknown target 'vulkan'")


def test_missing_input_file():
    assert_user_error(ccomp("run", "examples/edges.cn", "--input", "src=missing.png"),
                      "input 'src'", "missing.png")


def test_missing_input_is_located():
    res = ccomp("run", "examples/edges.cn")
    assert_user_error(res, "examples/edges.cn:2:13: error: input 'src' is missing")
    assert "^" in res.stderr


def test_wrong_shape_input_names_it(tmp_path):
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((4, 4, 3), dtype=np.float32))
    res = ccomp("run", "examples/edges.cn", "--input", f"src={bad}")
    assert_user_error(res, "edges.cn:2:13: error: input 'src' must have shape (height, width), got (4, 4, 3)")


def test_wrong_dtype_input(tmp_path):
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((4, 4), dtype=np.float64))
    assert_user_error(ccomp("run", "examples/edges.cn", "--input", f"src={bad}"),
                      "input 'src' must have dtype float32, got float64")


def test_corrupt_input_file(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    assert_user_error(ccomp("run", "examples/edges.cn", "--input", f"src={bad}"), "input 'src': cannot read")


def test_unknown_input_and_output_names():
    assert_user_error(ccomp("run", "examples/edges.cn", "--input", f"img={CARD}"), "has no input 'img'")
    assert_user_error(ccomp("run", "examples/edges.cn", "--input", f"src={CARD}", "--output", "edges=x.png"),
                      "has no output 'edges'")


def test_non_numeric_scalar():
    assert_user_error(ccomp("run", "examples/tonemap.cn", "-i", f"src={CARD}", "-i", "gain=bright"),
                      "'bright' is not a number")


def test_syntax_error_is_located(tmp_path):
    prog = tmp_path / "bad.cn"
    prog.write_text("graph g(a: image<f32>) -> image<f32> {\n    return a +\n}\n")
    res = ccomp("build", str(prog))
    assert_user_error(res, "bad.cn:3:1: error: unexpected '}'")


def test_run_prints_a_small_tensor_result_and_writes_it(tmp_path):
    """A graph's histogram is a tensor<Nxi32> output: printed when small, written to .npy."""
    prog = tmp_path / "h.cn"
    prog.write_text("graph h(a: image<f32>) -> tensor<4xi32> {\n    return histogram(a, 4, 0.0, 1.0)\n}\n")
    img = np.linspace(0.0, 1.0, 40, dtype=np.float32).reshape(5, 8)
    np.save(tmp_path / "a.npy", img)
    want = np.histogram(img, 4, range=(0.0, 1.0))[0]
    res = ccomp("run", str(prog), "--input", f"a={tmp_path / 'a.npy'}")
    assert res.returncode == 0, res.stderr
    assert f"out: tensor<4xi32> (4,) [{' '.join(str(v) for v in want)}]" in res.stdout
    res = ccomp("run", str(prog), "--input", f"a={tmp_path / 'a.npy'}", "--output", f"out={tmp_path / 'h.npy'}")
    assert res.returncode == 0, res.stderr
    got = np.load(tmp_path / "h.npy")
    assert got.dtype == np.int32 and np.array_equal(got, want)
