"""What a compiled actor program is, as the actor runtime sees it.

This is the contract between the compiler side (``actor-lower`` and the driver, which
build an :class:`ActorProgram` from a ``.cn`` file) and the asyncio runtime in
``ccomp.runtime.actors``. It lives in the runtime because the runtime may not import
the compiler (docs/architecture.md): the compiler builds these objects, the runtime
only reads them.

Messages travel in batches as struct-of-arrays (:class:`Batch`): one NumPy column per
field, never one Python object per message. A fixed-shape field of ``n`` messages is an
array of shape ``(n, *shape)``; a variable-length field (``tensor<?xf32>``) is its values
concatenated plus ``n + 1`` int64 offsets, so message ``i`` owns
``values[offsets[i]:offsets[i + 1]]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

#: The backpressure policies a queue may declare.
POLICIES = ("block", "reject", "drop_oldest")


@dataclass(frozen=True)
class FieldSpec:
    """One field of a message type.

    ``dtype`` is a NumPy dtype name (``float32``, ``float64``, ``int32``, ``int64``,
    ``bool``); ``shape`` is ``()`` for a scalar, ``(3,)`` for a vec3 or a
    ``tensor<3xf32>``, and ``(None,)`` for a variable-length ``tensor<?xf32>``.
    """

    name: str
    dtype: str
    shape: tuple[int | None, ...] = ()

    @property
    def variable(self) -> bool:
        return None in self.shape


@dataclass(frozen=True)
class MessageSpec:
    name: str
    fields: tuple[FieldSpec, ...]

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass
class Batch:
    """``n`` messages of one type as columns (see the module docstring)."""

    message: str
    n: int
    columns: dict[str, np.ndarray]
    offsets: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class HandlerResult:
    """What one call of a compiled handler over a batch gives back.

    ``replies`` has one row per message that did not fail, in order; ``sends`` maps a
    target actor's name to the batch of messages the handler sent it. ``failed`` marks
    the rows whose handler failed (a ``kern.check``, an index out of range) and
    ``errors`` holds each failed row's located diagnostic; the state is left as the
    successful rows made it.
    """

    replies: Batch | None
    sends: dict[str, Batch] = field(default_factory=dict)
    failed: np.ndarray | None = None
    errors: dict[int, str] = field(default_factory=dict)


#: A compiled handler: ``run(state, batch)``. ``state`` maps each state variable to a
#: 0-d (or fixed-shape) NumPy array that the handler updates in place, threading it
#: through the batch's messages in order.
HandlerFn = Callable[[dict[str, np.ndarray], Batch], HandlerResult]


@dataclass(frozen=True)
class HandlerSpec:
    message: str
    reply: str | None
    sends: tuple[tuple[str, str], ...]  # (target actor, message type)
    run: HandlerFn


@dataclass(frozen=True)
class StateSpec:
    name: str
    dtype: str
    shape: tuple[int, ...] = ()
    init: float | int | bool = 0


@dataclass(frozen=True)
class ActorSpec:
    name: str
    capacity: int
    policy: str  # one of POLICIES
    state: tuple[StateSpec, ...]
    handlers: Mapping[str, HandlerSpec]  # message type -> handler
    delivery: str = "at_most_once"  # or "at_least_once": what a process restart may cost on Ray
    checkpoint_every: int = 0  # on Ray: save the state every N messages (0: never)


@dataclass(frozen=True)
class PipelineSpec:
    """``a -> (b, c) -> d``: ``edges`` are (from, to) stage pairs; replies of a stage
    feed every stage it points to. ``entries`` receive what is sent to the pipeline;
    ``exits`` are the stages whose replies leave it."""

    name: str
    stages: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]
    entries: tuple[str, ...]
    exits: tuple[str, ...]


@dataclass(frozen=True)
class ActorProgram:
    target: str
    messages: Mapping[str, MessageSpec]
    actors: Mapping[str, ActorSpec]
    pipelines: Mapping[str, PipelineSpec]
    filename: str = "<string>"
