"""The NumPy reference evaluator: runs an L1 ``func.func`` directly, whole-array.

Every backend is tested against this, so it is written to be obviously correct
rather than fast: no fusion, no scheduling, one NumPy expression per op.

How it runs a function:

- Ops at the function's top level run once, in order. Scalars there are *uniforms*
  (0-d arrays, or ``(N,)`` for vectors), images are ``(H, W) + lanes`` arrays.
- ``graph.map`` and ``graph.blur`` define *fields*, which are lazy: a field is only
  evaluated when a sink (``graph.capture``, ``graph.reduce``, a blur of a field, a map
  that takes it as an input) asks for it over an extent (width, height). A field used
  by several sinks is evaluated once per distinct extent (results are memoised, since
  fields are pure).
- A map body runs once per extent, with every value an ``(H, W) + lanes`` array (or a
  uniform from outside, broadcast by NumPy), ``graph.coord`` giving the x/y grids.
- ``sparse`` tensors, dense or sparse, are float32 arrays of their dense contents;
  their ops (``tensors.TENSOR_OPS``) run eagerly like scalar ops.

All arithmetic happens under ``np.errstate(all="ignore")``: IEEE results (inf, NaN) and
i32 wrap-around are the semantics, not errors.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Block, Operation, SSAValue

from ccomp.dialects import graph, loop
from ccomp.reference import images
from ccomp.semantics.arith_math import ARITH_MATH_OPS
from ccomp.reference.tensors import TENSOR_OPS, shape_fits, tensor_argument
from ccomp.reference.values import (
    EvaluationError,
    describe,
    elem_shape,
    image_argument,
    scalar_dtype,
    uniform_argument,
)
from ccomp.semantics.vector import VECTOR_OPS

log = logging.getLogger(__name__)

OPS = {**ARITH_MATH_OPS, **VECTOR_OPS}  # by op name; ccomp's own ops by class below


@dataclass(frozen=True, eq=False)
class _Field:
    """A lazy field: the ``graph.map`` or ``graph.blur`` that defines it, and the frame
    it was defined in (a repeat zone's body gets a new frame every iteration)."""

    op: Operation
    frame: "_Frame"


Value = np.ndarray | _Field


@dataclass
class _Frame:
    """The values of one block evaluation; a map body's frame sees its function's."""

    parent: _Frame | None
    extent: tuple[int, ...] | None = None  # (width, height[, depth]) inside a map body
    values: dict[SSAValue, Value] = field(default_factory=dict)
    memo: dict[tuple[Operation, tuple[int, ...]], np.ndarray] = field(default_factory=dict)  # fields evaluated here

    def get(self, value: SSAValue) -> Value:
        frame: _Frame | None = self
        while frame is not None:
            if value in frame.values:
                return frame.values[value]
            frame = frame.parent
        raise EvaluationError(f"value {value.name_hint or value} is used before it is defined")


def _array(value: Value, op: Operation) -> np.ndarray:
    if isinstance(value, _Field):
        raise EvaluationError(f"{describe(op)}: a field cannot be an operand here; capture it first")
    return value


def _extent(size: Value, op: Operation) -> tuple[int, ...]:
    """A ``vector<2xi32>`` size as (width, height), a ``vector<3xi32>`` one as (width,
    height, depth); it must be a uniform."""
    size = _array(size, op)
    if size.shape not in ((2,), (3,)):
        raise EvaluationError(f"{describe(op)}: the size must be uniform (defined outside any graph.map)")
    extent = tuple(int(n) for n in size)
    if min(extent) < 0:
        raise EvaluationError(f"{describe(op)}: negative extent {extent}")
    return extent


class _Evaluator:
    """Runs one function; holds the field memo of that run."""

    def __init__(self, function: func.FuncOp):
        self.function = function
        self.top = _Frame(parent=None)

    def call(self, args: Sequence[object]) -> list[np.ndarray | np.generic]:
        block = self.function.body.block
        if len(args) != len(block.args):
            raise EvaluationError(
                f"@{self.function.sym_name.data} takes {len(block.args)} arguments, got {len(args)}"
            )
        for index, (arg, value) in enumerate(zip(block.args, args)):
            if isinstance(arg.type, graph.AnyImageType):
                self.top.values[arg] = image_argument(value, arg.type, index)
            elif isinstance(arg.type, TensorType):
                self.top.values[arg] = tensor_argument(value, arg.type, index)
            else:
                self.top.values[arg] = uniform_argument(value, arg.type, index)
        results = self._run(block, self.top)
        return [self._result(value, t) for value, t in zip(results, self.function.function_type.outputs)]

    def _result(self, value: Value, t: object) -> np.ndarray | np.generic:
        if isinstance(value, _Field):
            raise EvaluationError("a function result is a field with no extent; capture it first")
        if isinstance(t, (graph.AnyImageType, TensorType)) or value.shape != ():
            return np.array(value, copy=True)  # never alias an input or another result
        return value[()]  # a NumPy scalar of the result's dtype

    # -- running blocks ------------------------------------------------------------

    def _run(self, block: Block, frame: _Frame) -> list[Value]:
        for op in block.ops:
            if isinstance(op, (func.ReturnOp, graph.YieldOp, loop.YieldOp)):
                return [frame.get(v) for v in op.operands]
            results = self._repeat(op, frame) if isinstance(op, loop.RepeatOp) else self._exec(op, frame)
            for result, value in zip(op.results, results, strict=True):
                frame.values[result] = value
        raise EvaluationError(f"block in @{self.function.sym_name.data} has no terminator")

    def _repeat(self, op: loop.RepeatOp, frame: _Frame) -> list[Value]:
        """Run a repeat zone: ``count`` times (none if not positive), each iteration in a
        fresh frame so that its fields are evaluated anew."""
        _top_level_only(op, frame)
        state = [frame.get(v) for v in op.inits]
        block = op.body.block
        for i in range(int(_array(frame.get(op.count), op))):
            body = _Frame(parent=frame)
            body.values[block.args[0]] = np.asarray(i, dtype=np.int32)
            for arg, v in zip(block.args[1:], state):
                body.values[arg] = v
            state = self._run(block, body)
        for v, res in zip(state, op.res):
            if isinstance(v, _Field):
                raise EvaluationError(f"{describe(op)}: repeat state {res.type} must be materialised")
        return state

    def _exec(self, op: Operation, frame: _Frame) -> list[Value]:
        graph_handler = _GRAPH_OPS.get(type(op))
        handler = TENSOR_OPS.get(type(op)) or OPS.get(op.name)
        if graph_handler is not None:
            value = graph_handler(self, op, frame)
        elif handler is not None:
            value = handler(op, [_array(frame.get(v), op) for v in op.operands])
        else:
            raise EvaluationError(f"the reference evaluator does not support {describe(op)}")
        if isinstance(value, _Field):
            return [value]
        return [self._checked(np.asarray(value), op, frame)]

    def _checked(self, value: np.ndarray, op: Operation, frame: _Frame) -> np.ndarray:
        """Catch any dtype promotion or shape slip at the op that caused it."""
        t = op.results[0].type
        lanes = elem_shape(t)
        if isinstance(t, graph.AnyImageType):
            rank = graph.rank_of(t)
            shape_ok = value.ndim == rank + len(lanes) and value.shape[rank:] == lanes
        elif isinstance(t, TensorType):
            shape_ok = shape_fits(value.shape, t)
        else:
            batch = value.shape[: value.ndim - len(lanes)]
            per_element = () if frame.extent is None else frame.extent[::-1]
            shape_ok = value.ndim >= len(lanes) and value.shape[len(batch):] == lanes and batch in ((), per_element)
        if value.dtype != scalar_dtype(t) or not shape_ok:
            raise EvaluationError(
                f"internal: {describe(op)} produced {value.dtype}{list(value.shape)} for type {t}"
            )
        return value

    # -- fields ----------------------------------------------------------------------

    def materialise(self, value: Value, *extent: int) -> np.ndarray:
        """A field or image evaluated over an extent (width, height[, depth]), as an
        (H, W) + lanes array ((D, H, W) + lanes in 3-D)."""
        if not isinstance(value, _Field):
            return images.read_over(value, *extent)
        key = (value.op, extent)
        memo = value.frame.memo
        if key not in memo:
            start = time.perf_counter()
            if isinstance(value.op, graph.MapOp):
                memo[key] = self._map(value, extent)
            else:
                memo[key] = self._blur(value, *extent)
            log.debug("evaluated %s over %s in %.3f ms", describe(value.op), extent,
                      1e3 * (time.perf_counter() - start))
        return memo[key]

    def _map(self, value: _Field, extent: tuple[int, ...]) -> np.ndarray:
        op = value.op
        assert isinstance(op, graph.MapOp)
        frame = _Frame(parent=value.frame, extent=extent)
        for arg, operand in zip(op.body.block.args, op.inputs):
            frame.values[arg] = self.materialise(value.frame.get(operand), *extent)
        (result,) = self._run(op.body.block, frame)
        shape = extent[::-1] + elem_shape(op.result.type)
        return np.array(np.broadcast_to(_array(result, op), shape))

    def _blur(self, value: _Field, *extent: int) -> np.ndarray:
        op = value.op
        assert isinstance(op, graph.BlurOp)
        source = value.frame.get(op.input)
        if isinstance(source, _Field):  # a field input is materialised over this extent first
            source = self.materialise(source, *extent)
        return images.blur(source, op.radius.value.data, *extent)


def _top_level_only(op: Operation, frame: _Frame) -> None:
    if frame.extent is not None:
        raise EvaluationError(f"the reference evaluator does not support {describe(op)} inside a graph.map body")


def _field_op(ev: _Evaluator, op: Operation, frame: _Frame) -> _Field:
    _top_level_only(op, frame)
    return _Field(op, frame)


def _capture(ev: _Evaluator, op: Operation, frame: _Frame) -> np.ndarray:
    _top_level_only(op, frame)
    return ev.materialise(frame.get(op.operands[0]), *_extent(frame.get(op.operands[1]), op))


def _reduce(ev: _Evaluator, op: graph.ReduceOp, frame: _Frame) -> np.ndarray:
    _top_level_only(op, frame)
    extent = _extent(frame.get(op.size), op)
    try:
        return images.reduce(op.kind.data, ev.materialise(frame.get(op.input), *extent), len(extent))
    except EvaluationError as error:
        raise EvaluationError(f"{describe(op)}: {error}") from None


def _histogram(ev: _Evaluator, op: graph.HistogramOp, frame: _Frame) -> np.ndarray:
    _top_level_only(op, frame)
    values = ev.materialise(frame.get(op.input), *_extent(frame.get(op.size), op))
    try:
        return images.histogram(values, op.bins.value.data, frame.get(op.lo), frame.get(op.hi))
    except EvaluationError as error:
        raise EvaluationError(f"{describe(op)}: {error}") from None


def _coord(ev: _Evaluator, op: graph.CoordOp, frame: _Frame) -> np.ndarray:
    if frame.extent is None:
        raise EvaluationError(f"{describe(op)}: graph.coord outside a graph.map body")
    return images.extent_grid(*frame.extent)[op.dim.value.data]


def _size(ev: _Evaluator, op: graph.SizeOp, frame: _Frame) -> np.ndarray:
    rank = graph.rank_of(op.image.type)
    return np.array(_array(frame.get(op.image), op).shape[:rank][::-1], dtype=np.int32)


def _load(ev: _Evaluator, op: graph.LoadOp, frame: _Frame) -> np.ndarray:
    coords = [op.x, op.y] if op.z is None else [op.x, op.y, op.z]
    return images.clamp_read(_array(frame.get(op.image), op), *(frame.get(c) for c in coords))


def _sample(ev: _Evaluator, op: graph.SampleOp, frame: _Frame) -> np.ndarray:
    try:
        return images.sample(_array(frame.get(op.image), op), _array(frame.get(op.uv), op),
                             graph.rank_of(op.image.type))
    except EvaluationError as error:
        raise EvaluationError(f"{describe(op)}: {error}") from None


_GRAPH_OPS = {
    graph.MapOp: _field_op, graph.BlurOp: _field_op, graph.CaptureOp: _capture, graph.ReduceOp: _reduce,
    graph.HistogramOp: _histogram,
    graph.CoordOp: _coord, graph.SizeOp: _size, graph.LoadOp: _load, graph.SampleOp: _sample,
}


def _find_function(module: ModuleOp, name: str) -> func.FuncOp:
    for op in module.walk():
        if isinstance(op, func.FuncOp) and op.sym_name.data == name:
            if not op.body.blocks:
                raise EvaluationError(f"@{name} is a declaration without a body")
            return op
    raise EvaluationError(f"no function @{name} in the module")


def evaluate(
    module: ModuleOp, function: str, args: Sequence[np.ndarray | int | float]
) -> list[np.ndarray | np.generic]:
    """Run ``@function`` of an L1 module on NumPy inputs and return its results in order.

    Images go in and come out as ``(H, W)`` / ``(H, W, N)`` arrays (row-major, ``y`` is
    the row); scalars go in as Python or NumPy scalars and come out as NumPy scalars of
    the result type (``f32`` -> ``np.float32``, ``i32`` -> ``np.int32``). Tensors go in as
    arrays or scipy.sparse matrices and come out as dense float32 arrays. Raises
    ``EvaluationError`` naming the op and its location for anything unsupported.
    """
    start = time.perf_counter()
    with np.errstate(all="ignore"):
        results = _Evaluator(_find_function(module, function)).call(args)
    log.debug("evaluated @%s in %.3f ms", function, 1e3 * (time.perf_counter() - start))
    return results
