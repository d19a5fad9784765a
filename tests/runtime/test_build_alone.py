"""A build folder runs with the runtime alone: loading one imports no frontend, pass,
backend or reference evaluator, and lowers no IR (the LLVM device JIT-compiles
``kernels.ll``; the C-style devices build the shaders/kernels in the folder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ccomp
import ccomp.api
from ccomp.diagnostics import CompileError
from ccomp.runtime.devices.targets import probe

ROOT = Path(__file__).resolve().parents[2]
TONEMAP = ROOT / "examples" / "tonemap.cn"
COMPILER = ("ccomp.frontend", "ccomp.passes", "ccomp.backends", "ccomp.reference", "ccomp.driver", "lark")

# Run in a fresh interpreter: load the build, call it, save the output, and report
# which modules of the compiler the process imported.
LOADER = f"""
import json, sys
import numpy as np
import ccomp.api
prog = ccomp.api.load(sys.argv[1])
np.save(sys.argv[3], prog(src=np.load(sys.argv[2]), gain=1.2))
print(json.dumps(sorted(m for m in sys.modules if any(m == c or m.startswith(c + ".") for c in {COMPILER!r}))))
"""


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    res = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    return res


def _available(target: str) -> None:
    ok, why = probe(target)
    if not ok:
        pytest.skip(why)


@pytest.mark.parametrize("target", ["llvm", "opencl", "glsl"])
def test_a_build_folder_runs_without_the_compiler(tmp_path: Path, target: str) -> None:
    _available(target)
    env = {**os.environ, "CCOMP_CACHE_DIR": str(tmp_path / "cache")}
    folder = tmp_path / "build"
    _run("-m", "ccomp.driver.cli", "build", str(TONEMAP), "-t", target, "-o", str(folder), env=env)
    src = np.random.default_rng(3).random((37, 53, 4), dtype=np.float32)
    np.save(tmp_path / "src.npy", src)
    res = _run("-c", LOADER, str(folder), str(tmp_path / "src.npy"), str(tmp_path / "out.npy"), env=env)
    assert json.loads(res.stdout.splitlines()[-1]) == [], "loading a build imported the compiler"
    expected = ccomp.compile(TONEMAP, target=target, cache=False)(src=src, gain=1.2)
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), expected)


def test_an_llvm_build_holds_every_variant_the_device_needs(tmp_path: Path) -> None:
    build, _ = ccomp.api.get_build(ccomp.api.load_source(TONEMAP), "llvm", cache=False)
    from ccomp.runtime.build import write_build

    manifest = write_build(build, tmp_path)
    assert manifest["llvm"]["module"] == "kernels.ll"
    (kernel,) = manifest["llvm"]["may_alias"]
    assert 'define void @"tonemap' in (tmp_path / "kernels.ll").read_text()
    may_alias = (tmp_path / manifest["llvm"]["may_alias"][kernel]).read_text()
    assert f'define void @"{kernel}"' in may_alias and "noalias" not in may_alias
    assert set(manifest["files"]) >= {"kernels.ll", manifest["llvm"]["may_alias"][kernel]}


def test_a_glsl_build_falls_back_to_its_ssbo_variant_past_the_texel_limit(tmp_path: Path) -> None:
    _available("glsl")
    build, _ = ccomp.api.get_build(ccomp.api.load_source(TONEMAP), "glsl", cache=False)
    from ccomp.runtime.build import write_build

    manifest = write_build(build, tmp_path)
    (entry,) = manifest["kernels"]
    assert entry["ssbo_only"]["file"].endswith(".ssbo.comp")
    assert all(not b["texture_format"] for b in entry["ssbo_only"]["bindings"])
    prog = ccomp.api.load(tmp_path)
    src = np.random.default_rng(4).random((37, 53, 4), dtype=np.float32)
    expected = prog(src=src, gain=0.9)
    prog.device.max_texels = 100  # every texture-bound buffer is now too large
    np.testing.assert_array_equal(prog(src=src, gain=0.9), expected)
    assert "texelFetch" not in prog.device.ssbo_only[entry["name"]][0].source


def test_a_build_of_an_older_format_is_refused_and_the_cache_rebuilds_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CCOMP_CACHE_DIR", str(tmp_path / "cache"))
    first = ccomp.compile(TONEMAP, target="llvm")
    (entry,) = [p for p in (tmp_path / "cache").iterdir() if not p.name.startswith(".")]  # not .key
    path = entry / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "version": 1}))
    with pytest.raises(CompileError, match="incompatible ccomp"):
        ccomp.api.load(entry)
    again = ccomp.compile(TONEMAP, target="llvm")
    assert not again.cached and json.loads(path.read_text())["version"] == manifest["version"]
    src = np.random.default_rng(5).random((9, 11, 4), dtype=np.float32)
    np.testing.assert_array_equal(again(src=src), first(src=src))
