"""Hand-written actor programs for testing the runtime alone.

Their handlers are small Python ``HandlerFn``s over NumPy columns, written to the
contract in ``ccomp/runtime/actors/spec.py`` — the same contract the compiled handlers
meet — so the queue, policy, priority, lifecycle and telemetry tests do not depend on
the compiler. ``test_must_show.py`` runs the compiled ones.
"""

from __future__ import annotations

import numpy as np

from ccomp.runtime.actors.spec import (ActorProgram, ActorSpec, Batch, FieldSpec, HandlerResult, HandlerSpec,
                                       MessageSpec, PipelineSpec, StateSpec)

SAMPLES = MessageSpec("Samples", (FieldSpec("data", "float32", (None,)),))
SUMMARY = MessageSpec("Summary", (FieldSpec("total", "float64"), FieldSpec("count", "int64"),
                                  FieldSpec("mean", "float32")))
VALUE = MessageSpec("Value", (FieldSpec("v", "float32"),))
CLASS = MessageSpec("Class", (FieldSpec("c", "int32"),))
VEC = MessageSpec("Vec", (FieldSpec("x", "float32", (8,)),))


def summarise(state: dict, batch: Batch) -> HandlerResult:
    """stats.cn's handler: running count of samples, sum and mean of each message; a
    message with a negative sample fails (as a kern.check would)."""
    off, vals = batch.offsets["data"], batch.columns["data"]
    lens = np.diff(off)
    sums = np.add.reduceat(vals.astype(np.float64), off[:-1]) if len(vals) else np.zeros(batch.n)
    sums = np.where(lens > 0, sums, 0.0)
    bad = np.array([np.any(vals[off[i]:off[i + 1]] < 0) for i in range(batch.n)], bool)
    ok = np.flatnonzero(~bad)
    counts = state["seen"] + np.cumsum(np.where(bad, 0, lens))
    state["seen"][...] = counts[-1] if batch.n else state["seen"]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (sums / lens).astype(np.float32)
    replies = Batch("Summary", len(ok), {"total": sums[ok], "count": counts[ok].astype(np.int64), "mean": mean[ok]})
    errors = {int(i): "stats.cn:5:9: error: check failed: samples must not be negative" for i in np.flatnonzero(bad)}
    return HandlerResult(replies, failed=bad if bad.any() else None, errors=errors)


def stage(fn, out: str, field: str, in_field: str):
    def run(state: dict, batch: Batch) -> HandlerResult:
        state["calls"][...] += 1
        return HandlerResult(Batch(out, batch.n, {field: fn(batch.columns[in_field])}))
    return run


def normalise(v):
    return np.clip(v / np.float32(100), 0, 1).astype(np.float32)


def square(v):
    return (v * v).astype(np.float32)


def classify(v):
    return np.where(v < 0.3, 0, np.where(v < 0.7, 1, 2)).astype(np.int32)


def actor(name: str, handlers: dict, capacity: int = 1024, policy: str = "block", state=()) -> ActorSpec:
    return ActorSpec(name, capacity, policy, tuple(state), handlers)


def stats_program(capacity: int = 1024, policy: str = "block") -> ActorProgram:
    h = HandlerSpec("Samples", "Summary", (), summarise)
    a = actor("summarise", {"Samples": h}, capacity, policy, (StateSpec("seen", "int64", (), 0),))
    return ActorProgram("python", {"Samples": SAMPLES, "Summary": SUMMARY}, {"summarise": a},
                        {"stats": PipelineSpec("stats", ("summarise",), (), ("summarise",), ("summarise",))})


def classify_program(capacity: int = 1024, policy: str = "block") -> ActorProgram:
    calls = (StateSpec("calls", "int64", (), 0),)
    stages = {
        "norm": actor("norm", {"Value": HandlerSpec("Value", "Value", (), stage(normalise, "Value", "v", "v"))},
                      capacity, policy, calls),
        "square": actor("square", {"Value": HandlerSpec("Value", "Value", (), stage(square, "Value", "v", "v"))},
                        capacity, policy, calls),
        "classify": actor("classify", {"Value": HandlerSpec("Value", "Class", (), stage(classify, "Class", "c", "v"))},
                          capacity, policy, calls),
    }
    pipe = PipelineSpec("classify_stream", ("norm", "square", "classify"),
                        (("norm", "square"), ("square", "classify")), ("norm",), ("classify",))
    return ActorProgram("python", {"Value": VALUE, "Class": CLASS}, stages, {"classify_stream": pipe})


def echo_program(capacity: int = 64, policy: str = "block") -> ActorProgram:
    """One actor that replies each Value as is (overload and priority tests)."""
    h = HandlerSpec("Value", "Value", (), lambda state, b: HandlerResult(Batch("Value", b.n, {"v": b.columns["v"].copy()})))
    return ActorProgram("python", {"Value": VALUE}, {"echo": actor("echo", {"Value": h}, capacity, policy)}, {})
