"""``-t auto`` with injected device profiles: whatever the placement — all on one device,
mixed, split across two — every program gives the reference evaluator's results; and
without profiles (or with profiles that favour the CPU) ``auto`` stays the llvm build
with its native host."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import ccomp
from ccomp.driver import devices_cli
from ccomp.runtime.devices.targets import probe
from ccomp.runtime.native_host import NativeHostRunner

from refutil import assert_matches, reference

ROOT = Path(__file__).resolve().parents[2]
HOST = {"bandwidth_gbps": 20, "gflops": 100, "launch_us": 1, "transfer_gbps": None}
FAST = {"bandwidth_gbps": 400, "gflops": 9000, "launch_us": 20, "transfer_gbps": 12.5}
EVEN = {"bandwidth_gbps": 60, "gflops": 300, "launch_us": 5, "transfer_gbps": 1000}
SLOW = {"bandwidth_gbps": 1, "gflops": 2, "launch_us": 50, "transfer_gbps": 1}
# name -> (profiles, the devices the kernels must be placed on, whether a kernel is split)
PLACEMENTS = {
    "opencl": ({"llvm": HOST, "opencl": FAST, "glsl": SLOW}, {"opencl"}, False),
    "glsl": ({"llvm": HOST, "opencl": SLOW, "glsl": FAST}, {"glsl"}, False),
    "split": ({"llvm": HOST, "opencl": EVEN}, {"llvm", "opencl"}, True),
    "split-gl": ({"llvm": HOST, "glsl": EVEN}, {"llvm", "glsl"}, True),
    "cpu": ({"llvm": HOST, "opencl": SLOW, "glsl": SLOW}, {"llvm"}, False),
}
CHAIN = """graph chain(src: image<f32>, k: f32 = 0.5) -> (out: image<f32>, total: f32) {
    let b = blur(src, 2)
    let e = b[x + 1, y] - b[x, y - 1] * k
    return e, sum(e)
}"""


def _programs(rng: np.random.Generator) -> dict[str, tuple[str, str, list]]:
    csr = sp.random(90, 70, density=0.2, format="csr", dtype=np.float32, random_state=3)
    csr.indices = csr.indices.astype(np.int32)
    csr.indptr = csr.indptr.astype(np.int32)
    return {
        "tonemap": ((ROOT / "examples/tonemap.cn").read_text(), "tonemap",
                    [rng.random((37, 53, 4), dtype=np.float32), np.float32(1.2)]),
        "heat": ((ROOT / "examples/heat.cn").read_text(), "heat",
                 [rng.random((41, 29), dtype=np.float32), np.int32(6)]),
        "spmv": ((ROOT / "examples/spmv.cn").read_text(), "spmv", [csr, rng.random(70, dtype=np.float32)]),
        "chain": (CHAIN, "chain", [rng.random((33, 47), dtype=np.float32), np.float32(0.5)]),
    }


def _use_profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profiles: dict) -> None:
    for target in profiles:
        if not probe(target)[0]:
            pytest.skip(f"{target} is not available here: {probe(target)[1]}")
    file = tmp_path / "profiles.json"
    file.write_text(json.dumps({"version": 1, "profiles": profiles}))
    monkeypatch.setenv(devices_cli.ENV, str(file))


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_results_unchanged_by_placement(placement: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    profiles, devices, split = PLACEMENTS[placement]
    _use_profiles(tmp_path, monkeypatch, profiles)
    rng = np.random.default_rng(7)
    seen, splits = set(), False
    for name, (text, function, args) in _programs(rng).items():
        prog = ccomp.compile(text, target="auto", cache=False)
        launches = [op for op in prog.build.module.walk() if op.name == "kern.launch"]
        placed = {op.attributes["device"].data for op in launches}
        seen |= {op.attributes["device"].data for op in launches  # temporal-block's bands are llvm-only
                 if not op.kernel_name.endswith("_tb8")}
        splits |= any("part" in op.attributes for op in launches)
        assert prog.target == ("llvm" if placed == {"llvm"} else "auto"), name
        want = reference(text, function, [a.toarray() if sp.issparse(a) else a for a in args])
        got = prog(*args, profile=True)
        where = {op.kernel_name: op.attributes["device"].data for op in launches}
        ran = {(k.name, k.device) for k in prog.last_profile.kernels()}
        assert ran and all(where[name] == device for name, device in ran), (name, ran)  # each where placed
        got = list(got) if isinstance(got, tuple) else [got]
        for g, w in zip(got, want, strict=True):
            assert_matches(g, w, atol=1e-4)
        again = prog(*args)  # buffers reused from the pool: stale copies must not leak in
        assert_matches(again if not isinstance(again, tuple) else again[0], want[0], atol=1e-4)
    assert seen == devices
    assert splits == split


def test_auto_without_profiles_is_llvm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv(devices_cli.ENV, raising=False)
    prog = ccomp.compile((ROOT / "examples/heat.cn").read_text(), target="auto", cache=False)
    assert prog.target == "llvm" and isinstance(prog._runner, NativeHostRunner)


def test_all_llvm_placement_keeps_native_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _use_profiles(tmp_path, monkeypatch, PLACEMENTS["cpu"][0])
    prog = ccomp.compile((ROOT / "examples/heat.cn").read_text(), target="auto", cache=False)
    assert prog.target == "llvm" and isinstance(prog._runner, NativeHostRunner)
    u = np.random.default_rng(1).random((20, 30), dtype=np.float32)
    assert_matches(prog(u, steps=4), ccomp.compile((ROOT / "examples/heat.cn").read_text())(u, steps=4))


def test_mixed_profile_counts_migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _use_profiles(tmp_path, monkeypatch, PLACEMENTS["opencl"][0])
    prog = ccomp.compile((ROOT / "examples/heat.cn").read_text(), target="auto", cache=False)
    u = np.ones((16, 24), np.float32)
    prog(u, steps=5, profile=True)
    p = prog.last_profile
    assert [(k.name, k.device, k.calls) for k in p.kernels()] == [("heat_0", "opencl", 5)]
    moved = {r.name: r.bytes for r in p.transfers()}
    assert moved == {"migrate llvm->opencl": u.nbytes, "migrate opencl->llvm": u.nbytes}


def test_split_merges_only_the_band(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _use_profiles(tmp_path, monkeypatch, PLACEMENTS["split"][0])
    text = (ROOT / "examples/tonemap.cn").read_text()
    prog = ccomp.compile(text, target="auto", cache=False)
    src = np.random.default_rng(3).random((64, 40, 4), dtype=np.float32)
    out = prog(src, profile=True)
    kernels = {(k.name, k.device): k.calls for k in prog.last_profile.kernels()}
    assert kernels == {("tonemap_0_part_llvm", "llvm"): 1, ("tonemap_0_part_opencl", "opencl"): 1}
    merged = [e.bytes for e in prog.last_profile.events if e.name == "migrate opencl->llvm"]
    band = [e.grid for e in prog.last_profile.events if e.kind == "kernel" and e.device == "opencl"][0]
    assert merged == [band[0] * band[1] * 16]  # the opencl band's rows of vec4, not the whole image
    assert_matches(out, reference(text, "tonemap", [src, np.float32(1.5)])[0], atol=1e-4)
