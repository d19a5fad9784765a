"""How ccomp's NumPy semantics represent values, shared by the reference evaluator (L1)
and the runtime's host schedule (L2 scalar arithmetic).

A value whose type is an element type ``T`` (a scalar, or ``vector<NxT>``) is an
``np.ndarray`` of shape ``batch + elem``:

- ``elem`` is ``()`` for a scalar and the vector shape (``(N,)``) for a vector;
- ``batch`` is ``()`` for a *uniform* (a value computed once, outside any ``graph.map``
  body) and ``(H, W)`` inside a map body evaluated over an extent.

Keeping the vector lanes last lets NumPy's broadcasting mix uniforms and per-element
values with no special cases: ``(4,)`` broadcasts against ``(H, W, 4)`` and ``()``
against ``(H, W)``. Images are ``(H, W) + elem`` arrays (row-major, ``y`` is the row).

The NumPy dtype always matches the IR type exactly (``f32`` is ``float32``, ``i32`` is
``int32``, ``i1`` is ``bool``): the evaluator checks this after every op, so a silent
promotion to ``float64`` can never make the reference more precise than the contract.
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    Float16Type,
    Float32Type,
    Float64Type,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    TensorType,
    VectorType,
)
from xdsl.ir import Attribute, Operation

from ccomp.dialects.graph import AnyFieldType, AnyImageType


class EvaluationError(Exception):
    """An op cannot be evaluated (unsupported, or not with these operands), or the
    reference evaluator cannot run this IR or these arguments."""


def describe(op: Operation) -> str:
    """Name an op and its source location for an error message."""
    return f"'{op.name}' at {op.location}"


_INT_DTYPES = {1: np.dtype(np.bool_), 8: np.dtype(np.int8), 16: np.dtype(np.int16),
               32: np.dtype(np.int32), 64: np.dtype(np.int64)}
_FLOAT_DTYPES = {Float16Type: np.dtype(np.float16), Float32Type: np.dtype(np.float32),
                 Float64Type: np.dtype(np.float64)}
_UNSIGNED = {np.dtype(np.int8): np.dtype(np.uint8), np.dtype(np.int16): np.dtype(np.uint16),
             np.dtype(np.int32): np.dtype(np.uint32), np.dtype(np.int64): np.dtype(np.uint64),
             np.dtype(np.bool_): np.dtype(np.bool_)}


def element_type(t: Attribute) -> Attribute:
    """The element type of an image, field or tensor, or ``t`` itself."""
    if isinstance(t, (AnyImageType, AnyFieldType)):
        return t.element
    if isinstance(t, TensorType):
        return t.element_type
    return t


def scalar_dtype(t: Attribute) -> np.dtype:
    """The NumPy dtype of one lane of ``t`` (images, fields and vectors look inside)."""
    t = element_type(t)
    if isinstance(t, VectorType):
        t = t.element_type
    if isinstance(t, IntegerType):
        width = t.width.data
        if width in _INT_DTYPES:
            return _INT_DTYPES[width]
    if isinstance(t, IndexType):
        return np.dtype(np.int64)
    for cls, dtype in _FLOAT_DTYPES.items():
        if isinstance(t, cls):
            return dtype
    raise EvaluationError(f"no NumPy dtype for type {t}")


def elem_shape(t: Attribute) -> tuple[int, ...]:
    """The trailing (per-element) shape of values of ``t``: () for scalars."""
    t = element_type(t)
    if isinstance(t, VectorType):
        return tuple(t.get_shape())
    return ()


def is_float(dtype: np.dtype) -> bool:
    """Whether lanes of this dtype are IEEE floats."""
    return np.issubdtype(dtype, np.floating)


def unsigned(a: np.ndarray) -> np.ndarray:
    """Reinterpret signless integer lanes as unsigned (same bits), for the ``u`` ops."""
    a = np.asarray(a)
    return a.astype(_UNSIGNED[a.dtype])


def signed(a: np.ndarray) -> np.ndarray:
    """Integer lanes read as signed: an ``i1`` true is -1, as in MLIR's two's complement."""
    a = np.asarray(a)
    if a.dtype == np.bool_:
        return -a.astype(np.int8)
    return a


def wrap_int(value: int, dtype: np.dtype) -> np.ndarray:
    """A Python integer as a two's-complement lane of ``dtype`` (0-d array)."""
    if dtype == np.bool_:
        return np.asarray(value & 1 == 1)
    bits = dtype.itemsize * 8
    value &= (1 << bits) - 1
    if value >= 1 << (bits - 1):
        value -= 1 << bits
    return np.asarray(value, dtype=dtype)


def constant(attr: Attribute, t: Attribute) -> np.ndarray:
    """The uniform value of an ``arith.constant`` (scalars and dense vectors/splats)."""
    dtype = scalar_dtype(t)
    if isinstance(attr, IntegerAttr):
        return wrap_int(attr.value.data, dtype)
    if isinstance(attr, FloatAttr):
        return np.asarray(attr.value.data, dtype=dtype)
    if isinstance(attr, DenseIntOrFPElementsAttr):
        values = attr.get_values()
        if is_float(dtype):
            lanes = np.asarray(values, dtype=dtype)
        else:
            lanes = np.array([wrap_int(int(v), dtype) for v in values], dtype=dtype)
        shape = elem_shape(t)
        return np.broadcast_to(lanes, shape).copy() if lanes.size == 1 else lanes.reshape(shape)
    raise EvaluationError(f"unsupported constant attribute {attr}")
