"""Runs a host schedule — an L2 ``func.func`` — on a :class:`Device`.

The schedule allocates buffers, reads extents, does uniform arithmetic and launches
kernels; it is short (a handful of ops per kernel), so it is interpreted, while
the kernels themselves run compiled on the device. Scalar ``arith``/``math``/
``vector`` ops share the reference evaluator's op table, so host arithmetic has
exactly the semantics the reference gives it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from xdsl.dialects import arith, func, memref
from xdsl.dialects.builtin import IntegerAttr, MemRefType
from xdsl.ir import Operation, SSAValue

from ccomp.dialects import kern
from ccomp.reference.ops import ARITH_MATH_OPS
from ccomp.reference.vector_ops import VECTOR_OPS
from ccomp.runtime.device import Device, array_shape, scalar_dtype

log = logging.getLogger(__name__)

_SCALAR_OPS = {**ARITH_MATH_OPS, **VECTOR_OPS}


class Buffer:
    """A device buffer with the shape the host knows it by."""

    __slots__ = ("handle", "type", "dims")

    def __init__(self, handle: Any, type: MemRefType, dims: tuple[int, ...]):
        self.handle, self.type, self.dims = handle, type, dims


class HostRunner:
    """Executes the host function ``fn`` with kernels already prepared on ``device``."""

    def __init__(self, fn: func.FuncOp, device: Device):
        self.fn, self.device = fn, device
        self.timings: dict[str, float] = {}

    def run(self, args: Sequence[Any]) -> list[Any]:
        """``args`` in declaration order: C-contiguous arrays of the memref shapes for
        buffers, NumPy scalars for uniforms. Returns arrays and NumPy scalars."""
        env: dict[SSAValue, Any] = {}
        start = time.perf_counter()
        for arg, value in zip(self.fn.body.block.args, args):
            if isinstance(arg.type, MemRefType):
                dims = value.shape[: arg.type.get_num_dims()]
                env[arg] = Buffer(self.device.upload(arg.type, value), arg.type, tuple(dims))
            else:
                env[arg] = np.asarray(value, dtype=scalar_dtype(arg.type))
        self.timings["upload"] = time.perf_counter() - start
        start = time.perf_counter()
        for op in self.fn.body.block.ops:
            if isinstance(op, func.ReturnOp):
                self.timings["run"] = time.perf_counter() - start
                start = time.perf_counter()
                outs = [self.result(env[v], v in self.fn.body.block.args) for v in op.operands]
                self.timings["download"] = time.perf_counter() - start
                return outs
            self.execute(op, env)
        raise RuntimeError(f"host function @{self.fn.sym_name.data} has no return")

    def result(self, value: Any, is_input: bool) -> Any:
        if isinstance(value, Buffer):
            out = self.device.download(value.handle)
            return np.array(out, copy=True) if is_input else out
        return value[()] if isinstance(value, np.ndarray) and value.shape == () else value

    def execute(self, op: Operation, env: dict[SSAValue, Any]) -> None:
        if isinstance(op, kern.LaunchOp):
            grid = [int(env[g]) for g in op.grid]
            args = [env[a].handle if isinstance(env[a], Buffer) else env[a][()] for a in op.args]
            t0 = time.perf_counter()
            value = self.device.launch(op.kernel_name, grid, args)
            log.debug("launch @%s %s: %.3f ms", op.kernel_name, grid, 1e3 * (time.perf_counter() - t0))
            if op.res:
                env[op.res[0]] = np.asarray(value, dtype=scalar_dtype(op.res[0].type))
        elif isinstance(op, memref.AllocOp):
            dims = tuple(int(env[d]) for d in op.dynamic_sizes)
            env[op.memref] = Buffer(self.device.alloc(op.memref.type, dims), op.memref.type, dims)
        elif isinstance(op, memref.DimOp):
            buf: Buffer = env[op.source]
            env[op.result] = np.asarray(buf.dims[int(env[op.index])], dtype=np.int64)
        elif isinstance(op, arith.ConstantOp) and isinstance(op.value, IntegerAttr) and \
                not isinstance(op.result.type, MemRefType):
            env[op.result] = np.asarray(op.value.value.data, dtype=scalar_dtype(op.result.type))
        elif op.name in _SCALAR_OPS:
            value = _SCALAR_OPS[op.name](op, [np.asarray(env[v]) for v in op.operands])
            env[op.results[0]] = np.asarray(value)
        else:
            raise NotImplementedError(f"the host schedule cannot run {op.name}")


__all__ = ["HostRunner", "Buffer", "array_shape"]
