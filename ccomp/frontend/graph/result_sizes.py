"""The static size of a graph's results, where the program fixes it.

A graph's image result cannot declare a size (it comes from the value returned), but
when that value is computed over the extent of an input declared with a static size —
``capture`` over ``size(src)`` of ``src: image<f32, 512x512>``, the input itself, or a
repeat zone whose every iteration keeps its state's extent — the result always has
that size, and ``prog.outputs`` / ``ccomp run`` print it (``image<f32, 512x512>``)
rather than ``image<f32>``. A histogram's size is its bins. Anything else (a
``resize`` to a computed size, a zone that halves its state) stays dynamic: None.
"""

from __future__ import annotations

from xdsl.dialects import func
from xdsl.ir import Block, BlockArgument, SSAValue

from ccomp.dialects import graph, loop, ports

Shape = tuple[int, ...]


def _arg_shape(arg: BlockArgument) -> Shape | None:
    fn = arg.owner.parent_op()
    if not isinstance(fn, func.FuncOp) or fn.arg_attrs is None:
        return None
    shape = ports.port_shape(fn.arg_attrs.data[arg.index])
    return shape if shape is not None and all(d >= 0 for d in shape) else None


def extent_shape(value: SSAValue, env: dict[SSAValue, Shape | None] | None = None) -> Shape | None:
    """The static size an image value always has, or None (``env``: repeat-zone states
    assumed to have a size, while their zone is being proven to keep it)."""
    env = env or {}
    if value in env:
        return env[value]
    owner = value.owner
    if isinstance(owner, Block):
        return _arg_shape(value) if isinstance(owner.parent_op(), func.FuncOp) else None
    if isinstance(owner, graph.CaptureOp):
        return size_shape(owner.size, env)
    if isinstance(owner, loop.RepeatOp):
        k = owner.res.index(value)
        start = extent_shape(owner.inits[k], env)
        if start is None:
            return None
        body = owner.body.block
        state, yielded = body.args[1 + k], body.last_op
        if not isinstance(yielded, loop.YieldOp):
            return None
        kept = extent_shape(yielded.operands[k], {**env, state: start})
        return start if kept == start else None
    return None


def size_shape(size: SSAValue, env: dict[SSAValue, Shape | None]) -> Shape | None:
    """The static size behind an extent value: ``graph.size`` of an image of static size."""
    owner = size.owner
    if isinstance(owner, graph.SizeOp):
        return extent_shape(owner.operands[0], env)
    return None
