"""The GLSL backend and ``GLDevice`` against NumPy, on the shared kernels of
``backend_cases`` plus what is GLSL-specific: the shader's shape, chunked dispatch,
driver rejections and a missing driver."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import backend_cases as bc
import backend_kernels as bk
from ccomp.backends.glsl import emit_glsl
from ccomp.backends.kernel_abi import DeviceUnavailableError, EmitError, KernelBuildError
from ccomp.ir import parse_module
from ccomp.runtime import gl

AVAILABLE, WHY = gl.probe()
needs_gl = pytest.mark.skipif(not AVAILABLE, reason=WHY)


@pytest.fixture(scope="module")
def device() -> gl.GLDevice:
    return gl.GLDevice()


@needs_gl
@pytest.mark.parametrize("case", bk.ALL, ids=lambda c: c.name)
def test_kernel_matches_numpy(device: gl.GLDevice, case: bc.Case) -> None:
    bc.check(device, case)


def test_shader_shape_and_bindings() -> None:
    ks = emit_glsl(parse_module(bk.VEC23.ir))["k"]
    src = ks.source
    assert src.startswith("#version 430\n")
    assert "layout(local_size_x = 16, local_size_y = 16) in;" in src
    # vec3 buffers are packed float arrays; vec2 buffers use vec2 (8-byte stride matches)
    assert "layout(std430, binding = 0) readonly buffer b_V3_buf { float b_V3[]; };" in src
    assert "layout(std430, binding = 1) readonly buffer b_V2_buf { vec2 b_V2[]; };" in src
    assert "writeonly buffer b_O3_buf" in src and "uniform vec3 u_w;" in src
    assert "if (!(ccomp_gid0 < ccomp_ext0 && ccomp_gid1 < ccomp_ext1)) return;" in src
    kinds = [(b.name, b.kind, b.slot, b.access, b.lanes) for b in ks.bindings]
    assert kinds == [("b_V3", "buffer", 0, "read", 3), ("b_V2", "buffer", 1, "read", 2),
                     ("b_O3", "buffer", 2, "write", 3), ("b_O2", "buffer", 3, "write", 2),
                     ("b_OS", "buffer", 4, "write", 1), ("u_w", "uniform", -1, "read", 3)]
    assert ks.bindings[0].dims == ("b_V3_d0", "b_V3_d1") and ks.extents == ("ccomp_ext0", "ccomp_ext1")
    assert emit_glsl(parse_module(bk.RANK3.ir))["k"].local_size == (8, 8, 8)
    assert emit_glsl(parse_module(bc.FLOAT_ARITH.ir))["k"].local_size == (256,)
    assert emit_glsl(parse_module(bk.RANK3.ir), max_invocations=256)["k"].local_size == (8, 8, 4)


def test_double_transcendental_is_refused() -> None:
    module = parse_module(bc.column_kernel(
        "k", "%A: memref<?xf64>", "  %a = memref.load %A[%x] : memref<?xf64>",
        [("%e", "  %e = math.sin %a : f64")], "f64"))
    with pytest.raises(EmitError, match="'math.sin' .GLSL has no double-precision version"):
        emit_glsl(module)


def test_reduce_shader_has_a_workgroup_tree() -> None:
    ks = emit_glsl(parse_module(bk.reduce_ir("min")))["k"]
    assert "shared float ccomp_red[256];" in ks.source and "barrier();" in ks.source
    assert "ccomp_val = uintBitsToFloat(0x7F800000u)" in ks.source  # +inf: out-of-range points
    assert ks.partials is not None and ks.partials.slot == 1 and ks.result_dtype == "float32"


def test_unsupported_op_names_op_and_location() -> None:
    module = parse_module(bc.column_kernel(
        "k", "%A: memref<?xf32>", "  %a = memref.load %A[%x] : memref<?xf32>",
        [("%e", '  %e = math.erf %a : f32 loc("prog.cn":3:5)')], "f32"))
    with pytest.raises(EmitError, match=r"'math.erf'.*@k.*prog.cn\":3:5"):
        emit_glsl(module)


@needs_gl
def test_driver_rejection_names_kernel_and_log(device: gl.GLDevice) -> None:
    ks = emit_glsl(parse_module(bk.STENCIL.ir))["k"]
    bad = dataclasses.replace(ks, source=ks.source.replace("void main() {", "void main() {\n    no_such_thing = 1;"))
    with pytest.raises(KernelBuildError) as err:
        device.compile(bad)
    assert err.value.kernel == "k" and "@k" in str(err.value)
    assert "no_such_thing" in err.value.log and "no_such_thing" in str(err.value)


@needs_gl
def test_grid_larger_than_one_dispatch_runs_in_chunks(device: gl.GLDevice, monkeypatch) -> None:
    monkeypatch.setattr(device, "max_groups", (2, 1, 1))  # 37x53 needs 4x3 groups of 16x16
    bc.check(device, bk.STENCIL)
    bc.check(device, bk.REDUCE[1])
    tall = bc.RNG.uniform(-1, 1, (1000, 40)).astype(bc.F32)  # 3x4 groups of 16x(16*16) rows
    bc.check(device, bc.Case("tall_sum", bk.reduce_ir("add"), [tall], (40, 1000),
                             lambda a: bc.F32(a[0].sum(dtype=np.float64)), rtol=1e-5))


@needs_gl
def test_buffers_round_trip_and_oversize_is_refused(device: gl.GLDevice) -> None:
    t = parse_module(bk.VEC23.ir).body.block.first_op.body.block.args[0].type
    buf = device.upload(t, bk._v3)
    np.testing.assert_array_equal(device.download(buf), bk._v3)
    with pytest.raises(MemoryError, match="GL_MAX_SHADER_STORAGE_BLOCK_SIZE"):
        device.alloc(t, (1 << 16, 1 << 16))


def test_missing_driver_is_reported(monkeypatch) -> None:
    import moderngl

    def no_egl(**kwargs):
        raise RuntimeError("eglGetDisplay failed")

    monkeypatch.setattr(moderngl, "create_standalone_context", no_egl)
    ok, why = gl.probe()
    assert not ok and "no OpenGL 4.3 context" in why and "eglGetDisplay failed" in why
    with pytest.raises(DeviceUnavailableError, match="glsl"):
        gl.GLDevice()


@needs_gl
def test_probe_describes_renderer() -> None:
    assert "OpenGL" in WHY
