"""Batches within llvmpipe's loop budget.

Mesa's llvmpipe (the GL the glsl target runs on without a GPU) ends a shader
invocation after 65535 loop iterations *in all* — every loop of the invocation counts
against one budget — and says nothing: a sum over 100,000 values returned the sum of
the first 65533, and a stateful handler over 70,000 messages stopped at message 65533.
A handler's kernel runs a stateless batch one message per invocation, but a stateful
batch in ONE invocation (the state is threaded in order), so the budget is per message
or per batch.

``actor-lower`` records what one message costs (``actor.loop_cost``: per ragged field,
how many loops run as long as it, plus fixed iterations), so the runner knows each
row's cost before it launches. :func:`run_within_budget` then launches a stateful batch
as consecutive parts that each fit (the state carries from one to the next, as between
batches) and fails a message that alone needs more than the budget with a located
error instead of a wrong answer.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ccomp.runtime.actors.spec import Batch, HandlerResult, MessageSpec

#: llvmpipe's budget (LP_MAX_TGSI_LOOP_ITERATIONS, 65535) less a margin.
LOOP_BUDGET = 65_000

Run = Callable[[dict[str, np.ndarray], Batch, int], HandlerResult]


def is_llvmpipe(device) -> bool:
    """Whether a glsl device is Mesa's llvmpipe (its renderer string says so)."""
    ctx = getattr(device, "ctx", None)
    return ctx is not None and "llvmpipe" in str(ctx.info.get("GL_RENDERER", ""))


def row_costs(cost: dict[str, int], stateful: bool, batch: Batch) -> np.ndarray:
    """The loop iterations of each message of ``batch`` (its share of the row loop
    included when the kernel walks the batch in one invocation)."""
    total = np.full(batch.n, cost.get("", 0) + (1 if stateful else 0), np.int64)
    for name, times in cost.items():
        if name:
            total += times * np.diff(np.asarray(batch.offsets[name], np.int64))
    return total


def _parts(costs: np.ndarray, stateful: bool) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Row ranges to launch one after another, and the rows too costly to launch."""
    over = costs > LOOP_BUDGET
    parts: list[tuple[int, int]] = []
    start, used = 0, 0
    for i, c in enumerate(costs.tolist()):
        if over[i] or (stateful and used + c > LOOP_BUDGET):
            if i > start:
                parts.append((start, i))
            start, used = (i + 1, 0) if over[i] else (i, 0)
        if not over[i]:
            used += c
    if start < len(costs):
        parts.append((start, len(costs)))
    return parts, over


def slice_rows(spec: MessageSpec, batch: Batch, lo: int, hi: int) -> Batch:
    columns = {f.name: batch.columns[f.name] if f.variable else batch.columns[f.name][lo:hi] for f in spec.fields}
    offsets = {f.name: np.asarray(batch.offsets[f.name])[lo:hi + 1] for f in spec.fields if f.variable}
    return Batch(batch.message, hi - lo, columns, offsets)


def concat(parts: list[Batch]) -> Batch:
    first = parts[0]
    columns, offsets = {}, {}
    for name, col in first.columns.items():
        if name in first.offsets:
            bases = np.cumsum([0] + [int(p.offsets[name][-1]) for p in parts[:-1]])
            offsets[name] = np.concatenate([[0]] + [p.offsets[name][1:] + b for p, b in zip(parts, bases)])
        columns[name] = np.concatenate([p.columns[name] for p in parts])
    return Batch(first.message, sum(p.n for p in parts), columns, offsets)


def run_within_budget(run: Run, spec: MessageSpec, state: dict[str, np.ndarray], batch: Batch,
                      costs: np.ndarray, stateful: bool, too_costly: Callable[[int, int], str]) -> HandlerResult:
    """``run`` over ``batch`` in parts that fit the budget (see the module docstring);
    ``too_costly(row, cost)`` is the diagnostic of a message that alone does not fit."""
    parts, over = _parts(costs, stateful)
    results = [(lo, run(state, slice_rows(spec, batch, lo, hi), lo)) for lo, hi in parts]
    failed = over.copy()
    errors = {int(r): too_costly(int(r), int(costs[r])) for r in np.flatnonzero(over)}
    replies, sends = [], {}
    for lo, res in results:
        failed[lo:lo + len(res.failed)] |= res.failed
        errors.update(res.errors)
        if res.replies is not None:
            replies.append(res.replies)
        for k, b in res.sends.items():
            sends.setdefault(k, []).append(b)
    return HandlerResult(concat(replies) if replies else None, {k: concat(v) for k, v in sends.items()},
                         failed, dict(sorted(errors.items())))
