"""The NumPy meaning of the ``arith`` and ``math`` ops: the ``ARITH_MATH_OPS`` table.

Shared by the reference evaluator and the runtime's host schedule, so host arithmetic
has exactly the reference semantics, and neither imports the other.

Every handler takes the op and its operand arrays (see ``values``: lanes last, uniform
or per-element batch first) and returns the result array. Each is written as the
plainest NumPy that gives the MLIR semantics *in the op's own type*: ``f32`` math
stays ``float32`` (NumPy's float32 ufuncs round every step to float32), ``i32``
arithmetic wraps. Where NumPy's spelling differs from MLIR's the handler says so
(``divsi`` truncates, ``math.round`` rounds half away from zero, ``math.fma`` rounds once).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from xdsl.dialects.builtin import VectorType
from xdsl.ir import Operation

from ccomp.semantics.values import constant, elem_shape, scalar_dtype, signed, unsigned

Handler = Callable[[Operation, list[np.ndarray]], np.ndarray]


def _pointwise(fn: Callable[..., np.ndarray]) -> Handler:
    return lambda op, args: fn(*args)


def _cast(fn: Callable[[np.ndarray, np.dtype], np.ndarray]) -> Handler:
    return lambda op, args: fn(args[0], scalar_dtype(op.results[0].type))


def _modular(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Integer add/sub/mul on ``i1`` are modulo 2 (NumPy's bool ``+`` is logical or)."""

    def apply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if a.dtype == np.bool_:
            return (fn(a.astype(np.uint8), b.astype(np.uint8)) & 1).astype(np.bool_)
        return fn(a, b)

    return apply


# -- integer division: MLIR truncates toward zero, NumPy's // floors -----------------

def divsi(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Signed division truncating toward zero (C semantics); ccomp defines x / 0 = 0 and
    INT_MIN / -1 = INT_MIN (wrapping), where C and MLIR leave them undefined."""
    a, b = np.broadcast_arrays(np.asarray(a), np.asarray(b))
    safe = np.where((b == 0) | (b == -1), np.ones_like(b), b)
    q = np.floor_divide(a, safe)
    q = q + (((a - q * safe) != 0) & ((a < 0) != (safe < 0))).astype(q.dtype)
    q = np.where(b == -1, (np.zeros_like(a) - a), q)
    return np.where(b == 0, np.zeros_like(q), q).astype(a.dtype)


def remsi(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Signed remainder with the sign of the dividend; x % 0 = 0 and x % -1 = 0."""
    a, b = np.broadcast_arrays(np.asarray(a), np.asarray(b))
    safe = np.where((b == 0) | (b == -1), np.ones_like(b), b)
    return np.where((b == 0) | (b == -1), np.zeros_like(a), np.fmod(a, safe)).astype(a.dtype)


def ceildivsi(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Signed division rounding toward positive infinity."""
    q = np.floor_divide(a, b)
    return q + ((a - q * b) != 0).astype(q.dtype)


def _unsigned_op(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
    return lambda a, b: fn(unsigned(a), unsigned(b)).astype(a.dtype)


# -- IEEE min/max: minimumf/maximumf propagate NaN and order -0 below +0 -------------

def minimumf(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IEEE 754-2019 minimum: NaN if either is NaN; -0.0 is less than +0.0."""
    zeros = (a == b) & (a == 0)
    return np.where(zeros, np.where(np.signbit(a), a, b), np.minimum(a, b))


def maximumf(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IEEE 754-2019 maximum: NaN if either is NaN; +0.0 is greater than -0.0."""
    zeros = (a == b) & (a == 0)
    return np.where(zeros, np.where(np.signbit(a), b, a), np.maximum(a, b))


def _unordered(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.isnan(a) | np.isnan(b)


# Indexed by the predicate number (xdsl.dialects.arith.CMPF_COMPARISON_OPERATIONS).
# NumPy's <, <=, ==, >, >= are already the ordered forms (false on NaN); the unordered
# ones are the negation of the opposite ordered comparison.
CMPF: list[Callable[[np.ndarray, np.ndarray], np.ndarray]] = [
    lambda a, b: np.zeros(np.broadcast_shapes(a.shape, b.shape), np.bool_),  # false
    lambda a, b: a == b,  # oeq
    lambda a, b: a > b,  # ogt
    lambda a, b: a >= b,  # oge
    lambda a, b: a < b,  # olt
    lambda a, b: a <= b,  # ole
    lambda a, b: (a != b) & ~_unordered(a, b),  # one
    lambda a, b: ~_unordered(a, b),  # ord
    lambda a, b: (a == b) | _unordered(a, b),  # ueq
    lambda a, b: ~(a <= b),  # ugt
    lambda a, b: ~(a < b),  # uge
    lambda a, b: ~(a >= b),  # ult
    lambda a, b: ~(a > b),  # ule
    lambda a, b: a != b,  # une
    _unordered,  # uno
    lambda a, b: np.ones(np.broadcast_shapes(a.shape, b.shape), np.bool_),  # true
]

# Indexed like xdsl.dialects.arith.CMPI_COMPARISON_OPERATIONS.
CMPI: list[Callable[[np.ndarray, np.ndarray], np.ndarray]] = [
    lambda a, b: a == b,
    lambda a, b: a != b,
    lambda a, b: signed(a) < signed(b),
    lambda a, b: signed(a) <= signed(b),
    lambda a, b: signed(a) > signed(b),
    lambda a, b: signed(a) >= signed(b),
    lambda a, b: unsigned(a) < unsigned(b),
    lambda a, b: unsigned(a) <= unsigned(b),
    lambda a, b: unsigned(a) > unsigned(b),
    lambda a, b: unsigned(a) >= unsigned(b),
]


def _select(op: Operation, args: list[np.ndarray]) -> np.ndarray:
    cond, t, f = args
    if not isinstance(op.operands[0].type, VectorType):
        # A scalar condition picks whole vectors: give it the vector's lane axes.
        cond = cond.reshape(cond.shape + (1,) * len(elem_shape(op.results[0].type)))
    return np.where(cond, t, f)


# -- casts ---------------------------------------------------------------------------

def trunci(a: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Keep the low bits (NumPy's integer astype wraps the same way)."""
    return (a & 1).astype(np.bool_) if dtype == np.bool_ else a.astype(dtype)


# -- math ----------------------------------------------------------------------------

def round_half_away(a: np.ndarray) -> np.ndarray:
    """``math.round`` rounds halfway cases away from zero (NumPy's rint goes to even).

    ``a - trunc(a)`` is exact, so the comparison with 0.5 is too; ``trunc(a + 0.5)``
    would be wrong for 0.49999997f, where the addition itself rounds up to 1.
    """
    t = np.trunc(a)
    return t + np.where(np.abs(a - t) >= a.dtype.type(0.5), np.sign(a), a.dtype.type(0))


def fma(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Fused multiply-add with one rounding, as llvm.fma / OpenCL fma.

    For ``f32``: the product of two floats is exact in float64, the float64 sum's error
    is recovered exactly (TwoSum) and folded in by rounding to odd, after which one
    rounding to float32 is correctly rounded (53 >= 24 + 2 bits). So the float64
    arithmetic here does not make the result more precise than a fused f32 fma.
    Other widths fall back to an unfused ``a * b + c``.
    """
    if a.dtype != np.float32:
        return a * b + c
    p = a.astype(np.float64) * b.astype(np.float64)
    c64 = c.astype(np.float64)
    s = np.asarray(p + c64)
    bb = s - p
    err = (p - (s - bb)) + (c64 - bb)
    bits = s.view(np.int64)
    to_odd = (err != 0) & ((bits & 1) == 0) & np.isfinite(s)
    step = np.where((err > 0) == (s > 0), 1, -1).astype(np.int64)
    return np.asarray(np.where(to_odd, bits + step, bits)).view(np.float64).astype(np.float32)


def rsqrt(a: np.ndarray) -> np.ndarray:
    """``1 / sqrt(a)`` with two float32 roundings."""
    return np.reciprocal(np.sqrt(a))


ARITH_MATH_OPS: dict[str, Handler] = {
    "arith.constant": lambda op, args: constant(op.properties["value"], op.results[0].type),
    "arith.addf": _pointwise(np.add), "arith.subf": _pointwise(np.subtract),
    "arith.mulf": _pointwise(np.multiply), "arith.divf": _pointwise(np.divide),
    "arith.negf": _pointwise(np.negative),
    "arith.minimumf": _pointwise(minimumf), "arith.maximumf": _pointwise(maximumf),
    "arith.minnumf": _pointwise(np.fmin), "arith.maxnumf": _pointwise(np.fmax),
    "arith.addi": _pointwise(_modular(np.add)), "arith.subi": _pointwise(_modular(np.subtract)),
    "arith.muli": _pointwise(_modular(np.multiply)),
    "arith.divsi": _pointwise(divsi), "arith.ceildivsi": _pointwise(ceildivsi),
    "arith.floordivsi": _pointwise(np.floor_divide), "arith.remsi": _pointwise(remsi),
    "arith.divui": _pointwise(_unsigned_op(np.floor_divide)),
    "arith.remui": _pointwise(_unsigned_op(np.remainder)),
    "arith.minsi": _pointwise(np.minimum), "arith.maxsi": _pointwise(np.maximum),
    "arith.minui": _pointwise(_unsigned_op(np.minimum)), "arith.maxui": _pointwise(_unsigned_op(np.maximum)),
    "arith.andi": _pointwise(np.bitwise_and), "arith.ori": _pointwise(np.bitwise_or),
    "arith.xori": _pointwise(np.bitwise_xor),
    "arith.shli": _pointwise(np.left_shift), "arith.shrsi": _pointwise(np.right_shift),
    "arith.shrui": _pointwise(_unsigned_op(np.right_shift)),
    "arith.cmpf": lambda op, args: CMPF[op.properties["predicate"].value.data](*args),
    "arith.cmpi": lambda op, args: CMPI[op.properties["predicate"].value.data](*args),
    "arith.select": _select,
    "arith.sitofp": _cast(lambda a, t: signed(a).astype(t)),
    "arith.uitofp": _cast(lambda a, t: unsigned(a).astype(t)),
    "arith.fptosi": _cast(lambda a, t: a.astype(t)),
    "arith.fptoui": _cast(lambda a, t: a.astype(np.dtype(f"u{t.itemsize}")).astype(t)),
    "arith.extf": _cast(lambda a, t: a.astype(t)), "arith.truncf": _cast(lambda a, t: a.astype(t)),
    "arith.extsi": _cast(lambda a, t: signed(a).astype(t)),
    "arith.extui": _cast(lambda a, t: unsigned(a).astype(t)),
    "arith.trunci": _cast(trunci),
    "arith.index_cast": _cast(lambda a, t: signed(a).astype(t)),
    "arith.bitcast": _cast(lambda a, t: np.array(a).view(t)),
    "math.sqrt": _pointwise(np.sqrt), "math.rsqrt": _pointwise(rsqrt), "math.cbrt": _pointwise(np.cbrt),
    "math.absf": _pointwise(np.abs), "math.absi": _pointwise(np.abs),
    "math.copysign": _pointwise(np.copysign),
    "math.sin": _pointwise(np.sin), "math.cos": _pointwise(np.cos), "math.tan": _pointwise(np.tan),
    "math.asin": _pointwise(np.arcsin), "math.acos": _pointwise(np.arccos), "math.atan": _pointwise(np.arctan),
    "math.atan2": _pointwise(np.arctan2),
    "math.sinh": _pointwise(np.sinh), "math.cosh": _pointwise(np.cosh), "math.tanh": _pointwise(np.tanh),
    "math.asinh": _pointwise(np.arcsinh), "math.acosh": _pointwise(np.arccosh),
    "math.atanh": _pointwise(np.arctanh),
    "math.exp": _pointwise(np.exp), "math.exp2": _pointwise(np.exp2), "math.expm1": _pointwise(np.expm1),
    "math.log": _pointwise(np.log), "math.log2": _pointwise(np.log2), "math.log10": _pointwise(np.log10),
    "math.log1p": _pointwise(np.log1p), "math.powf": _pointwise(np.power),
    "math.floor": _pointwise(np.floor), "math.ceil": _pointwise(np.ceil), "math.trunc": _pointwise(np.trunc),
    "math.round": _pointwise(round_half_away), "math.roundeven": _pointwise(np.rint),
    "math.fma": _pointwise(fma),
}
