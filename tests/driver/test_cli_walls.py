"""What a new user tripped over on the command line (issue 16), each a real ``ccomp`` or
``ccomp-opt`` run: static sizes, bools, units in defaults, ``--emit`` of kernel source,
targets of build folders, ``-o``, the default build folder, ``ccomp-opt``'s targets,
help and stdin."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cliutil import assert_user_error, ccomp

ROOT = Path(__file__).resolve().parents[2]
TONEMAP = ROOT / "examples" / "tonemap.cn"
CARD = ROOT / "examples" / "data" / "card.png"
SIZED = """graph sized(src: image<f32, 8x4>, flag: bool = false) -> image<f32> {
    return select(flag, src * 2.0, src)
}
"""
TENSOR = """fn shaped(a: tensor<4x3xf32>, b: tensor<?x3xf32>) -> tensor<4x3xf32> {
    return a + 1.0
}
"""


def opt(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ccomp.driver.opt", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, input=stdin)


@pytest.fixture
def sized(tmp_path: Path) -> Path:
    (tmp_path / "sized.cn").write_text(SIZED)
    np.save(tmp_path / "good.npy", np.ones((4, 8), np.float32))
    np.save(tmp_path / "bad.npy", np.ones((8, 4), np.float32))
    return tmp_path


def test_static_image_size_is_checked(sized: Path):
    ok = ccomp("run", str(sized / "sized.cn"), "--input", f"src={sized / 'good.npy'}", "--output",
               f"out={sized / 'o.npy'}")
    assert ok.returncode == 0, ok.stderr
    res = ccomp("run", str(sized / "sized.cn"), "--input", f"src={sized / 'bad.npy'}")
    assert_user_error(res, "sized.cn:1:13: error: input 'src' is declared image<f32, 8x4>: its shape must be (4, 8)",
                      "got (8, 4)", "^")


def test_static_tensor_size_is_checked(tmp_path: Path):
    (tmp_path / "t.cn").write_text(TENSOR)
    np.save(tmp_path / "a53.npy", np.ones((5, 3), np.float32))
    np.save(tmp_path / "b24.npy", np.ones((2, 4), np.float32))
    np.save(tmp_path / "b23.npy", np.ones((2, 3), np.float32))
    res = ccomp("run", str(tmp_path / "t.cn"), "-i", f"a={tmp_path / 'a53.npy'}", "-i", f"b={tmp_path / 'b23.npy'}")
    assert_user_error(res, "t.cn:1:11: error: input 'a' is declared tensor<4x3xf32>: its shape must be (4, 3), got (5, 3)")
    np.save(tmp_path / "a43.npy", np.ones((4, 3), np.float32))
    res = ccomp("run", str(tmp_path / "t.cn"), "-i", f"a={tmp_path / 'a43.npy'}", "-i", f"b={tmp_path / 'b24.npy'}")
    assert_user_error(res, "input 'b' is declared tensor<?x3xf32>: its shape must be (rows, 3), got (2, 4)")


@pytest.mark.parametrize("value, ok", [("true", True), ("false", True), ("True", True), ("2", False),
                                       ("0.5", False), ("1", False)])
def test_bool_inputs_are_true_or_false(sized: Path, value: str, ok: bool):
    res = ccomp("run", str(sized / "sized.cn"), "-i", f"src={sized / 'good.npy'}", "-i", f"flag={value}",
                "--output", f"out={sized / 'o.npy'}")
    if ok:
        assert res.returncode == 0, res.stderr
        assert np.load(sized / "o.npy")[0, 0] == (2.0 if value.lower() == "true" else 1.0)
    else:
        assert_user_error(res, f"sized.cn:1:35: error: input 'flag' is a bool: write true or false, not '{value}'")
        assert "i1" not in res.stderr


def test_scalar_messages_name_language_types():
    res = ccomp("run", str(TONEMAP), "-i", f"src={CARD}", "-i", "gain=bright")
    assert_user_error(res, "input 'gain' is an f32 scalar; 'bright' is not a number")


def test_units_in_a_default(tmp_path: Path):
    (tmp_path / "hz.cn").write_text("graph g(src: image<f32>, rate: f32 = 100Hz) -> image<f32> {\n"
                                    "    return src * rate\n}\n")
    assert_user_error(ccomp("build", str(tmp_path / "hz.cn")),
                      "hz.cn:1:38: error: quantities with units belong to networks, not graphs")


def test_emit_prints_kernel_source():
    glsl = ccomp("build", str(TONEMAP), "--emit", "glsl")
    assert glsl.returncode == 0, glsl.stderr
    assert "#version 430" in glsl.stdout and "// kernel tonemap_0" in glsl.stdout
    cl = ccomp("build", str(TONEMAP), "--emit", "opencl", "-t", "opencl")
    assert cl.returncode == 0 and "__kernel" in cl.stdout and "#version" not in cl.stdout
    assert "define " in ccomp("build", str(TONEMAP), "--emit", "llvm").stdout
    assert ccomp("build", "--print-pipeline", "--emit", "glsl").stdout.strip() == \
        ccomp("build", "--print-pipeline", "-t", "glsl").stdout.strip()


@pytest.mark.parametrize("emit, target", [("opencl", "glsl"), ("glsl", "llvm"), ("llvm", "glsl")])
def test_emit_refuses_another_target(emit: str, target: str):
    res = ccomp("build", str(TONEMAP), "--emit", emit, "-t", target)
    assert_user_error(res, f"--emit {emit} prints the code the {emit} target runs, but -t asks for {target}")


def test_run_build_refuses_another_target(tmp_path: Path):
    folder = tmp_path / "b"
    assert ccomp("build", str(TONEMAP), "-t", "opencl", "-o", str(folder)).returncode == 0
    res = ccomp("run", "--build", str(folder), "-t", "glsl", "-i", f"src={CARD}")
    assert_user_error(res, f"the build in {folder} is for target opencl, not glsl")


def test_default_build_folder_and_o(tmp_path: Path):
    res = ccomp("build", str(TONEMAP), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "ccomp-build" / "manifest.json").is_file() and not (tmp_path / "build").exists()
    # run -o is the build folder too; outputs are --output (the old -o NAME=FILE still works)
    out = tmp_path / "o.png"
    res = ccomp("run", str(TONEMAP), "-i", f"src={CARD}", "-o", str(tmp_path / "rb"), "--output", f"out={out}")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "rb" / "manifest.json").is_file() and out.is_file()
    old = ccomp("run", str(TONEMAP), "-i", f"src={CARD}", "-o", f"out={tmp_path / 'old.png'}")
    assert old.returncode == 0 and (tmp_path / "old.png").is_file() and "--output" in old.stderr
    assert_user_error(ccomp("run", "--build", str(tmp_path / "rb"), "-o", str(tmp_path / "x")), "drop one of them")


def test_help_texts():
    run_help = ccomp("run", "--help").stdout
    assert ".npz" in run_help and "true or false" in run_help
    build_help = ccomp("build", "--help").stdout
    assert "ccomp-build/" in build_help and "glsl" in build_help
    passes = re.sub(r"(\w)- (\w)", r"\1-\2", " ".join(opt("--help").stdout.split()))  # argparse wraps at hyphens
    ours = passes.index("ccomp's:", passes.index("comma-separated passes"))  # -p's list (-t has its own)
    xdsl = passes.index("xDSL's:", ours)  # ccomp's passes are listed first
    assert ours < passes.index("graph-fuse") < passes.index("loop-pingpong") < xdsl < passes.index("cse", xdsl)


def test_ccomp_opt_code_targets():
    spec = ccomp("build", "--print-pipeline", "-t", "glsl").stdout.strip()
    glsl = opt(str(TONEMAP), "-p", spec, "-t", "glsl")
    assert glsl.returncode == 0, glsl.stderr
    assert glsl.stdout.rstrip() == ccomp("build", str(TONEMAP), "--emit", "glsl").stdout.rstrip()
    llvm = opt(str(TONEMAP), "-p", ccomp("build", "--print-pipeline").stdout.strip(), "-t", "llvm")
    assert llvm.returncode == 0 and "define " in llvm.stdout, llvm.stderr
    res = opt(str(TONEMAP), "-t", "llvm")  # still L1: refused, with the way forward
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "prints the kernels of a kern-level module" in res.stderr and "-p 'sparse-select-format" in res.stderr


def test_ccomp_opt_hints_at_cn_on_stdin():
    res = opt(stdin=TONEMAP.read_text())
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "looks like a ComputeNodes program" in res.stderr and "-f cn" in res.stderr
    ok = opt("-f", "cn", stdin=TONEMAP.read_text())
    assert ok.returncode == 0 and "graph.map" in ok.stdout, ok.stderr
    plain = opt(stdin="func.func @f( {")  # bad MLIR gets no such hint
    assert plain.returncode == 1 and "ComputeNodes" not in plain.stderr


def test_run_prints_results_in_the_language_types_with_static_sizes(tmp_path):
    prog = tmp_path / "s.cn"
    prog.write_text("graph s(a: image<f32, 8x4>) -> (o: image<f32>, h: tensor<4xi32>) {\n"
                    "    return a * 2.0, histogram(a, 4, 0.0, 1.0)\n}\n")
    np.save(tmp_path / "a.npy", np.full((4, 8), 0.3, np.float32))
    res = ccomp("run", str(prog), "--input", f"a={tmp_path / 'a.npy'}")
    assert res.returncode == 0, res.stderr
    assert "o: image<f32, 8x4> (4, 8) (not written; add --output o=FILE)" in res.stdout
    assert "h: tensor<4xi32> (4,) [ 0 32  0  0] (not written" in res.stdout
