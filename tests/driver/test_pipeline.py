"""The one pipeline definition: specs per target and stage, --print-pipeline, and how
the driver and ``ccomp-opt`` report errors of passes and of the user's IR."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from xdsl.passes import PassPipeline

from ccomp.diagnostics import CompileError, Source
from ccomp.driver.pipeline import (
    PIPELINE, STAGES, TARGET_OPTIONS, PassTiming, available_passes, pipeline_spec, run_passes, stage_specs,
)
from ccomp.frontend import lower_to_l1

ROOT = Path(__file__).resolve().parents[2]
TONEMAP = ROOT / "examples" / "tonemap.cn"


def run(module: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def test_every_pass_of_the_pipeline_is_registered_and_parses() -> None:
    for target in ("llvm", "opencl", "glsl"):
        passes = PassPipeline.parse_spec(available_passes(), pipeline_spec(target)).passes
        assert [p.name for p in passes] == ["sparse-select-format", "graph-fuse", "graph-schedule", "actor-lower",
                                            "snn-lower", "sparse-lower",
                                            "graph-to-kern", "loop-pingpong", "canonicalize", "cse", "temporal-block"]


def test_target_options_are_in_the_spec() -> None:
    def max_bindings(target: str) -> int:
        passes = PassPipeline.parse_spec(available_passes(), pipeline_spec(target)).passes
        return next(p for p in passes if p.name == "graph-schedule").max_bindings  # type: ignore[attr-defined]

    assert max_bindings("glsl") == 8
    assert max_bindings("llvm") == max_bindings("opencl") == 0
    assert "graph-schedule{max-bindings=8}" in pipeline_spec("glsl")
    assert "{" not in pipeline_spec("llvm")


def test_target_options_name_passes_of_the_pipeline() -> None:
    names = {name for _, spec in PIPELINE for name in (p.split("{")[0] for p in spec.split(","))}
    for options in TARGET_OPTIONS.values():
        assert {p.split("{")[0] for p in options.split(",")} <= names


def test_each_stage_is_a_prefix_of_the_pipeline() -> None:
    for target in ("llvm", "glsl"):
        full = pipeline_spec(target)
        assert pipeline_spec(target, "ast") == pipeline_spec(target, "graph") == ""
        assert full.startswith(pipeline_spec(target, "fused") + ",")
        assert pipeline_spec(target, "kern") == pipeline_spec(target, "llvm") == full
        assert [s for s, _ in stage_specs(target)] == [s for s in STAGES if s in ("fused", "kern")]


def test_run_passes_times_and_reports_every_pass() -> None:
    module = lower_to_l1(Source.from_path(TONEMAP))
    seen: list[str] = []
    timings: list[PassTiming] = []
    run_passes(module, pipeline_spec("llvm"), lambda name, _: seen.append(name), timings)
    assert seen == [t.name for t in timings] == [p.split("{")[0] for p in pipeline_spec("llvm").split(",")]
    assert all(t.seconds >= 0 for t in timings)
    assert "kern.kernel" in str(module)


def test_pass_error_becomes_a_located_compile_error() -> None:
    module = lower_to_l1(Source.from_path(TONEMAP))
    with pytest.raises(CompileError) as info:
        run_passes(module, "graph-to-kern")  # blur is lowered by graph-fuse, which did not run
    text = str(info.value)
    assert text.startswith(f"{TONEMAP}:3:16: error: ") and "graph-to-kern" in text
    assert "let soft = blur(src, 1)" in text


def test_print_pipeline_for_target_and_stage() -> None:
    res = run("ccomp.driver.cli", "build", "--print-pipeline", "-t", "glsl")
    assert res.returncode == 0, res.stderr
    assert res.stdout == pipeline_spec("glsl") + "\n"
    res = run("ccomp.driver.cli", "build", "no-such-file.cn", "--print-pipeline", "--emit", "fused")
    assert res.returncode == 0 and res.stdout == pipeline_spec("llvm", "fused") + "\n"
    res = run("ccomp.driver.cli", "build", "--print-pipeline", "--emit", "spirv")
    assert res.returncode == 1 and "unknown stage 'spirv'" in res.stderr


def test_build_without_a_file_is_a_usage_error() -> None:
    res = run("ccomp.driver.cli", "build", "--emit", "kern")
    assert res.returncode == 2 and "required: file" in res.stderr and "Traceback" not in res.stderr


def test_printed_spec_runs_in_ccomp_opt_like_the_build() -> None:
    spec = run("ccomp.driver.cli", "build", "--print-pipeline", "-t", "glsl").stdout.strip()
    built = run("ccomp.driver.cli", "build", str(TONEMAP), "-t", "glsl", "--emit", "kern")
    opt = run("ccomp.driver.opt", str(TONEMAP), "-p", spec)
    assert built.returncode == opt.returncode == 0, (built.stderr, opt.stderr)
    assert built.stdout == opt.stdout


@pytest.mark.parametrize("text,args,fragment", [
    ("func.func @f(%a: i32) -> i64 {\n  func.return %a : i32\n}\n", [], "error: Expected arguments"),
    ("func.func @f(%a: i32) -> i32 {\n  func.return %b : i32\n}\n", [], "values used but not defined"),
    ("func.func @f(%a: i32) -> i32 {\n  func.return %a : i32\n}\n", ["-p", "graph-schedule{max-bindings=}"],
     "Error parsing pass pipeline"),
    ("func.func @f(%a: i32) -> i32 {\n  func.return %a : i32\n}\n", ["-p", "graph-schedule{nope=1}"], "nope"),
])
def test_ccomp_opt_reports_bad_ir_and_specs_without_traceback(tmp_path: Path, text: str, args: list[str],
                                                              fragment: str) -> None:
    path = tmp_path / "input.mlir"
    path.write_text(text)
    res = run("ccomp.driver.opt", str(path), *args)
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    assert fragment in res.stderr


def test_ccomp_opt_locates_a_pass_error() -> None:
    res = run("ccomp.driver.opt", str(TONEMAP), "-p", "graph-to-kern")
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    assert res.stderr.startswith(f"{TONEMAP}:3:16: error: ") and "graph-to-kern" in res.stderr


def test_ccomp_opt_refuses_unresolved_auto_at_the_function() -> None:
    """sparse-lower before sparse-select-format: 'auto' is on the parameters, not on any
    op's result, and must still be refused with a located error (once a traceback)."""
    pagerank = ROOT / "examples" / "pagerank.cn"
    res = run("ccomp.driver.opt", str(pagerank), "-p", "sparse-lower")
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    assert res.stderr.startswith(f"{pagerank}:2:1: error: sparse-lower needs sparse-select-format"), res.stderr
