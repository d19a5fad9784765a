"""How the NumPy reference evaluator takes its arguments: program inputs become values
in the representation of ``ccomp.semantics.values`` (lanes last, batch first), which
the evaluator shares with the runtime's host arithmetic.
"""

from __future__ import annotations

import numpy as np
from xdsl.ir import Attribute

from ccomp.dialects.graph import AnyImageType, rank_of
from ccomp.semantics.values import (  # noqa: F401  (the reference's modules take these from here)
    EvaluationError,
    describe,
    elem_shape,
    is_float,
    scalar_dtype,
)


def uniform_argument(arg: object, t: Attribute, index: int) -> np.ndarray:
    """Convert a scalar (or vector) function argument to a uniform of type ``t``."""
    dtype = scalar_dtype(t)
    value = np.asarray(arg)
    if value.shape != elem_shape(t):
        raise EvaluationError(f"argument {index}: expected shape {elem_shape(t)} for {t}, got {value.shape}")
    if not is_float(dtype) and value.dtype.kind == "f":
        raise EvaluationError(f"argument {index}: expected an integer for {t}, got {value.dtype}")
    return value.astype(dtype)


def image_argument(arg: object, t: AnyImageType, index: int) -> np.ndarray:
    """Convert an image argument to an ``(H, W) + elem`` array of the element dtype (a
    volume: ``(D, H, W) + elem``)."""
    value = np.asarray(arg)
    elem = elem_shape(t)
    grid = ["D", "H", "W"][-rank_of(t):]
    if value.ndim != len(grid) + len(elem) or value.shape[len(grid):] != elem:
        expected = ", ".join([*grid, *map(str, elem)])
        raise EvaluationError(f"argument {index}: expected an image of shape ({expected}) for {t}, got {value.shape}")
    return np.ascontiguousarray(value.astype(scalar_dtype(t), copy=False))
