"""The ``scf.for`` loops of a host schedule (repeat zones), and the fast path of those
whose launches repeat with a period: issued with no Python work per iteration beyond
the launch itself.

A ping-pong loop (``examples/heat.cn``) launches the same kernels every iteration over
buffers that only trade places: ``scf.for ... iter_args(%u = %u0, %a = %A, %b = %B)``
yielding ``%a, %b, %a`` reads u0, then A, B, A, B... The general loop (``run_general``)
re-reads registers, re-packs every argument and has the device bind them at every
launch, which costs more than the launch itself on small grids. The fast path is chosen
when the schedule is compiled (``periodic_state``): the body only reads extents, does
scalar arithmetic, checks (``kern.check``) and launches non-reduce kernels, none of it
depending on the induction variable, and each yielded value is a carried value or one
defined before the loop. The carried values are then a fixed function of the
iteration — after ``pre`` iterations they cycle with a short ``period`` — so at run
time (``run_periodic``) the body's host ops run once per distinct state, each launch is
prepared once (``Device.prepare_launch``), and the loop only calls the prepared
launches, in blocks of about ``HostRunner.ahead`` launches between waits. Anything else
(allocation in the loop, a reduction read back, a nested loop, a value that changes
every iteration) takes the general path.

A check depends only on the state here, so it is evaluated once per distinct state,
before the first launch of the loop rather than before the iteration that first reaches
that state: a failing one raises the same located error, with fewer launches issued.
Loaded builds carry such checks before every launch (``launch_guard``).

Progress callbacks are still called after every iteration of an outermost loop, and an
exception from one stops the run after that iteration's launches. Without a callback
the launches an interrupted run records (``HostRunner.launches``) count whole blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from xdsl.dialects import arith, memref, scf
from xdsl.ir import Block, BlockArgument, SSAValue

from ccomp.dialects import kern

if TYPE_CHECKING:
    from ccomp.runtime.host import HostRunner

MAX_STATES = 8  # distinct carried states prepared at most (pre + period): 2- and 3-buffer rotations fit
_BLOCK = 256  # launches issued between checks on a device that does not queue

Source = tuple[bool, int]  # (True, j): the loop's j-th initial value; (False, slot): an outer register


@dataclass(frozen=True)
class Periodic:
    """Where each carried value comes from at the start of iteration i: ``states[i]``
    for i < pre + period, and from then on ``states[pre + (i - pre) % period]``."""

    states: tuple[tuple[Source, ...], ...]
    pre: int
    period: int

    def index(self, i: int) -> int:
        return i if i < self.pre else self.pre + (i - self.pre) % self.period


def periodic_state(op: scf.ForOp, slot: Callable[[SSAValue], int], scalar_ops: Any) -> Periodic | None:
    """The carried state of ``op`` as a periodic function of the iteration, or None when
    the loop does not qualify for the fast path (see the module docstring)."""
    body = op.body.block
    iv, carried = body.args[0], list(body.args[1:])
    *ops, terminator = list(body.ops)
    for inner in ops:
        if isinstance(inner, kern.LaunchOp):
            if inner.res:  # a reduction read back every iteration
                return None
        elif not (isinstance(inner, (memref.DimOp, arith.ConstantOp, arith.IndexCastOp, kern.CheckOp))
                  or inner.name in scalar_ops):
            return None  # alloc, dealloc, nested loop, ...
        if iv in inner.operands:  # extents or arguments that change every iteration
            return None
    moves: list[tuple[bool, int]] = []  # per yielded value: (True, k) carried value k, (False, slot) outer
    for v in terminator.operands:
        if isinstance(v, BlockArgument) and v.block is body:
            if v is iv:
                return None
            moves.append((True, carried.index(v)))
        elif _defined_in(v, body):
            return None  # computed in the loop: not a rotation of buffers
        else:
            moves.append((False, slot(v)))
    state: tuple[Source, ...] = tuple((True, j) for j in range(len(carried)))
    states, seen = [state], {state: 0}
    while True:
        state = tuple(state[k] if from_carried else (False, k) for from_carried, k in moves)
        if state in seen:
            pre = seen[state]
            return Periodic(tuple(states), pre, len(states) - pre)
        if len(states) == MAX_STATES:
            return None
        seen[state] = len(states)
        states.append(state)


def _defined_in(v: SSAValue, block: Block) -> bool:
    if isinstance(v, BlockArgument):
        return v.block is block
    return v.owner.parent is block


def run_general(runner: HostRunner, op: scf.ForOp, top: bool, steps: list[Callable[[list], None]],
                yields: list[int]) -> Callable[[list], None]:
    """The step running ``op`` iteration by iteration: its body's ``steps`` each time,
    the state handed from ``yields`` to the carried registers."""
    lb, ub, step = runner.slot(op.lb), runner.slot(op.ub), runner.slot(op.step)
    inits = [runner.slot(v) for v in op.iter_args]
    body = op.body.block
    iv, carried = runner.slot(body.args[0]), [runner.slot(a) for a in body.args[1:]]
    results = [runner.slot(r) for r in op.results]
    # per-iteration registers to drop; a yielded value defined outside the loop (an
    # input, a buffer computed before it) is not the loop's to clear
    local = set(body.args) | {r for inner in body.ops for r in inner.results}
    scratch = [runner.slot(v) for v in [*body.args[1:], *body.last_op.operands] if v in local]

    def loop(regs: list) -> None:
        values = [regs[s] for s in inits]
        indices = range(int(regs[lb]), int(regs[ub]), int(regs[step]))
        report, total = (runner.progress if top else None), len(indices)
        for done, i in enumerate(indices, 1):
            regs[iv] = np.int64(i)
            for s, v in zip(carried, values):
                regs[s] = v
            values = None  # drop the previous state so it can go back to the pool
            for st in steps:
                st(regs)
            values = [regs[s] for s in yields]
            for s in scratch:
                regs[s] = None
            if report is not None:
                report(done, total)
        for s, v in zip(results, values):
            regs[s] = v
    return loop


def run_periodic(runner: HostRunner, op: scf.ForOp, periodic: Periodic, top: bool,
                 steps: list[Callable[[list], None]]) -> Callable[[list], None]:
    """The step running ``op`` on the fast path; ``steps`` are its body compiled with
    launches prepared into ``runner.prepared`` instead of issued."""
    lb, ub, step = runner.slot(op.lb), runner.slot(op.ub), runner.slot(op.step)
    inits = [runner.slot(v) for v in op.iter_args]
    body = op.body.block
    carried = [runner.slot(a) for a in body.args[1:]]
    results = [runner.slot(r) for r in op.results]
    scratch = sorted({runner.slot(r) for inner in body.ops for r in inner.results} | set(carried))
    queueing = runner.device.queue_depth is not None
    pre, period = periodic.pre, periodic.period

    def loop(regs: list) -> None:
        n = len(range(int(regs[lb]), int(regs[ub]), int(regs[step])))
        initial = [regs[s] for s in inits]

        def value(source: Source) -> Any:
            return initial[source[1]] if source[0] else regs[source[1]]

        plans: list[list[Callable[[], Any]]] = []
        records: list[list[tuple[str, tuple[int, ...]]]] = []
        try:
            for state in periodic.states[:n]:  # the body's host ops, once per distinct state
                for s, source in zip(carried, state):
                    regs[s] = value(source)
                runner.prepared = []
                for st in steps:
                    st(regs)
                records.append([(name, extent) for name, extent, _ in runner.prepared])
                plans.append([issue for _, _, issue in runner.prepared])
        finally:
            runner.prepared = []
        for s in scratch:
            regs[s] = None
        done = [0]  # iterations issued, as far as an interrupted run knows
        try:
            report = runner.progress if top else None
            if report is not None or n < len(periodic.states):
                for i in range(n):
                    _issue(runner, plans[periodic.index(i)], queueing)
                    done[0] = i + 1
                    if report is not None:
                        report(i + 1, n)
            else:
                for i in range(pre):
                    _issue(runner, plans[i], queueing)
                    done[0] = i + 1
                _issue_cycles(runner, plans[pre:], n - pre, queueing, done)
        finally:
            runner.launches.extend(_records(records, periodic, done[0]))
        final = periodic.states[periodic.index(n)]
        for s, source in zip(results, final):
            regs[s] = value(source)
    return loop


def _issue(runner: HostRunner, calls: list[Callable[[], Any]], queueing: bool) -> None:
    """Issue one iteration's prepared launches, waiting when the queue is full."""
    for call in calls:
        call()
    if queueing:
        runner.queued += len(calls)
        if runner.queued >= runner.ahead:
            runner.wait()


def _issue_cycles(runner: HostRunner, cycle: list[list[Callable[[], Any]]], count: int, queueing: bool,
                  issued: list[int]) -> None:
    """Issue ``count`` iterations that repeat ``cycle`` (one list of launches per
    iteration), in blocks of whole cycles of about ``runner.ahead`` launches with one
    wait after each; ``issued[0]`` grows by each block's iterations once it is issued."""
    flat = [call for calls in cycle for call in calls]
    period, per_iteration = len(cycle), len(cycle[0])
    if not flat:  # a loop without launches
        issued[0] += count
        return
    done = 0
    while count - done > 0:
        limit = runner.ahead if queueing else _BLOCK
        cycles = max(1, limit // len(flat))
        block, span = flat * cycles, period * cycles
        while count - done >= span:
            for call in block:
                call()
            done += span
            issued[0] += span
            if queueing:
                runner.wait()
                if runner.ahead != limit:
                    break  # the wait changed how far ahead to run: new blocks
        else:
            tail = block[: (count - done) * per_iteration]
            for call in tail:
                call()
            issued[0] += count - done
            done = count
            if queueing:
                runner.queued += len(tail)


def _records(records: list[list[tuple[str, tuple[int, ...]]]], periodic: Periodic,
             done: int) -> list[tuple[str, tuple[int, ...]]]:
    """The (kernel, grid) of every launch of the first ``done`` iterations, from those of
    each distinct state (all of them when ``done`` exceeds their number)."""
    if done <= len(records):
        return [r for recs in records[:done] for r in recs]
    pre = periodic.pre
    full, rest = divmod(done - pre, periodic.period)
    cycle = [r for recs in records[pre:] for r in recs]
    return ([r for recs in records[:pre] for r in recs] + cycle * full
            + [r for recs in records[pre:pre + rest] for r in recs])


__all__ = ["MAX_STATES", "Periodic", "periodic_state", "run_general", "run_periodic"]
