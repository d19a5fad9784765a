"""A device that lacks a 64-bit type refuses the program with a located error at the
first use of the type, before any kernel reaches the driver. Mesa switches the GL
extension off for real (``MESA_EXTENSION_OVERRIDE``), so the glsl case runs the real
driver without int64 in a fresh process (the GL context reads it at start)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import ccomp

PROGRAM = """graph g(a: image<f32>) -> image<f32> {
    let big = a * 2.0
    return big + f32(i64(x) * 3000000000 / 7)
}
"""


def test_glsl_without_int64_is_a_located_error(tmp_path: Path) -> None:
    prog = tmp_path / "wide.cn"
    prog.write_text(PROGRAM)
    np.save(tmp_path / "a.npy", np.ones((2, 3), np.float32))
    env = {**os.environ, "MESA_EXTENSION_OVERRIDE": "-GL_ARB_gpu_shader_int64 -GL_AMD_gpu_shader_int64"}
    ccomp_cli = Path(sys.executable).parent / "ccomp"
    run = subprocess.run([str(ccomp_cli), "run", str(prog), "-t", "glsl", "--no-cache",
                          "--input", f"a={tmp_path / 'a.npy'}"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert (f"{prog}:3:16: error: the glsl target has no 64-bit integers (i64) on this driver "
            f"(GL_ARB_gpu_shader_int64 missing); use -t llvm or -t opencl") in run.stderr


def test_devices_here_run_both_types() -> None:
    """The drivers ccomp is tested with have fp64 and int64 (llvmpipe, PoCL)."""
    for target in ("llvm", "opencl", "glsl"):
        prog = ccomp.compile(PROGRAM, target=target)
        assert prog.device.missing_types() == {}
        a = np.ones((2, 3), np.float32)
        want = 2.0 + (np.arange(3, dtype=np.int64) * 3000000000 // 7).astype(np.float32)
        np.testing.assert_array_equal(prog(a=a), np.broadcast_to(want, (2, 3)))
