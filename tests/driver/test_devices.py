"""``ccomp devices``: measured profiles stored per machine in the user cache, versioned;
injected profiles (``--profiles``, ``CCOMP_DEVICE_PROFILES``) shown and checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccomp.dialects.cost_model import PROFILE_VERSION, read_profiles
from ccomp.driver import devices_cli
from ccomp.driver.cli import main

INJECTED = {"version": 1, "profiles": {
    "llvm": {"bandwidth_gbps": 10, "gflops": 50, "launch_us": 1, "transfer_gbps": None},
    "opencl": {"bandwidth_gbps": 400, "gflops": 9000, "launch_us": 20, "transfer_gbps": 12.5}}}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(devices_cli.ENV, raising=False)
    return tmp_path / "cache"


def test_measure_stores_versioned_profile_per_machine(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices"]) == 0
    assert "ccomp devices --measure" in capsys.readouterr().out  # nothing stored yet: says how
    assert main(["devices", "--measure", "-t", "llvm"]) == 0  # one target: a few seconds
    out = capsys.readouterr().out
    path = devices_cli.profile_path()
    assert path.is_relative_to(cache) and path.name == f"v{PROFILE_VERSION}-{devices_cli.machine_key()}.json"
    data = json.loads(path.read_text())
    assert data["version"] == PROFILE_VERSION and data["measured_at"].endswith("Z")
    llvm = read_profiles(str(path))["llvm"]
    assert llvm.bandwidth_gbps > 0 and llvm.gflops > 0 and llvm.launch_us > 0 and llvm.stencil_gbps > 0
    assert llvm.transfer_gbps is None  # host memory: nothing to copy
    assert f"stored {path}" in out and "host memory" in out
    assert main(["devices"]) == 0
    assert f"profiles: {path}" in capsys.readouterr().out


def test_injected_profiles_are_shown(cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "p.json"
    file.write_text(json.dumps(INJECTED))
    assert main(["devices", "--profiles", str(file)]) == 0
    out = capsys.readouterr().out
    assert f"profiles: {file}" in out
    row = next(line for line in out.splitlines() if line.startswith("opencl ") and "12.50" in line)
    assert row.split() == ["opencl", "400.00", "-", "9000.00", "20.00", "12.50", "its", "own"]
    monkeypatch.setenv(devices_cli.ENV, str(file))
    assert devices_cli.resolve()[1] == str(file)


@pytest.mark.parametrize("text,message", [
    ("{", "not JSON"),
    ('{"version": 7, "profiles": {}}', "version 7, this ccomp reads version 1"),
    ('{"version": 1, "profiles": {"llvm": {"bandwidth_gbps": -1, "gflops": 1, "launch_us": 1}}}',
     "'bandwidth_gbps' must be a positive number"),
])
def test_bad_profile_files_are_errors(cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      text: str, message: str) -> None:
    file = tmp_path / "bad.json"
    file.write_text(text)
    assert main(["devices", "--profiles", str(file)]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_run_auto_explains_placement_and_measurement(cache: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from ccomp.runtime.devices.targets import probe

    if not probe("opencl")[0]:
        pytest.skip(f"opencl is not available here: {probe('opencl')[1]}")
    profiles = tmp_path / "p.json"
    profiles.write_text(json.dumps(INJECTED))
    u = tmp_path / "u.npy"
    import numpy as np
    np.save(u, np.ones((30, 20), np.float32))
    heat = Path(__file__).resolve().parents[2] / "examples" / "heat.cn"
    assert main(["run", str(heat), "-t", "auto", "--profiles", str(profiles), "-i", f"u0={u}", "-i", "steps=5",
                 "--profile", "--explain", "--no-cache"]) == 0
    lines = [line.removeprefix("explain: ").split() for line in capsys.readouterr().out.splitlines()
             if line.startswith("explain: ")]
    header = lines.index(["kernel", "device", "llvm", "us", "opencl", "us", "migrate", "MB", "part"])
    assert lines[header + 2][:2] == ["heat_0", "opencl"]  # after the llvm-only blocked kernel
    measured = lines.index(["kernel", "device", "calls", "estimate", "us", "measured", "us", "measured/estimate"])
    name, device, calls, estimate, got, ratio = lines[measured + 1]
    assert (name, device, calls) == ("heat_0", "opencl", "5")
    assert float(ratio) == pytest.approx(float(got) / float(estimate), rel=0.05)


def test_mixed_placement_has_no_build_folder(cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ccomp.runtime.devices.targets import probe

    if not probe("opencl")[0]:
        pytest.skip(f"opencl is not available here: {probe('opencl')[1]}")
    profiles = tmp_path / "p.json"
    profiles.write_text(json.dumps(INJECTED))
    u = tmp_path / "u.npy"
    import numpy as np
    np.save(u, np.ones((6, 5), np.float32))
    heat = Path(__file__).resolve().parents[2] / "examples" / "heat.cn"
    assert main(["run", str(heat), "-t", "auto", "--profiles", str(profiles), "-i", f"u0={u}",
                 "-o", str(tmp_path / "b"), "--no-cache"]) == 1
    err = capsys.readouterr().err
    assert "placed heat's kernels on several targets" in err and "Traceback" not in err
    assert not (tmp_path / "b").exists()
