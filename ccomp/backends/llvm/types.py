"""MLIR types of the kern level as llvmlite types, and how buffer elements are stored.

Kept apart from the op table because the runtime's ABI description and the lowering
both need the same answers: ``index`` is ``i64``, ``vector<NxT>`` is ``<N x T>``, and a
buffer element of ``i1`` is stored as one byte (NumPy ``bool_``), never bit-packed as
LLVM would pack an ``<N x i1>`` in memory.
"""

from __future__ import annotations

from llvmlite import ir
from xdsl.dialects.builtin import (
    Float16Type,
    Float32Type,
    Float64Type,
    IndexType,
    IntegerType,
    VectorType,
)
from xdsl.ir import Attribute

I1 = ir.IntType(1)
I8 = ir.IntType(8)
I32 = ir.IntType(32)
I64 = ir.IntType(64)
F64 = ir.DoubleType()
PTR = ir.PointerType()


class UnsupportedType(NotImplementedError):
    """A type the LLVM backend cannot represent (multi-dimensional or scalable vectors, ...)."""


def scalar_type(t: Attribute) -> ir.Type:
    """The LLVM type of a scalar MLIR type."""
    if isinstance(t, Float32Type):
        return ir.FloatType()
    if isinstance(t, Float64Type):
        return ir.DoubleType()
    if isinstance(t, Float16Type):
        return ir.HalfType()
    if isinstance(t, IndexType):
        return I64
    if isinstance(t, IntegerType):
        return ir.IntType(t.width.data)
    raise UnsupportedType(f"type {t} is not supported by the LLVM backend")


def vector_lanes(t: VectorType) -> int:
    """The lane count of a 1-d fixed vector type; anything else is unsupported."""
    shape = t.get_shape()
    if len(shape) != 1 or any(s.value.data for s in t.scalable_dims.data):
        raise UnsupportedType(f"type {t} is not supported: only 1-d fixed-size vectors are")
    return shape[0]


def llvm_type(t: Attribute) -> ir.Type:
    """The LLVM type of a scalar or ``vector<NxT>`` MLIR type."""
    if isinstance(t, VectorType):
        return ir.VectorType(scalar_type(t.element_type), vector_lanes(t))
    return scalar_type(t)


def storage_type(t: ir.Type) -> ir.Type:
    """How a value of LLVM type ``t`` lies in a buffer: ``i1`` lanes widen to bytes."""
    if isinstance(t, ir.VectorType) and t.element == I1:
        return ir.VectorType(I8, t.count)
    return I8 if t == I1 else t


def element_of(t: ir.Type) -> ir.Type:
    """The scalar type of ``t`` (itself for scalars, the lane type for vectors)."""
    return t.element if isinstance(t, ir.VectorType) else t


def is_float(t: ir.Type) -> bool:
    """True for a floating-point scalar or vector type."""
    return isinstance(element_of(t), (ir.HalfType, ir.FloatType, ir.DoubleType))


def like(t: ir.Type, scalar: ir.Type) -> ir.Type:
    """``scalar`` with the shape of ``t``: a vector of the same lane count, or the scalar."""
    return ir.VectorType(scalar, t.count) if isinstance(t, ir.VectorType) else scalar


def mangle(t: ir.Type) -> str:
    """The overload suffix of an LLVM intrinsic for ``t`` (``f32``, ``v4f32``, ``i64``)."""
    if isinstance(t, ir.VectorType):
        return f"v{t.count}{mangle(t.element)}"
    if isinstance(t, ir.IntType):
        return f"i{t.width}"
    return {ir.HalfType: "f16", ir.FloatType: "f32", ir.DoubleType: "f64"}[type(t)]


def const(t: ir.Type, value: float | int) -> ir.Constant:
    """A constant of type ``t``; a vector type gets the value splatted on every lane."""
    if isinstance(t, ir.VectorType):
        return ir.Constant(t, [ir.Constant(t.element, value)] * t.count)
    return ir.Constant(t, value)
