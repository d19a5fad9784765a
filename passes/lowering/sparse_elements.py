"""Element-type-generic pieces of the tensor kernels: buffer types and arithmetic.

A tensor holds f32, f64, i32 or i64 (sparse ones f32 or f64); the kernels of
:mod:`ccomp.passes.lowering.sparse_kernels` and :mod:`ccomp.passes.lowering.sparse_pack`
are written once and take the element type of their buffers, so these helpers pick
the float or integer op (``addf``/``addi``...) from the operand's type: integer sums
and products wrap, as integer arithmetic does everywhere in the language.
"""

from __future__ import annotations

from xdsl.dialects import arith
from xdsl.dialects.builtin import DYNAMIC_INDEX, FloatAttr, IntegerAttr, IntegerType, MemRefType, f32
from xdsl.ir import Attribute, SSAValue

from ccomp.passes.lowering.builder import IRBuilder


def vec_of(elem: Attribute = f32) -> MemRefType:
    return MemRefType(elem, [DYNAMIC_INDEX])


def mat_of(elem: Attribute = f32) -> MemRefType:
    return MemRefType(elem, [DYNAMIC_INDEX, DYNAMIC_INDEX])


def is_float(elem: Attribute) -> bool:
    return not isinstance(elem, IntegerType)


def zero(b: IRBuilder, elem: Attribute) -> SSAValue:
    """0 of a value type: 0.0 for floats, 0 for integers."""
    return b.add(arith.ConstantOp(FloatAttr(0.0, elem) if is_float(elem) else IntegerAttr(0, elem)))


def add(b: IRBuilder, x: SSAValue, y: SSAValue) -> SSAValue:
    return b.add(arith.AddfOp(x, y) if is_float(x.type) else arith.AddiOp(x, y))


def mul(b: IRBuilder, x: SSAValue, y: SSAValue) -> SSAValue:
    return b.add(arith.MulfOp(x, y) if is_float(x.type) else arith.MuliOp(x, y))


def nonzero(b: IRBuilder, v: SSAValue) -> SSAValue:
    """Whether a value counts as stored: ``!= 0`` (NaN counts, as for any float compare ``une``)."""
    return b.add(arith.CmpfOp(v, zero(b, v.type), "une") if is_float(v.type) else arith.CmpiOp(v, zero(b, v.type), "ne"))


def elem_of(buf: SSAValue) -> Attribute:
    return buf.type.element_type

