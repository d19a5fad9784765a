"""The OpenCL backend and ``CLDevice`` against NumPy, on the shared kernels of
``backend_cases`` plus what is OpenCL-specific: the kernel's signature, driver
rejections and a missing platform."""

from __future__ import annotations

import dataclasses

import pytest

import backend_cases as bc
import backend_kernels as bk
from ccomp.backends.cstyle.errors import EmitError
from ccomp.runtime.abi import DeviceUnavailableError, KernelBuildError
from ccomp.backends.cstyle.opencl import emit_opencl
from ccomp.dialects.context import parse_module
from ccomp.diagnostics import PassError
from ccomp.runtime.devices import opencl

AVAILABLE, WHY = opencl.probe()
needs_cl = pytest.mark.skipif(not AVAILABLE, reason=WHY)


@pytest.fixture(scope="module")
def device() -> opencl.CLDevice:
    return opencl.CLDevice()


@needs_cl
@pytest.mark.parametrize("case", bk.ALL, ids=lambda c: c.name)
def test_kernel_matches_numpy(device: opencl.CLDevice, case: bc.Case) -> None:
    bc.check(device, case)


def test_kernel_signature_and_bindings() -> None:
    ks = emit_opencl(parse_module(bk.VEC23.ir))["k"]
    src = ks.source
    assert "__kernel __attribute__((reqd_work_group_size(64, 4, 1)))\nvoid k(" in src
    assert "__global const float* b_V3," in src and "__global const float2* b_V2," in src
    assert "vload3(" in src and "vstore3(" in src and "float3 u_w," in src
    # argument order: pointer, its dims, ..., scalars, extents
    slots = [(b.name, b.slot, b.dim_slots) for b in ks.bindings]
    assert slots[:2] == [("b_V3", 0, (1, 2)), ("b_V2", 3, (4, 5))] and slots[-1] == ("u_w", 15, ())
    assert ks.extent_slots == (16, 17)
    assert ks.local_size == (64, 4)
    assert emit_opencl(parse_module(bk.RANK3.ir), max_work_group_size=128)["k"].local_size == (16, 4, 2)


def test_bool_argument_and_reduce_partials() -> None:
    ks = emit_opencl(parse_module(bk.SCF.ir))["k"]
    assert "int u_flag," in ks.source and "(u_flag != 0)" in ks.source
    red = emit_opencl(parse_module(bk.reduce_ir("add", "i32")))["k"]
    assert "__local int ccomp_red[256];" in red.source and red.partials.slot == 5
    assert red.partials.dtype == "int32" and red.result_dtype == "int32"


def test_unsupported_op_names_op_and_location() -> None:
    module = parse_module(bc.column_kernel(
        "k", "%A: memref<?xf32>", "  %a = memref.load %A[%x] : memref<?xf32>",
        [("%e", '  %e = math.erf %a : f32 loc("prog.cn":3:5)')], "f32"))
    with pytest.raises(PassError, match=r"internal error: the opencl backend cannot emit 'math.erf'") as info:
        emit_opencl(module)
    assert str(info.value.to_compile_error()).startswith("prog.cn:3:5: error: ")
    assert "note: in kern.kernel @k" in str(info.value.to_compile_error())


@needs_cl
def test_driver_rejection_names_kernel_and_log(device: opencl.CLDevice) -> None:
    sources = emit_opencl(parse_module(bk.STENCIL.ir + "\n" + bk.SCF.ir.replace("@k", "@other")))
    bad = dataclasses.replace(sources["k"], source=sources["k"].source.replace("{\n", "{\n    no_such_thing = 1;\n", 1))
    with pytest.raises(KernelBuildError) as err:
        device.build([sources["other"], bad])  # the joint build fails; the culprit is named
    assert err.value.kernel == "k" and "@k" in str(err.value)
    assert "no_such_thing" in err.value.log


def test_missing_platform_is_reported(monkeypatch) -> None:
    import pyopencl as cl

    monkeypatch.setattr(cl, "get_platforms", lambda: [])
    ok, why = opencl.probe()
    assert not ok and "no devices" in why
    with pytest.raises(DeviceUnavailableError, match="opencl"):
        opencl.CLDevice()


@needs_cl
def test_probe_describes_device() -> None:
    assert ":" in WHY
