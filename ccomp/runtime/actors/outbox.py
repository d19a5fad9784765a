"""Where an actor's replies (and its failed messages) wait for ``receive``.

Replies arrive as whole batches and stay columns until a user takes them: ``receive``
builds one :class:`Message`, ``receive_many`` hands out columns. A failed message waits
in the same order as a :class:`MessageFailed`, raised by ``receive`` when it reaches the
front and listed by ``receive_many``, so no failure is skipped silently.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ccomp.runtime.actors.columns import Meta, concat_batches, slice_batch
from ccomp.runtime.actors.errors import MessageFailed
from ccomp.runtime.actors.messages import Message, row_message
from ccomp.runtime.actors.spec import Batch


@dataclass
class Replies:
    """Replies taken in bulk: ``batch`` holds their fields as columns; ``ids``,
    ``correlation_ids`` and ``priorities`` are aligned with its rows; ``failures`` are the
    messages that failed meanwhile."""

    batch: Batch | None
    ids: np.ndarray
    correlation_ids: np.ndarray
    priorities: np.ndarray
    failures: list[MessageFailed] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, name: str) -> np.ndarray:
        if self.batch is None:
            raise KeyError(name)
        return self.batch.columns[name]


class Outbox:
    def __init__(self) -> None:
        self.entries: deque[list] = deque()  # [batch, meta, pos] or [MessageFailed]
        self.count = 0
        self.waiters: list[asyncio.Future] = []

    def put(self, batch: Batch, meta: Meta) -> None:
        if meta.n:
            self.entries.append([batch, meta, 0])
            self.count += meta.n
            self._wake()

    def fail(self, failures: list[MessageFailed]) -> None:
        for f in failures:
            self.entries.append([f])
        self.count += len(failures)
        if failures:
            self._wake()

    def _wake(self) -> None:
        for w in self.waiters:
            if not w.done():
                w.set_result(None)
        self.waiters.clear()

    def pop_one(self) -> Message | MessageFailed | None:
        if not self.entries:
            return None
        entry = self.entries[0]
        self.count -= 1
        if len(entry) == 1:
            self.entries.popleft()
            return entry[0]
        batch, meta, pos = entry
        msg = Message(batch.message, row_message(batch, pos), int(meta.ids[pos]), int(meta.keys[pos]),
                      int(meta.prio[pos]))
        entry[2] = pos + 1
        if pos + 1 == meta.n:
            self.entries.popleft()
        return msg

    def pop_many(self, limit: int | None) -> Replies:
        parts: list[tuple[Batch, Meta]] = []
        failures: list[MessageFailed] = []
        left = self.count if limit is None else limit
        while self.entries and left > 0:
            entry = self.entries[0]
            if len(entry) == 1:
                failures.append(self.entries.popleft()[0])
                self.count -= 1
                continue
            if parts and entry[0].message != parts[0][0].message:
                break  # one message type per Replies
            batch, meta, pos = entry
            k = min(left, meta.n - pos)
            parts.append((slice_batch(batch, pos, pos + k), meta.take(slice(pos, pos + k))))
            entry[2] = pos + k
            if pos + k == meta.n:
                self.entries.popleft()
            left -= k
            self.count -= k
        if not parts:
            empty = np.zeros(0, np.int64)
            return Replies(None, empty, empty, np.zeros(0, np.uint8), failures)
        m = Meta.concat([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
        return Replies(concat_batches([p[0] for p in parts]), m.ids, m.keys, m.prio, failures)
