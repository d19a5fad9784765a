"""The calls users make on a running actor program (``ccomp.actors.load`` returns one).

    async with ccomp.actors.load("stats.cn") as rt:
        await rt.launch("summarise")                 # launched and activated
        reply = await rt.ask("summarise", rt.message("Samples", data=[1.0, 2.0]))

Names may be an actor or a pipeline (its entries take messages, its exits answer).
Leaving ``async with`` terminates every running actor, upstream first, draining their
queues. :meth:`ActorRuntime.sync` gives the same calls without ``await``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np

from ccomp.runtime.actors import checks
from ccomp.runtime.actors.errors import ActorError, BadMessage
from ccomp.runtime.actors.lifecycle import ACCEPTING, ActorState
from ccomp.runtime.actors.messages import Message
from ccomp.runtime.actors.outbox import Replies
from ccomp.runtime.actors.queue import meta_for
from ccomp.runtime.actors.runtime import RuntimeCore
from ccomp.runtime.actors.terminate import TerminationReport, terminate_actor


class _Expired(Exception):
    """An ask's timer went off (turned into a TimeoutError that names the actor)."""


def _expire(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_exception(_Expired())


class ActorRuntime(RuntimeCore):
    """See the module docstring; every method that waits is a coroutine."""

    async def __aenter__(self) -> "ActorRuntime":
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        await self.close(drain=exc is None)

    async def close(self, drain: bool = True) -> list[TerminationReport]:
        """Terminate every launched actor that is still running, upstream first."""
        reports = []
        for actor in self._upstream_first():
            if actor.lifecycle not in (ActorState.CREATED, ActorState.TERMINATING, ActorState.TERMINATED):
                reports.append(await terminate_actor(self, actor, drain))
        return reports

    def _upstream_first(self) -> list:
        order, seen = [], set()

        def visit(a) -> None:
            if a.name in seen:
                return
            seen.add(a.name)
            for up in self.actors.values():
                if a in up.downstream:
                    visit(up)
            order.append(a)
        for a in self.actors.values():
            visit(a)
        return order

    # -- lifecycle ---------------------------------------------------------------------
    async def launch(self, name: str, active: bool = True) -> None:
        """Start ``name`` (an actor, or every stage of a pipeline): its queue takes
        messages from now on; with ``active`` (the default) it also starts processing."""
        for actor in self.members(name):
            actor.transition("launch")
            actor.start()
            if active:
                actor.transition("activate")

    async def activate(self, name: str) -> None:
        for actor in self.members(name):
            actor.transition("activate")

    async def deactivate(self, name: str) -> None:
        """Stop processing; the queue keeps taking messages (up to its capacity)."""
        for actor in self.members(name):
            actor.transition("deactivate")

    async def terminate(self, name: str, drain: bool = True) -> list[TerminationReport]:
        """Stop ``name`` for good: with ``drain`` its queued messages are processed first,
        else each is failed (its ``ask`` raises, ``receive`` reports it) and listed."""
        return [await terminate_actor(self, a, drain) for a in self.members(name)]

    def state(self, name: str) -> ActorState:
        return self.actor(name).lifecycle

    def configure(self, name: str, *, max_batch: int | None = None) -> None:
        """Cap how many messages one handler call may take (the batch size adapts below it)."""
        for actor in self.members(name):
            if max_batch is not None:
                if max_batch < 1:
                    raise ValueError("max_batch must be at least 1")
                actor.max_batch, actor.limit = max_batch, min(actor.limit, max_batch)

    # -- messages ----------------------------------------------------------------------
    def message(self, type: str, **fields: Any) -> Message:
        """A checked message of ``type`` (a :class:`BadMessage` if a field is wrong)."""
        codec = self.codecs.get(type)
        if codec is None:
            raise BadMessage(f"no message type '{type}' (the program declares: {', '.join(self.codecs) or 'none'})")
        return codec.message(fields)

    async def send(self, name: str, msg: Message | dict, priority: int = 128,
                   correlation_id: int | None = None) -> int:
        """Queue one message (under the queue's backpressure); its id."""
        # The fast path (a checked message, one entry with room, no correlation id) is
        # what one-at-a-time throughput is made of; anything else takes _send_one.
        route = self._routes.get(name)
        if (route is not None and len(route[0]) == 1 and correlation_id is None and type(msg) is Message
                and msg._spec is not None and route[1].get(msg.type) is msg._spec
                and type(priority) is int and 0 <= priority <= 255):
            actor = route[0][0]
            q = actor.queue
            if q.depth < q.capacity and actor.lifecycle in ACCEPTING:
                ident = self._next_id
                self._next_id = ident + 1
                q.put_one(msg._spec, msg.fields, ident, -1, priority, time.perf_counter_ns())
                actor._kick()
                return ident
        return (await self._send_one(name, msg, priority, correlation_id, None))[0]

    async def _send_one(self, name: str, msg: Any, priority: int, correlation_id: int | None,
                        waiter_points: frozenset[str] | None) -> tuple[int, asyncio.Future | None]:
        if name not in self._routes:
            targets = self.entries(name)
            self._routes[name] = (targets, {t: self.program.messages[t] for t in checks.handled_types(targets)})
        targets, types = self._routes[name]
        if type(msg) is Message and msg._spec is not None and types.get(msg.type) is msg._spec:
            m = msg  # checked already, for a type these actors take
        else:
            m = self.check_message(targets, msg)
        prio = priority if type(priority) is int and 0 <= priority <= 255 else checks.priority(priority)
        key = checks.correlation(correlation_id)
        ident = self._next_id
        self._next_id += 1
        fut = self.wait_for(key if key >= 0 else ident, waiter_points) if waiter_points else None
        t = time.perf_counter_ns()
        spec = self.program.messages[m.type]
        try:
            if fut is None or len(targets) != 1 or not await targets[0].ask_inline(spec, m.fields, ident, key, prio, t):
                for actor in targets:
                    await actor.offer_one(spec, m.fields, ident, key, prio, t)
        except BaseException:
            if fut is not None:
                self.forget(key if key >= 0 else ident)
            raise
        return ident, fut

    async def ask(self, name: str, msg: Message | dict, priority: int = 128,
                  correlation_id: int | None = None, timeout: float | None = 30.0) -> Message:
        """Send and await the reply (from ``name``'s exit, for a pipeline). A failure
        of the message raises :class:`MessageFailed`; no reply in time, ``TimeoutError``."""
        points = frozenset(a.name for a in self.exits(name))
        ident, fut = await self._send_one(name, msg, priority, correlation_id, points)
        if fut.done():  # answered on this task (Actor.ask_inline): no timer; one turn
            await asyncio.sleep(0)  # of the loop still, so a loop of asks lets others run
            return fut.result()
        if timeout is None:
            return await fut
        # A timer that fails the future, rather than asyncio.wait_for, whose extra
        # waiter costs the reply one more turn of the loop.
        timer = asyncio.get_running_loop().call_later(timeout, _expire, fut)
        try:
            return await fut
        except _Expired:
            self.forget(correlation_id if correlation_id is not None else ident)
            raise TimeoutError(f"no reply from '{name}' to message {ident} within {timeout} s "
                               f"(its state: {self._states(name)})") from None
        finally:
            timer.cancel()

    async def send_many(self, name: str, message_type: str | None = None, *, priority: int = 128,
                        correlation_ids: np.ndarray | None = None, fields: dict | None = None,
                        **field_arrays: Any) -> np.ndarray:
        """Queue a batch straight from arrays (one per field; ``fields=`` for names that
        clash with this call's keywords); the ids given to its messages, in order.
        ``reject`` queues what fits and raises :class:`SendRejected` for the rest."""
        targets = self.entries(name)
        kind = checks.message_type(targets, message_type, "send_many")
        batch = self.codecs[kind].columns({**(fields or {}), **field_arrays})
        keys = checks.correlations(correlation_ids, batch.n)
        meta = meta_for(batch.n, self.new_ids(batch.n), keys, checks.priority(priority), time.perf_counter_ns())
        for actor in targets:
            await actor.offer_batch(self.program.messages[kind], batch, meta)
        return meta.ids

    async def receive(self, name: str, timeout: float | None = 1.0) -> Message:
        """The next reply from ``name`` (its exits, for a pipeline); raises the
        :class:`MessageFailed` of a failed message in its place, ``TimeoutError`` if none."""
        boxes = [a.outbox for a in self.exits(name)]
        got = await self._await_boxes(name, boxes, timeout, lambda b: b.pop_one())
        if isinstance(got, ActorError):
            raise got
        return got

    async def receive_many(self, name: str, max_messages: int | None = None,
                           timeout: float | None = 1.0) -> Replies:
        """Every reply waiting (at most ``max_messages``), as columns; waits up to
        ``timeout`` for the first one. Failed messages come in ``failures``."""
        boxes = [a.outbox for a in self.exits(name)]
        return await self._await_boxes(name, boxes, timeout,
                                       lambda b: b.pop_many(max_messages) if b.entries else None)

    async def _await_boxes(self, name: str, boxes: list, timeout: float | None, pop) -> Any:
        deadline = None if timeout is None else time.monotonic() + timeout
        loop = asyncio.get_running_loop()
        while True:
            for box in boxes:
                got = pop(box)
                if got is not None:
                    return got
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError(f"no reply from '{name}' within {timeout} s (its state: {self._states(name)})")
            fut = loop.create_future()
            for box in boxes:
                box.waiters.append(fut)
            try:
                await asyncio.wait_for(fut, left)
            except asyncio.TimeoutError:
                pass

    def _states(self, name: str) -> str:
        return ", ".join(f"{a.name} {a.lifecycle.name}" for a in self.members(name))

    def telemetry(self, name: str) -> dict:
        """Counters, queue depth, batch sizes and latencies of an actor (of every stage,
        keyed by actor, for a pipeline)."""
        if name in self.pipelines:
            return {a.name: a.snapshot() for a in self.members(name)}
        return self.actor(name).snapshot()

    def encode(self, msg: Message) -> bytes:
        """``msg`` in the wire format (msgpack; docs/actors.md), for another process."""
        from ccomp.runtime.actors import wire

        return wire.encode_message(self.program.messages[msg.type], msg)

    def decode(self, data: bytes) -> Message:
        """A checked message from wire bytes (a :class:`WireError` if they are not one
        of this program's messages); it can be sent as is."""
        from ccomp.runtime.actors import wire

        return wire.decode_message(data, self.program.messages)

    def sync(self) -> "Any":
        """The same runtime with blocking calls, for scripts and notebooks (see sync.py)."""
        from ccomp.runtime.actors.sync import SyncRuntime

        return SyncRuntime(self)
