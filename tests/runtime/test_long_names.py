"""A graph with a 300-character name runs on every target.

On OpenCL such a name aborted the process (PoCL's linker: a kernel name too long). The
backend now shortens entry points over ``MAX_ENTRY`` characters to a prefix plus a
hash of the whole name, the same on every build; the device calls the entry the
``KernelSource`` records, and refuses an over-long one (an edited build folder) with a
driver error instead of handing it to PoCL.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

import ccomp
from ccomp.api import compile_to_kern, generate
from ccomp.diagnostics import Source
from ccomp.runtime.abi import KernelBuildError
from ccomp.runtime.devices.targets import probe

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from refutil import TARGETS  # noqa: E402

NAME = "g" + "_long_graph_name" * 19 + "x" * 3  # 1 + 16 * 19 + 3 = 308 characters
SRC = f"""graph {NAME}(a: image<f32>, b: image<f32>) -> image<f32> {{
    let s = blur(a, 1)
    return s * 2.0 + b
}}
"""


def _available(target: str) -> None:
    ok, detail = probe(target)
    if not ok:
        pytest.skip(f"{target} unavailable: {detail}")


@pytest.mark.parametrize("cache", [False, True])
@pytest.mark.parametrize("target", TARGETS)
def test_long_graph_name_runs(target, cache):
    _available(target)
    assert len(NAME) > 300
    prog = ccomp.compile_source(SRC, "long.cn", target=target, cache=cache)
    rng = np.random.default_rng(1)
    a, b = rng.random((9, 13), dtype=np.float32), rng.random((9, 13), dtype=np.float32)
    padded = np.pad(a, 1, mode="edge")
    box = sum(padded[1 + dy: 10 + dy, 1 + dx: 14 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)) / 9
    np.testing.assert_allclose(prog(a, b), box * 2 + b, atol=1e-5)


def test_opencl_entries_are_short_and_deterministic():
    module = compile_to_kern(Source(SRC, "long.cn"), target="opencl")
    first = generate(module, "opencl")
    again = generate(compile_to_kern(Source(SRC, "long.cn"), target="opencl"), "opencl")
    entries = [ks.entry for ks in first.values()]
    assert entries == [ks.entry for ks in again.values()]
    assert len(set(entries)) == len(entries)
    for name, ks in first.items():
        assert len(name) > 300 and len(ks.entry) <= 64, ks.entry
        assert ks.entry.startswith("g_long_graph_name_long") and ks.entry.isidentifier()
        assert f"void {ks.entry}(" in ks.source


def test_opencl_device_refuses_an_over_long_entry():
    """An edited build could name a 300-character entry; the device says so, PoCL never sees it."""
    _available("opencl")
    from ccomp.runtime.devices.opencl import CLDevice

    module = compile_to_kern(Source(SRC, "long.cn"), target="opencl")
    ks = next(iter(generate(module, "opencl").values()))
    long_entry = NAME + "_0"
    source = ks.source.replace(f"void {ks.entry}(", f"void {long_entry}(")
    edited = dataclasses.replace(ks, entry=long_entry, source=source)
    with pytest.raises(KernelBuildError, match="is not a C identifier of at most 128 characters"):
        CLDevice().build([edited])


@pytest.mark.parametrize("target", TARGETS)
def test_a_long_named_graph_builds_into_a_folder_and_runs_from_it(tmp_path, target):
    """Kernel files in a build folder get short stems (a file system allows 255 bytes);
    the manifest lists the paths, so the build loads and runs as written."""
    _available(target)
    from ccomp.runtime.build import write_build

    prog = ccomp.compile(SRC, target=target, cache=False)
    write_build(prog.build, tmp_path)
    assert all(len(p.name) < 120 for p in (tmp_path / "kernels").iterdir())
    a = np.random.default_rng(0).random((6, 5), dtype=np.float32)
    b = np.ones((6, 5), np.float32)
    np.testing.assert_allclose(ccomp.api.load(tmp_path)(a=a, b=b), prog(a=a, b=b), rtol=1e-6)
