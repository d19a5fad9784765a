"""Type and literal helpers of the C-style emitters: lanes, element types, dtypes,
literal text and default workgroup sizes. Target-neutral; the targets' own type names
live in ``glsl.py`` and ``opencl.py``."""

from __future__ import annotations

import math

import numpy as np
from xdsl.dialects.builtin import Float32Type, Float64Type, IndexType, IntegerType, VectorType
from xdsl.ir import Attribute

from ccomp.backends.cstyle.errors import EmitError


def lanes_of(t: Attribute) -> int:
    """Vector lanes of a value type (1 for scalars); only 1-D vectors of 2-4 lanes exist."""
    if not isinstance(t, VectorType):
        return 1
    shape = t.get_shape()
    if len(shape) != 1 or not 2 <= shape[0] <= 4:
        raise EmitError(f"unsupported vector type {t}: only 1-D vectors of 2 to 4 lanes")
    return shape[0]


def element_of(t: Attribute) -> Attribute:
    """The scalar type of a scalar or vector type."""
    return t.element_type if isinstance(t, VectorType) else t


def is_float(t: Attribute) -> bool:
    return isinstance(element_of(t), (Float32Type, Float64Type))


def is_bool(t: Attribute) -> bool:
    e = element_of(t)
    return isinstance(e, IntegerType) and e.width.data == 1


def dtype_name(t: Attribute) -> str:
    """The NumPy dtype name of a stored scalar (the same mapping as the runtime's)."""
    if isinstance(t, (Float32Type, Float64Type)):
        return "float32" if isinstance(t, Float32Type) else "float64"
    if isinstance(t, IndexType):
        return "int64"
    if isinstance(t, IntegerType) and t.width.data in (1, 8, 16, 32, 64):
        return "bool" if t.width.data == 1 else f"int{t.width.data}"
    raise EmitError(f"no storage type for {t}")


def decimal(value: float, double: bool) -> str:
    """The shortest decimal that reads back as the same f32 (or f64) value."""
    s = repr(value) if double else str(np.float32(value))
    if not any(c in s for c in ".e"):
        s += ".0"
    return f"({s})" if s.startswith("-") else s


def wrap_int(value: int, width: int) -> int:
    """``value`` as a signed ``width``-bit integer (IR attributes may hold it unsigned)."""
    value &= (1 << width) - 1
    return value - (1 << width) if value >> (width - 1) else value


def int_text(value: int, width: int, suffix: str = "") -> str:
    """A C integer literal of ``width`` bits: wrapped, negative values parenthesised, and
    the most negative one written ``(MIN+1 - 1)``, since ``-2147483648`` parses as the
    negation of an out-of-range literal."""
    value = wrap_int(value, width)
    if value == -(1 << (width - 1)):
        return f"({value + 1}{suffix} - 1{suffix})"
    return f"({value}{suffix})" if value < 0 else f"{value}{suffix}"


def fit_local_size(preferred: tuple[int, ...], max_invocations: int) -> tuple[int, ...]:
    """``preferred`` halved until it fits the device's workgroup limit.

    The widest dimension is halved, z before y before x among equals, so rows stay
    contiguous. Sizes are powers of two throughout, which the reduction tree relies on."""
    size = list(preferred)
    while math.prod(size) > max_invocations:
        widest = max(size)
        size[len(size) - 1 - size[::-1].index(widest)] //= 2
    return tuple(size)
