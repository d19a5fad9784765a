"""Unsupported input is refused with an error that names the op and where it is."""

from __future__ import annotations

import pytest

from ccomp.backends.llvm.builder import LoweringError
from ccomp.diagnostics import PassError
from ccomp.backends.llvm.lower import emit_llvm_ir
from ccomp.dialects.context import parse_module

ALLOCA = """
kern.kernel @k rank 1 {
^bb0(%out: memref<?xf32>):
  %x = kern.index 0
  %tmp = memref.alloca() : memref<4xf32> loc("prog.cn":3:7)
  kern.yield
}
"""

IPOWI = """
kern.kernel @k rank 1 {
^bb0(%a: memref<?xi32>):
  %x = kern.index 0
  %v = memref.load %a[%x] : memref<?xi32>
  %r = math.ipowi %v, %v : i32
  memref.store %r, %a[%x] : memref<?xi32>
  kern.yield
}
"""

MATRIX = """
kern.kernel @k rank 1 {
^bb0(%a: memref<?xvector<2x2xf32>>):
  %x = kern.index 0
  %v = memref.load %a[%x] : memref<?xvector<2x2xf32>>
  kern.yield
}
"""

MATRIX_VALUE = """
kern.kernel @k rank 1 {
^bb0(%a: memref<?xf32>):
  %x = kern.index 0
  %m = arith.constant dense<1.0> : vector<2x2xf32> loc("prog.cn":9:2)
  kern.yield
}
"""

LOCAL_BUFFER = """
kern.kernel @k rank 1 {
^bb0(%a: memref<?xf32>):
  %x = kern.index 0
  %tmp = memref.alloca() : memref<4xf32>
  %c0 = arith.constant 0 : index
  %v = memref.load %tmp[%c0] : memref<4xf32>
  kern.yield
}
"""


def test_unsupported_op_names_op_and_location():
    with pytest.raises(NotImplementedError, match=r"prog\.cn:3:7: 'memref\.alloca' is not supported"):
        emit_llvm_ir(parse_module(ALLOCA))


def test_unsupported_op_without_location_names_kernel():
    with pytest.raises(PassError, match=r"internal error: the llvm backend cannot emit 'math\.ipowi'") as info:
        emit_llvm_ir(parse_module(IPOWI))
    assert "note: in kern.kernel @k" in str(info.value.to_compile_error())


def test_unsupported_types_name_binding_or_op():
    with pytest.raises(LoweringError, match=r"in kern\.kernel @k: binding 0 of @k: type .*vector<2x2xf32>"):
        emit_llvm_ir(parse_module(MATRIX))
    with pytest.raises(LoweringError, match=r"prog\.cn:9:2: 'arith\.constant' .*vector<2x2xf32>"):
        emit_llvm_ir(parse_module(MATRIX_VALUE))


def test_error_is_raised_when_generating_code_for_a_device():
    from ccomp.api import prepare
    from ccomp.runtime.devices.llvm import LLVMDevice

    with pytest.raises(LoweringError, match="memref.alloca"):
        prepare(LLVMDevice(threads=1), parse_module(LOCAL_BUFFER))
