"""The NumPy meaning of the ``vector`` ops: the ``VECTOR_OPS`` table (shared like ``arith_math``).

Vector lanes are the trailing axes of a value (see ``values``), so every handler
indexes from the end and leaves the leading batch axes — ``()`` for a uniform,
``(H, W)`` per element — alone, broadcasting them where two operands meet.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from xdsl.ir import Operation

from ccomp.semantics.arith_math import Handler, _modular, _unsigned_op, fma, maximumf, minimumf
from ccomp.semantics.values import EvaluationError, describe, elem_shape


def _batch(value: np.ndarray, rank: int) -> tuple[int, ...]:
    return value.shape[: value.ndim - rank]


def _static_position(op: Operation) -> tuple[int, ...]:
    if len(op.dynamic_position) > 0:
        raise EvaluationError(f"{describe(op)}: dynamic positions are not supported")
    return tuple(op.properties["static_position"].get_values())


def _index(position: tuple[int, ...], rank: int) -> tuple[object, ...]:
    """Index the leading lane axes by ``position``, whatever the batch axes are."""
    return (Ellipsis, *position, *([slice(None)] * (rank - len(position))))


def broadcast(op: Operation, args: list[np.ndarray]) -> np.ndarray:
    """Splat a scalar (or a smaller vector, aligned to the trailing dims) to the result."""
    (a,) = args
    src = elem_shape(op.operands[0].type)
    shape = elem_shape(op.results[0].type)
    batch = _batch(a, len(src))
    a = a.reshape(batch + (1,) * (len(shape) - len(src)) + src)
    return np.broadcast_to(a, batch + shape).copy()


def extract(op: Operation, args: list[np.ndarray]) -> np.ndarray:
    """A lane (or a sub-vector) at a static position."""
    rank = len(elem_shape(op.operands[0].type))
    return args[0][_index(_static_position(op), rank)].copy()


def insert(op: Operation, args: list[np.ndarray]) -> np.ndarray:
    """A copy of the destination with the source written at a static position."""
    source, dest = args
    shape = elem_shape(op.operands[1].type)
    batch = np.broadcast_shapes(_batch(dest, len(shape)), _batch(source, len(elem_shape(op.operands[0].type))))
    result = np.broadcast_to(dest, batch + shape).copy()
    result[_index(_static_position(op), len(shape))] = source
    return result


def shuffle(op: Operation, args: list[np.ndarray]) -> np.ndarray:
    """Pick leading-dimension slices of the concatenation ``v1 ++ v2`` by the mask."""
    v1, v2 = args
    rank1, rank2 = len(elem_shape(op.operands[0].type)), len(elem_shape(op.operands[1].type))
    batch = np.broadcast_shapes(_batch(v1, rank1), _batch(v2, rank2))
    if rank1 == 0:  # 0-d vectors shuffle into a 1-d result
        v1, v2, rank1 = v1[..., None], v2[..., None], 1
    v1 = np.broadcast_to(v1, batch + v1.shape[v1.ndim - rank1:])
    v2 = np.broadcast_to(v2, batch + v2.shape[v2.ndim - rank1:])
    both = np.concatenate([v1, v2], axis=len(batch))
    return np.take(both, list(op.properties["mask"].get_values()), axis=len(batch))


_COMBINE: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "add": _modular(np.add), "mul": _modular(np.multiply),
    "minimumf": minimumf, "maximumf": maximumf, "minnumf": np.fmin, "maxnumf": np.fmax,
    "minsi": np.minimum, "maxsi": np.maximum,
    "minui": _unsigned_op(np.minimum), "maxui": _unsigned_op(np.maximum),
    "and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor,
}


def reduction(op: Operation, args: list[np.ndarray]) -> np.ndarray:
    """Fold the lanes left to right (the ordered reduction: no reassociation).

    With an accumulator operand the fold starts from it: ``((acc . v0) . v1) ...``.
    """
    kind = str(op.properties["kind"].data)
    if kind not in _COMBINE:
        raise EvaluationError(f"{describe(op)}: unsupported reduction kind {kind}")
    combine = _COMBINE[kind]
    v = args[0]
    lanes = [v[..., i] for i in range(v.shape[-1])]
    acc = args[1] if len(args) > 1 else lanes.pop(0)
    for lane in lanes:
        acc = np.asarray(combine(acc, lane))
    return acc


VECTOR_OPS: dict[str, Handler] = {
    "vector.broadcast": broadcast,
    "vector.extract": extract,
    "vector.insert": insert,
    "vector.shuffle": shuffle,
    "vector.reduction": reduction,
    "vector.fma": lambda op, args: fma(*args),
}
