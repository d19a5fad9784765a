"""Runs a host schedule — an L2 ``func.func`` — on a :class:`Device`.

The schedule allocates buffers, reads extents, does uniform arithmetic, loops
(``scf.for``) and launches kernels. It is compiled once into a list of Python
closures over a register file, so a loop of a few hundred iterations costs
microseconds per op rather than an IR walk. After each op, the registers whose
value is not used again are cleared: a buffer nobody references any more goes back
to the :class:`BufferPool` at once, so buffers with disjoint lifetimes share
storage. Scalar ``arith``/``math``/``vector`` ops use the op tables of
``ccomp.semantics``, which the reference evaluator uses too, so host arithmetic has
exactly the reference semantics without the runtime importing the reference.

Long runs are repeat zones, ``scf.for`` loops of launches: the outermost loops report
iterations done and total to a ``progress`` callback, and a ``KeyboardInterrupt``
(Ctrl-C) is seen between launches, since the loop is Python. On devices that queue
launches (OpenCL, GL) the runner waits for the queue every ``Device.queue_depth``
launches, so an interrupt never leaves thousands of launches to drain. An interrupted
run drops every buffer it held, so the pool is consistent and the program usable.
A loop whose launches repeat with a period (a ping-pong) is compiled by
``host_loops`` instead: its launches are prepared once per distinct binding and the
loop only issues them.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from xdsl.dialects import arith, func, memref, scf
from xdsl.dialects.builtin import IntegerAttr, MemRefType
from xdsl.ir import Block, Operation, SSAValue

from ccomp.dialects import kern
from ccomp.semantics.arith_math import ARITH_MATH_OPS
from ccomp.semantics.vector import VECTOR_OPS
from ccomp.runtime.devices.base import Device, element_layout, scalar_dtype
from ccomp.runtime.host_loops import periodic_state, run_general, run_periodic
from ccomp.runtime.pool import Buffer, BufferPool, reclaim_outputs

log = logging.getLogger(__name__)

_SCALAR_OPS = {**ARITH_MATH_OPS, **VECTOR_OPS}
Step = Callable[[list], None]
Progress = Callable[[int, int], None]  # (iterations done, total) of an outermost repeat zone


class ScheduleCheckError(Exception):
    """A ``kern.check`` failed: the inputs break a precondition of the program. The
    face turns ``location`` (the op's location in the ``.cn`` file) into a diagnostic."""

    def __init__(self, message: str, location: Any):
        super().__init__(message)
        self.message, self.location = message, location


class HostRunner:
    """Executes the host function ``fn`` with kernels already prepared on ``device``."""

    def __init__(self, fn: func.FuncOp, device: Device, pool: BufferPool | None = None):
        self.fn, self.device = fn, device
        self.pool = pool or BufferPool(device)
        self.timings: dict[str, float] = {}
        self.launches: list[tuple[str, tuple[int, ...]]] = []  # (kernel, grid) of the last run
        self.handed_out: list[tuple[MemRefType, tuple[int, ...], np.ndarray]] = []
        self.slots: dict[SSAValue, int] = {}
        self.progress: Progress | None = None  # set by ``run`` for its duration
        self._depth = 0  # loop nesting while compiling: only outermost loops report progress
        self._preparing = False  # while compiling a fast loop's body: launches are prepared, not issued
        self.prepared: list[tuple[str, tuple[int, ...], Callable[[], Any]]] = []  # filled by such a body
        self.fast_loops = 0  # loops compiled onto that fast path (host_loops), for tests and tools
        self.profiler: Any = None  # a runtime.profile.Profiler while a profiled call runs
        self.queued, self.ahead = 0, min(8, device.queue_depth or 8)  # see wait
        self.args = [self.slot(a) for a in fn.body.block.args]
        # (slot, type, rank or -1 for a scalar, scalar dtype): what ``run`` needs per argument,
        # worked out once — asking xDSL types at every call costs microseconds each
        self.arg_specs = [(self.slot(a), a.type, a.type.get_num_dims(), None) if isinstance(a.type, MemRefType)
                          else (self.slot(a), a.type, -1, scalar_dtype(a.type)) for a in fn.body.block.args]
        self.steps, self.returns = self.compile_block(fn.body.block, keep=set(fn.body.block.args))

    def slot(self, v: SSAValue) -> int:
        if v not in self.slots:
            self.slots[v] = len(self.slots)
        return self.slots[v]

    # ----- running -------------------------------------------------------------------

    def run(self, args: Sequence[Any], progress: Progress | None = None) -> list[Any]:
        """``args`` in declaration order: C-contiguous arrays of the memref shapes for
        buffers, NumPy scalars for uniforms. Returns arrays and NumPy scalars.
        ``progress(done, total)`` is called after each iteration of an outermost loop;
        whatever it raises (``KeyboardInterrupt`` included) stops the run."""
        regs: list[Any] = [None] * len(self.slots)
        self.reclaim()
        self.pool.begin_call()
        self.progress = progress
        try:
            return self._run(regs, args)
        except BaseException as exc:
            # drop every buffer of the run now, not when the caller drops the exception:
            # its traceback holds the frames (registers, loop state) that hold them
            regs.clear()
            if exc.__traceback__ is not None:
                traceback.clear_frames(exc.__traceback__.tb_next)
            raise
        finally:
            self.progress = None

    def _run(self, regs: list[Any], args: Sequence[Any]) -> list[Any]:
        prof = self.profiler
        begin = start = time.perf_counter()
        inputs = set()
        for (slot, t, rank, dtype), value in zip(self.arg_specs, args):
            if rank >= 0:
                dims = tuple(value.shape[:rank])
                moved = time.perf_counter_ns() if prof is not None else 0
                handle = self.device.upload(t, value)
                if prof is not None and self.device.upload_copies and not self.device.records_transfers:
                    prof.transfer(self.device.name, "upload", value.nbytes, moved, time.perf_counter_ns() - moved)
                if self.device.upload_copies:  # the device's copy: freed when the run drops it
                    regs[slot] = self.pool.adopt(handle, t, dims)
                else:  # the caller's own array
                    regs[slot] = Buffer(handle, t, dims, None)
                inputs.add(id(regs[slot]))
            else:
                regs[slot] = np.asarray(value, dtype=dtype)
        self.timings = {"upload": time.perf_counter() - start}
        self.launches = []
        start = time.perf_counter()
        for step in self.steps:
            step(regs)
        if prof is not None:  # queued launches belong to the run, not to the first download
            self.device.sync()
        self.timings["run"] = time.perf_counter() - start
        start = time.perf_counter()
        outs, seen = [], set()
        for slot in self.returns:
            value = regs[slot]
            if isinstance(value, Buffer):
                moved = time.perf_counter_ns() if prof is not None else 0
                array = self.device.download(value.handle)
                if prof is not None and not self.device.download_is_view and not self.device.records_transfers:
                    prof.transfer(self.device.name, "download", array.nbytes, moved, time.perf_counter_ns() - moved)
                aliased = id(value) in inputs or id(value) in seen
                if aliased or not self.device.download_is_view:
                    array = np.array(array, copy=True) if aliased else array
                else:
                    value.detach()  # the caller owns this storage now
                    self.handed_out.append((value.type, value.dims, array))
                seen.add(id(value))
                outs.append(array)
            else:
                outs.append(value[()] if isinstance(value, np.ndarray) and value.shape == () else value)
        self.timings["download"] = time.perf_counter() - start
        if prof is not None:
            for name, at in (("upload", begin), ("run", begin + self.timings["upload"]),
                             ("download", start)):
                prof.host(name, int(at * 1e9), int(self.timings[name] * 1e9))
        return outs

    def reclaim(self) -> None:
        """Take back output arrays of earlier calls that the caller no longer holds, so a
        program called in a loop reuses its output storage instead of faulting in fresh
        pages every call (only for devices whose outputs are the buffers themselves)."""
        self.handed_out = reclaim_outputs(self.pool, self.handed_out)

    def wait(self) -> None:
        """Wait for the device's queue, and adapt how far the host may run ahead: the
        work left queued when Ctrl-C comes should take well under a second, and a wait
        every few launches should cost little (up to ``Device.queue_depth`` ahead)."""
        start = time.perf_counter()
        self.device.sync()
        waited = time.perf_counter() - start
        if waited > 0.05 and self.ahead > 1:
            self.ahead //= 2
        elif waited < 0.01 and self.ahead < (self.device.queue_depth or 1):
            self.ahead *= 2
        self.queued = 0

    # ----- compiling the schedule into closures ------------------------------------------

    def compile_block(self, block: Block, keep: set[SSAValue]) -> tuple[list[Step], list[int]]:
        """Steps for ``block`` (up to its terminator) and the slots its terminator returns."""
        ops = list(block.ops)
        last_use: dict[SSAValue, int] = {}
        for i, op in enumerate(ops):
            for v in _used_values(op):
                last_use[v] = i
        terminator = ops[-1]
        local = set(block.args) | {r for op in ops for r in op.results}  # outer values stay alive
        steps: list[Step] = []
        for i, op in enumerate(ops[:-1]):
            steps.append(self.compile_op(op))
            dead = [self.slot(v) for v, j in last_use.items()
                    if j == i and v in local and v not in keep and v in self.slots]
            if dead:
                steps.append(_clear(dead))
        return steps, [self.slot(v) for v in terminator.operands]

    def compile_op(self, op: Operation) -> Step:
        if isinstance(op, kern.LaunchOp):
            return self.compile_launch(op)
        if isinstance(op, memref.AllocOp):
            t, out = op.memref.type, self.slot(op.memref)
            sizes = [self.slot(d) for d in op.dynamic_sizes]
            pool, where = self.pool, op.location  # where: for an AllocationError at the .cn expression

            def alloc(regs):
                regs[out] = pool.alloc(t, [int(regs[s]) for s in sizes], where)
            return alloc
        if isinstance(op, memref.DimOp):
            src, idx, out = self.slot(op.source), self.slot(op.index), self.slot(op.result)

            def dim(regs):
                regs[out] = np.int64(regs[src].dims[int(regs[idx])])
            return dim
        if isinstance(op, memref.DeallocOp):
            src = self.slot(op.memref)
            return _clear([src])
        if isinstance(op, scf.ForOp):
            return self.compile_for(op)
        if isinstance(op, kern.CheckOp):
            cond, message, where = self.slot(op.cond), op.message.data, op.location
            values = [self.slot(v) for v in op.values]

            def check(regs):
                if not bool(regs[cond]):
                    raise ScheduleCheckError(message.format(*[regs[v][()] for v in values]), where)
            return check
        if isinstance(op, arith.ConstantOp) and isinstance(op.value, IntegerAttr):
            value, out = np.asarray(op.value.value.data, dtype=scalar_dtype(op.result.type)), self.slot(op.result)

            def const(regs):
                regs[out] = value
            return const
        if isinstance(op, arith.IndexCastOp):  # sizes: by far the most common host op
            src, out, dtype = self.slot(op.input), self.slot(op.result), scalar_dtype(op.result.type).type

            def cast(regs):
                regs[out] = np.asarray(regs[src]).astype(dtype)[()]  # wraps like the IR
            return cast
        if op.name in _SCALAR_OPS:
            handler = _SCALAR_OPS[op.name]
            ins, out = [self.slot(v) for v in op.operands], self.slot(op.results[0])

            def scalar(regs):
                with np.errstate(all="ignore"):  # IEEE results and wrap-around are the semantics
                    regs[out] = np.asarray(handler(op, [np.asarray(regs[s]) for s in ins]))
            return scalar
        raise NotImplementedError(f"the host schedule cannot run {op.name}")

    def compile_launch(self, op: kern.LaunchOp) -> Step:
        name, device = op.kernel_name, self.device
        grid = [self.slot(g) for g in op.grid]
        queueing = device.queue_depth is not None
        args = [self.slot(a) for a in op.args]
        out = self.slot(op.res[0]) if op.res else None
        dtype = element_layout(op.res[0].type).dtype if op.res else None
        if self._preparing:  # only in a fast loop's body, which holds no reduction

            def prepare(regs):
                values = [regs[s].handle if isinstance(regs[s], Buffer) else regs[s][()] for s in args]
                extent = tuple(int(regs[g]) for g in grid)
                issue = device.prepare_launch(name, extent, values)
                if self.profiler is not None:
                    issue = self.profiler.wrap(device, name, extent, issue)
                self.prepared.append((name, extent, issue))
            return prepare

        def launch(regs):
            values = [regs[s].handle if isinstance(regs[s], Buffer) else regs[s][()] for s in args]
            extent = [int(regs[g]) for g in grid]
            if self.profiler is None:
                result = device.launch(name, extent, values)
            else:
                result = self.profiler.launch(device, name, tuple(extent),
                                              lambda: device.launch(name, extent, values))
            self.launches.append((name, tuple(extent)))
            if queueing:
                self.queued += 1
                if self.queued >= self.ahead:
                    self.wait()
            if out is not None:
                regs[out] = np.asarray(result, dtype=dtype)
        return launch

    def compile_for(self, op: scf.ForOp) -> Step:
        """A loop: on the fast path of ``host_loops`` when its launches repeat with a
        period (decided here, once), else iteration by iteration."""
        top = self._depth == 0
        periodic = periodic_state(op, self.slot, _SCALAR_OPS)
        self._depth += 1
        self._preparing = periodic is not None
        try:
            steps, yields = self.compile_block(op.body.block, keep=set())
        finally:
            self._depth -= 1
            self._preparing = False
        if periodic is not None:
            self.fast_loops += 1
            return run_periodic(self, op, periodic, top, steps)
        return run_general(self, op, top, steps, yields)


def _used_values(op: Operation) -> list[SSAValue]:
    """Operands of ``op`` and of everything nested in it (uses inside a loop count as
    uses by the loop op itself)."""
    used = list(op.operands)
    for region in op.regions:
        for inner in region.walk():
            used.extend(inner.operands)
    return used


def _clear(slots: list[int]) -> Step:
    def clear(regs):
        for s in slots:
            regs[s] = None
    return clear


__all__ = ["HostRunner", "Buffer", "ScheduleCheckError"]
