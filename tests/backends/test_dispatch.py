"""The backends' op tables: keyed on op classes, overridable per target, one fallback."""

from __future__ import annotations

from xdsl.dialects import arith, math
from xdsl.ir import Operation

from ccomp.backends.cstyle.base import CStyleEmitter
from ccomp.backends.cstyle.glsl import GLSLEmitter
from ccomp.backends.cstyle.opencl import OpenCLEmitter
from ccomp.backends.dispatch import emits, op_table
from ccomp.backends.llvm.emitter import PURE_OPS, KernelEmitter


class Base:
    @emits(arith.AddfOp, arith.SubfOp)
    def float_op(self, op: Operation) -> str:
        return "base"

    @emits(arith.MulfOp)
    def mul(self, op: Operation) -> str:
        return "base mul"


class Derived(Base):
    @emits(arith.SubfOp)
    def sub(self, op: Operation) -> str:
        return "derived sub"

    def mul(self, op: Operation) -> str:  # overridden by name: still the handler of mulf
        return "derived mul"


def test_subclass_handlers_win_and_name_overrides_are_kept() -> None:
    table = op_table(Derived)
    assert table[arith.AddfOp] is Base.float_op
    assert table[arith.SubfOp] is Derived.sub
    assert table[arith.MulfOp] is Derived.mul
    assert op_table(Base)[arith.SubfOp] is Base.float_op


def test_every_table_is_keyed_on_op_classes() -> None:
    for emitter in (GLSLEmitter, OpenCLEmitter):
        for key in (*emitter.op_handlers(), *emitter.FUNCS, *emitter.BINOPS, *emitter.BOOL_BINOPS):
            assert isinstance(key, type) and issubclass(key, Operation), key
    for key in (*PURE_OPS, *op_table(KernelEmitter)):
        assert isinstance(key, type) and issubclass(key, Operation), key


def test_targets_override_ops_of_the_common_base() -> None:
    base, glsl, ocl = CStyleEmitter.op_handlers(), GLSLEmitter.op_handlers(), OpenCLEmitter.op_handlers()
    assert base[arith.DivSIOp] is CStyleEmitter.binary
    assert glsl[arith.DivSIOp] is GLSLEmitter.op_arith_divsi
    assert ocl[arith.DivSIOp] is OpenCLEmitter.op_arith_divsi
    assert glsl[math.RoundOp] is GLSLEmitter.op_math_round and ocl[math.RoundOp] is OpenCLEmitter.call
    assert math.RoundOp not in base and math.ErfOp not in glsl
