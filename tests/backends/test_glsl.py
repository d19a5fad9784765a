"""The GLSL backend and ``GLDevice`` against NumPy, on the shared kernels of
``backend_cases`` plus what is GLSL-specific: the shader's shape, chunked dispatch,
driver rejections and a missing driver."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import backend_cases as bc
import backend_kernels as bk
from ccomp.backends.cstyle.glsl import emit_glsl
from ccomp.runtime.abi import DeviceUnavailableError, KernelBuildError
from ccomp.dialects.context import parse_module
from ccomp.diagnostics import PassError
from ccomp.runtime.devices import gl

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
    # read-only buffers are buffer textures (packed vec3 is RGB32F, one texel per element)
    assert "layout(binding = 0) uniform samplerBuffer b_V3;" in src
    assert "layout(binding = 1) uniform samplerBuffer b_V2;" in src
    assert "texelFetch(b_V3, off_18).xyz;" in src and "texelFetch(b_V2, y_17 * b_V2_d1 + x_16).xy;" in src
    # written vec3 buffers are packed float arrays; vec2 buffers use vec2 (8-byte stride matches)
    assert "layout(std430, binding = 0) writeonly buffer b_O3_buf { float b_O3[]; };" in src
    assert "layout(std430, binding = 1) writeonly buffer b_O2_buf { vec2 b_O2[]; };" in src
    assert "uniform vec3 u_w;" in src
    assert "if (!(ccomp_gid0 < ccomp_ext0 && ccomp_gid1 < ccomp_ext1)) return;" in src
    kinds = [(b.name, b.kind, b.slot, b.access, b.lanes, b.texture_format) for b in ks.bindings]
    assert kinds == [("b_V3", "buffer", 0, "read", 3, "GL_RGB32F"), ("b_V2", "buffer", 1, "read", 2, "GL_RG32F"),
                     ("b_O3", "buffer", 0, "write", 3, ""), ("b_O2", "buffer", 1, "write", 2, ""),
                     ("b_OS", "buffer", 2, "write", 1, ""), ("u_w", "uniform", -1, "read", 3, "")]
    assert ks.bindings[0].dims == ("b_V3_d0", "b_V3_d1") and ks.extents == ("ccomp_ext0", "ccomp_ext1")
    assert emit_glsl(parse_module(bk.RANK3.ir))["k"].local_size == (8, 8, 8)
    assert emit_glsl(parse_module(bc.FLOAT_ARITH.ir))["k"].local_size == (256,)
    assert emit_glsl(parse_module(bk.RANK3.ir), max_invocations=256)["k"].local_size == (8, 8, 4)


def test_double_transcendental_is_refused() -> None:
    module = parse_module(bc.column_kernel(
        "k", "%A: memref<?xf64>", "  %a = memref.load %A[%x] : memref<?xf64>",
        [("%e", "  %e = math.sin %a : f64")], "f64"))
    with pytest.raises(PassError, match=r"the glsl target has no sin\(\) of f64 .GLSL has no double-precision sin"):
        emit_glsl(module)


def test_reduce_shader_has_a_workgroup_tree() -> None:
    ks = emit_glsl(parse_module(bk.reduce_ir("min")))["k"]
    assert "shared float ccomp_red[256];" in ks.source and "barrier();" in ks.source
    assert "ccomp_val = uintBitsToFloat(0x7F800000u)" in ks.source  # +inf: out-of-range points
    assert ks.partials is not None and ks.partials.slot == 0 and ks.result_dtype == "float32"
    assert ks.bindings[0].texture_format == "GL_R32F" and ks.bindings[0].slot == 0  # unit 0, not SSBO 0


def test_texture_units_are_capped_and_64_bit_buffers_stay_ssbos() -> None:
    one = emit_glsl(parse_module(bk.VEC23.ir), max_textures=1)["k"]
    assert [b.texture_format for b in one.bindings[:2]] == ["GL_RGB32F", ""]
    assert "layout(std430, binding = 0) readonly buffer b_V2_buf { vec2 b_V2[]; };" in one.source
    assert [b.slot for b in one.bindings[:3]] == [0, 0, 1]  # texture unit 0, SSBOs 0 and 1
    none = emit_glsl(parse_module(bk.VEC23.ir), max_textures=0)["k"]
    assert "texelFetch" not in none.source and not any(b.texture_format for b in none.bindings)
    f64 = emit_glsl(parse_module(bc.column_kernel(
        "k", "%A: memref<?xf64>", "  %a = memref.load %A[%x] : memref<?xf64>", [("%e", "  %e = arith.addf %a, %a : f64")],
        "f64")))["k"]
    assert f64.bindings[0].texture_format == "" and "readonly buffer b_A_buf { double b_A[]; }" in f64.source
    i32 = emit_glsl(parse_module(bc.column_kernel(
        "k", "%A: memref<?xi32>", "  %a = memref.load %A[%x] : memref<?xi32>", [("%e", "  %e = arith.addi %a, %a : i32")],
        "i32")))["k"]
    assert i32.bindings[0].texture_format == "GL_R32I" and "uniform isamplerBuffer b_A;" in i32.source


def test_unsupported_op_names_op_and_location() -> None:
    module = parse_module(bc.column_kernel(
        "k", "%A: memref<?xf32>", "  %a = memref.load %A[%x] : memref<?xf32>",
        [("%e", '  %e = math.erf %a : f32 loc("prog.cn":3:5)')], "f32"))
    with pytest.raises(PassError, match=r"internal error: the glsl backend cannot emit 'math.erf'") as info:
        emit_glsl(module)
    assert str(info.value.to_compile_error()).startswith("prog.cn:3:5: error: ")
    assert "note: in kern.kernel @k" in str(info.value.to_compile_error())


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


@needs_gl
def test_buffers_over_the_texel_limit_fall_back_to_ssbos(device: gl.GLDevice, monkeypatch) -> None:
    monkeypatch.setattr(device, "max_texels", 100)  # STENCIL reads 37x53 texels
    bc.check(device, bk.STENCIL)
    assert "texelFetch" not in device.ssbo_only["k"][0].source


@needs_gl
def test_two_programs_alive_at_once_each_use_their_own_context() -> None:
    """Each GLDevice has its own context; moderngl calls go to the current one, so a
    device that did not make its own current would run in the other's and read garbage."""
    import ccomp

    root = __import__("pathlib").Path(__file__).resolve().parents[2] / "examples"
    rng = np.random.default_rng(7)
    img4 = rng.uniform(0, 1, (40, 56, 4)).astype(np.float32)
    img1 = rng.uniform(0, 1, (48, 36)).astype(np.float32)
    tonemap = ccomp.compile(root / "tonemap.cn", target="glsl", cache=False)
    want_t = tonemap(src=img4)  # alone: the only context there is
    edges = ccomp.compile(root / "edges.cn", target="glsl", cache=False)
    want_e = edges(src=img1)
    assert tonemap.device.ctx is not edges.device.ctx
    for _ in range(2):
        np.testing.assert_array_equal(tonemap(src=img4), want_t)
        got = edges(src=img1)
        np.testing.assert_array_equal(got.mag, want_e.mag)
        assert got.mean_mag == want_e.mean_mag
    ref = ccomp.compile(root / "edges.cn", target="llvm", cache=False)(src=img1)
    np.testing.assert_allclose(want_e.mag, ref.mag, atol=1e-5)
    tonemap.device.close()
    np.testing.assert_array_equal(edges(src=img1).mag, want_e.mag)


@needs_gl
def test_close_releases_everything_once() -> None:
    dev = gl.GLDevice()
    bc.check(dev, bk.VEC23)  # compiles a shader, allocates buffers and buffer textures
    assert dev.kernels and dev.live and any(b.textures for b in dev.live.values())
    dev.close()
    assert dev.ctx is None and not dev.kernels and not dev.live
    dev.close()  # harmless
    with pytest.raises(RuntimeError, match="closed"):
        dev.alloc(parse_module(bk.VEC23.ir).body.block.first_op.body.block.args[0].type, (2, 2))
