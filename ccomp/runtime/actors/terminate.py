"""Terminating an actor: drain its queue through the handler, or fail and list every
message still queued, so that nothing in flight vanishes silently."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ccomp.runtime.actors.actor import Actor
    from ccomp.runtime.actors.runtime import RuntimeCore


@dataclass
class TerminationReport:
    """``drained``: messages processed after terminate was called; ``in_flight``: ids of
    the messages that were queued and not processed (each failed to its sender)."""

    actor: str
    drained: int
    in_flight: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


async def terminate_actor(rt: "RuntimeCore", actor: "Actor", drain: bool) -> TerminationReport:
    actor.transition("terminate")
    actor.drain = drain
    left = np.zeros(0, np.int64)
    if not drain:
        taken = actor.queue.take_all()
        error = "the actor was terminated before processing it"
        for _, meta in taken:
            rt.fail(actor, meta, {i: error for i in range(meta.n)}, count=False)
        if taken:
            left = np.concatenate([m.ids for _, m in taken])
    await actor.finished()
    return TerminationReport(actor.name, actor.drained, left)
