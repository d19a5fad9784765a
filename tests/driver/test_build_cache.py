"""Build folders, the manifest and the build cache, as a host program would use them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import ccomp
import ccomp.api
from ccomp.diagnostics import CompileError

ROOT = Path(__file__).resolve().parents[2]
TONEMAP = ROOT / "examples" / "tonemap.cn"
EDGES = ROOT / "examples" / "edges.cn"


def entries(cache: Path) -> list[Path]:
    """The cache's entries (not its key file, ``.key``)."""
    return [p for p in cache.iterdir() if not p.name.startswith(".")]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOMP_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.mark.parametrize("target,suffix", [("glsl", ".comp"), ("opencl", ".cl"), ("llvm", None)])
def test_build_folder_runs_without_recompiling(tmp_path, target, suffix, monkeypatch):
    build, _ = ccomp.api.get_build(ccomp.api.load_source(EDGES), target, cache=False)
    from ccomp.runtime.build import write_build
    out = tmp_path / "b"
    manifest = write_build(build, out)
    if suffix:
        variants = [k for k in manifest["kernels"] if k.get("ssbo_only")]  # glsl: see docs/manifest.md
        assert sorted(p.suffix for p in (out / "kernels").iterdir()) == [suffix] * (len(manifest["kernels"]) + len(variants))
    else:
        assert (out / "kernels.ll").read_text().count("define") >= 3
    src = np.random.default_rng(0).random((40, 50), dtype=np.float32)
    fresh = ccomp.compile(EDGES, target="llvm", cache=False)(src=src)
    # Loading must not touch the frontend or the passes.
    import ccomp.api as api
    monkeypatch.setattr(api, "compile_to_kern", lambda *a, **k: pytest.fail("recompiled"))
    prog = ccomp.api.load(out)
    mag, mean = prog(src=src)
    np.testing.assert_allclose(mag, fresh.mag, atol=1e-5)
    np.testing.assert_allclose(mean, fresh.mean_mag, rtol=1e-5)


def test_manifest_describes_kernels_and_schedule(tmp_path):
    build, _ = ccomp.api.get_build(ccomp.api.load_source(TONEMAP), "glsl", cache=False)
    from ccomp.runtime.build import write_build
    manifest = write_build(build, tmp_path)
    on_disk = json.loads((tmp_path / "manifest.json").read_text())
    assert on_disk == json.loads(json.dumps(manifest))
    assert manifest["format"] == "ccomp-build" and manifest["version"] == 2
    assert [p["name"] for p in manifest["inputs"]] == ["src", "gain"]
    assert manifest["inputs"][1]["default"] == 1.5
    (k,) = manifest["kernels"]
    assert list(k["local_size"]) == [16, 16]
    kinds = {b["kind"] for b in k["bindings"]}
    assert "buffer" in kinds
    accesses = {b["access"] for b in k["bindings"] if b["kind"] == "buffer"}
    assert accesses == {"read", "write"}
    ops = [s["op"] for s in manifest["schedule"]]
    assert ops.count("launch") == 1 and "alloc" in ops and ops[-1] == "return"
    assert ops[ops.index("launch") + 1] == "barrier"


def test_cache_serves_second_compile(cache):
    first = ccomp.compile(TONEMAP, target="llvm")
    second = ccomp.compile(TONEMAP, target="llvm")
    assert not first.cached and second.cached
    assert len(entries(cache)) == 1
    other = ccomp.compile(TONEMAP, target="opencl")
    assert not other.cached
    no_cache = ccomp.compile(TONEMAP, target="llvm", cache=False)
    assert not no_cache.cached


def test_changed_program_is_not_served_from_cache(cache, tmp_path):
    prog = tmp_path / "p.cn"
    prog.write_text("graph g(a: image<f32>) -> image<f32> {\n    return a * 2.0\n}\n")
    a = np.ones((4, 4), dtype=np.float32)
    assert ccomp.compile(prog)(a=a)[0, 0] == 2.0
    prog.write_text("graph g(a: image<f32>) -> image<f32> {\n    return a * 3.0\n}\n")
    p2 = ccomp.compile(prog)
    assert not p2.cached and p2(a=a)[0, 0] == 3.0


def test_corrupted_cache_entry_is_rebuilt(cache):
    ccomp.compile(EDGES, target="llvm")
    (entry,) = entries(cache)
    host = entry / "host.mlir"
    host.write_text(host.read_text().replace("arith.divf", "arith.mulf"))
    prog = ccomp.compile(EDGES, target="llvm")
    assert not prog.cached
    src = np.random.default_rng(1).random((20, 30), dtype=np.float32)
    assert float(prog(src=src).mean_mag) == pytest.approx(float(prog(src=src).mag.mean()), rel=1e-5)


def test_incompatible_or_missing_build_is_an_error(tmp_path):
    with pytest.raises(CompileError, match="not a build folder"):
        ccomp.api.load(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": "ccomp-build", "version": 99}')
    with pytest.raises(CompileError, match="incompatible"):
        ccomp.api.load(tmp_path)
