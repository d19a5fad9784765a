"""Taking replies from a Ray pipeline: what :class:`RayActorRuntime` adds to its
stages' ``pull`` — waiting up to a timeout, failures from every stage, ``receive`` of one
message and ``ask`` by correlation key. Replies taken but not yet handed out wait in
``_stash``, so ``ask`` never loses replies to other messages.
"""

from __future__ import annotations

import asyncio
import time

import msgpack
import numpy as np

from ccomp.runtime.actors.errors import MessageFailed
from ccomp.runtime.actors.messages import Message, row_message
from ccomp.runtime.actors.outbox import Replies
from ccomp.runtime.actors.wire import decode_batch
from ccomp.runtime.scaleout.stage import _dead


class Receiving:
    """The receiving calls of :class:`~ccomp.runtime.scaleout.ray_actors.RayActorRuntime`."""

    async def _pull(self, name: str, max_messages: int | None, timeout: float) -> Replies:
        try:
            data = await self.handles[name].pull.remote(max_messages, timeout)
        except Exception as exc:  # the stage is down (Ray restarts it): nothing to take now
            if not _dead(exc):
                raise
            await asyncio.sleep(min(timeout, 0.2))
            e = np.zeros(0, np.int64)
            return Replies(None, e, e, np.zeros(0, np.uint8))
        raw = msgpack.unpackb(data, raw=False)
        fails = [MessageFailed(*f) for f in raw["f"]]
        if raw["r"] is None:
            e = np.zeros(0, np.int64)
            got = Replies(None, e, e, np.zeros(0, np.uint8), fails)
        else:
            batch, meta = decode_batch(raw["r"], self.program.messages)
            got = Replies(batch, meta.ids, meta.keys, meta.prio, fails)
        self.log.answer(got.correlation_ids)
        self.log.answer(np.array([f.correlation_id for f in fails], np.int64))
        return got

    async def _pull_into_stash(self, timeout: float) -> None:
        names = list(self.handles)
        got = await asyncio.gather(*(self._pull(n, None, timeout) for n in names))
        self._stash += [g for g in got if len(g) or g.failures]

    async def receive_many(self, name: str, max_messages: int | None = None,
                           timeout: float | None = 1.0) -> Replies:
        """Replies waiting at ``name``'s exits (and failures from any of its stages)."""
        exits, others = self.exits(name), [n for n in self.members(name) if n not in self.exits(name)]
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._stash = [g for g in self._stash if len(g) or g.failures]  # ask may leave empties
            if self._stash:
                return self._stash.pop(0)
            if self._closed:
                raise TimeoutError(f"no reply from '{name}': the runtime is closed and nothing is left")
            await self._check_restarts()
            left = 0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic()))
            got = await asyncio.gather(*(self._pull(n, max_messages, left) for n in exits),
                                       *(self._pull(n, None, 0) for n in others if n in self.handles))
            self._stash += [g for g in got if len(g) or g.failures]
            if not self._stash and deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"no reply from '{name}' within {timeout} s")

    async def receive(self, name: str, timeout: float | None = 1.0) -> Message:
        got = await self.receive_many(name, 1, timeout)
        if got.failures:
            if len(got):
                self._stash.insert(0, Replies(got.batch, got.ids, got.correlation_ids, got.priorities))
            for f in got.failures[1:]:
                self._stash.insert(0, Replies(None, got.ids[:0], got.ids[:0], got.priorities[:0], [f]))
            raise got.failures[0]
        return Message(got.batch.message, row_message(got.batch, 0), int(got.ids[0]), int(got.correlation_ids[0]),
                       int(got.priorities[0]))

    async def ask(self, name: str, msg: Message | dict, priority: int = 128,
                  correlation_id: int | None = None, timeout: float | None = 30.0) -> Message:
        """Send and wait for the reply with this message's correlation key (replies to
        others meanwhile stay for ``receive``)."""
        ident = await self.send(name, msg, priority, correlation_id)
        key = ident if correlation_id is None else correlation_id
        deadline = None if timeout is None else time.monotonic() + timeout
        kept: list[Replies] = []
        try:
            while True:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(f"no reply from '{name}' to message {ident} within {timeout} s")
                got = await self.receive_many(name, None, left)
                mine = [f for f in got.failures if f.correlation_id == key]
                hit = np.flatnonzero(got.correlation_ids == key)
                if mine:  # the others stay to be received
                    kept.append(_without(got, None, mine[0]))
                    raise mine[0]
                if hit.size:
                    i = int(hit[0])
                    kept.append(_without(got, i, None))
                    return Message(got.batch.message, row_message(got.batch, i), int(got.ids[i]), key,
                                   int(got.priorities[i]))
                kept.append(got)
        finally:
            self._stash[:0] = kept


def _without(got: Replies, row: int | None, failure: MessageFailed | None) -> Replies:
    """``got`` less the reply in ``row`` or the one ``failure`` (what ``ask`` took)."""
    from ccomp.runtime.actors.columns import take_rows

    fails = [f for f in got.failures if f is not failure]
    if row is None or got.batch is None:
        return Replies(got.batch, got.ids, got.correlation_ids, got.priorities, fails)
    keep = np.flatnonzero(np.arange(len(got)) != row)
    return Replies(take_rows(got.batch, keep) if keep.size else None, got.ids[keep], got.correlation_ids[keep],
                   got.priorities[keep], fails)

