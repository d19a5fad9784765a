"""The ``sparse`` ops of the reference evaluator: the ``TENSOR_OPS`` table.

Every tensor value, dense or sparse and whatever its ``#sparse.format``, is a NumPy
array of its element type (float32, float64, int32, int64; rank 1 or 2) of its *dense contents*: an encoding only says how a
backend stores a matrix, so the reference ignores it, and ``sparse.convert`` is a copy.

Products of f32 are computed in float64 and rounded once to float32, so the reference
is at least as accurate as any backend's f32 accumulation; f64 products are float64,
integer ones int64 and wrapped to the element width (as the backends' wrapping
arithmetic gives). ``sparse.elementwise`` runs its
body once, whole-array, over the NumPy-broadcast inputs with the scalar op table the
``graph.map`` bodies use (``ARITH_MATH_OPS``). ``sparse.reduce`` has ``graph.reduce``'s
float semantics (``images.reduce``): ``add`` sums in float64, ``min``/``max`` propagate
NaN, an empty tensor gives the identity.
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import TensorType
from xdsl.ir import Operation

from ccomp.dialects import sparse
from ccomp.reference import images
from ccomp.semantics.arith_math import ARITH_MATH_OPS, Handler
from ccomp.reference.values import EvaluationError, describe, scalar_dtype


def _shape(t: TensorType) -> str:
    return "x".join("?" if d < 0 else str(d) for d in t.get_shape())


def shape_fits(shape: tuple[int, ...], t: TensorType) -> bool:
    """Whether an array shape is one ``t`` allows (its rank, and its static sizes)."""
    want = t.get_shape()
    return len(shape) == len(want) and all(w < 0 or w == s for s, w in zip(shape, want))


def _dtype(t: TensorType) -> np.dtype:
    return np.dtype(scalar_dtype(t.element_type))


def tensor_argument(arg: object, t: TensorType, index: int) -> np.ndarray:
    """A tensor argument as an array of ``t``'s element type of its dense contents: a NumPy array (or
    anything ``np.asarray`` takes) of ``t``'s rank, or a scipy.sparse matrix (any object
    with ``.toarray()``)."""
    if hasattr(arg, "toarray"):
        arg = arg.toarray()
    value = np.asarray(arg)
    if value.dtype.kind not in "biuf":
        raise EvaluationError(f"argument {index}: expected real numbers for {t}, got {value.dtype}")
    if not shape_fits(value.shape, t):
        raise EvaluationError(f"argument {index}: expected a tensor of shape {_shape(t)} for {t}, got {value.shape}")
    return np.array(value, dtype=_dtype(t))  # a copy: never alias the caller's array


def _conform(op: Operation, value: np.ndarray) -> np.ndarray:
    """Check a result against the static sizes of its type (the verifier lets a ``?``
    operand meet a static result, so a mismatch is only visible at run time)."""
    t = op.results[0].type
    assert isinstance(t, TensorType)
    if not shape_fits(value.shape, t):
        raise EvaluationError(f"{describe(op)}: the result has shape {value.shape}, but its type is {t}")
    return value


def product(op: Operation, args: list[np.ndarray]) -> np.ndarray:
    """``sparse.matvec`` and ``sparse.matmul``: a matrix times a vector or a matrix."""
    a, b = args
    if a.shape[1] != b.shape[0]:
        if b.ndim == 1:
            rhs, why = f"a vector of {b.shape[0]} elements", "the matrix's columns and the vector's length differ"
        else:
            rhs, why = f"a {b.shape[0]}x{b.shape[1]} matrix", "the inner sizes differ"
        raise EvaluationError(f"{describe(op)}: a {a.shape[0]}x{a.shape[1]} matrix times {rhs} ({why})")
    dtype = _dtype(op.results[0].type)
    wide = np.float64 if dtype.kind == "f" else np.int64
    with np.errstate(over="ignore"):
        return _conform(op, (a.astype(wide) @ b.astype(wide)).astype(dtype))


def _result_shape(op: Operation, tensors: list[np.ndarray]) -> tuple[int, ...]:
    """The inputs' broadcast shape, at the result's rank: a size the type fixes wins
    over a 1 the inputs would stretch, and an axis no input has is 1 unless fixed."""
    t = op.results[0].type
    assert isinstance(t, TensorType)
    try:
        shape = np.broadcast_shapes(*(a.shape for a in tensors))
    except ValueError:
        raise EvaluationError(f"{describe(op)}: inputs of shapes {', '.join(str(a.shape) for a in tensors)} "
                              "do not broadcast together") from None
    want = t.get_shape()
    if len(shape) > len(want):
        raise EvaluationError(f"{describe(op)}: the inputs broadcast to {shape}, more axes than {t}")
    shape = (1,) * (len(want) - len(shape)) + shape
    shape = tuple(s if w < 0 else w for s, w in zip(shape, want))
    for a in tensors:
        if not all(d in (1, s) for d, s in zip(reversed(a.shape), reversed(shape))):
            raise EvaluationError(f"{describe(op)}: an input of shape {a.shape} does not broadcast to {shape}")
    return shape


def elementwise(op: Operation, args: list[np.ndarray]) -> np.ndarray:
    """Run the body once over whole arrays: tensor inputs broadcast to the result's
    shape, scalars as 0-d arrays (NumPy broadcasts them at each op)."""
    shape = _result_shape(op, [a for a, v in zip(args, op.operands) if isinstance(v.type, TensorType)])
    block = op.regions[0].block
    values = {}
    for arg, operand, a in zip(block.args, op.operands, args, strict=True):
        values[arg] = np.broadcast_to(a, shape) if isinstance(operand.type, TensorType) else a
    for inner in block.ops:
        operands = [values[v] for v in inner.operands]  # isolated: every value is the body's
        if isinstance(inner, sparse.YieldOp):
            return _conform(op, np.array(np.broadcast_to(operands[0], shape), dtype=_dtype(op.results[0].type)))
        handler = ARITH_MATH_OPS.get(inner.name)
        if handler is None:
            raise EvaluationError(f"the reference evaluator does not support {describe(inner)} "
                                  "in a sparse.elementwise body")
        result = np.asarray(handler(inner, operands))
        if result.dtype != scalar_dtype(inner.results[0].type):
            raise EvaluationError(f"internal: {describe(inner)} produced {result.dtype} "
                                  f"for type {inner.results[0].type}")
        values[inner.results[0]] = result
    raise EvaluationError(f"{describe(op)}: the body has no sparse.yield")


def fill(op: Operation, args: list[np.ndarray]) -> np.ndarray:
    *sizes, value = args
    shape = tuple(int(s) for s in sizes)
    if any(s < 0 for s in shape):
        raise EvaluationError(f"{describe(op)}: negative size in {shape}")
    return _conform(op, np.full(shape, value, dtype=_dtype(op.results[0].type)))


def _reduce(op: Operation, args: list[np.ndarray]) -> np.ndarray:
    kind = op.properties["kind"].data
    if kind not in ("add", "min", "max"):
        raise EvaluationError(f"{describe(op)}: unknown reduction kind {kind!r}")
    return images.reduce(kind, args[0].reshape(1, -1))


def _dim(op: Operation, args: list[np.ndarray]) -> np.ndarray:
    return np.asarray(args[0].shape[op.properties["dim"].value.data], dtype=np.int32)


def _same(op: Operation, args: list[np.ndarray]) -> np.ndarray:
    return _conform(op, args[0].copy())


TENSOR_OPS: dict[type[Operation], Handler] = {
    sparse.MatVecOp: product,
    sparse.MatMulOp: product,
    sparse.ElementwiseOp: elementwise,
    sparse.ConvertOp: _same,
    sparse.NnzOp: lambda op, args: np.asarray(np.count_nonzero(args[0]), dtype=np.int32),
    sparse.DimOp: _dim,
    sparse.FillOp: fill,
    sparse.ReduceOp: _reduce,
}
