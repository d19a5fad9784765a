"""The actor runtime: the actors of one :class:`ActorProgram`, the wiring of its
pipelines, message ids, replies and the people waiting for them.

Names given to ``send``/``receive``/``ask`` may be an actor or a pipeline: a pipeline
takes messages at its entry stages and answers from its exit stages. Every message gets
a unique id; a reply carries its request's correlation id, or the request's id when it
had none, and keeps it through every later stage, so ``ask`` on a pipeline finds the
answer at the exit. Routing a batch's results (replies downstream or to the outbox,
handler sends, failures) happens here, once per batch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Mapping

import numpy as np

from ccomp.runtime.actors import checks
from ccomp.runtime.actors.actor import Actor
from ccomp.runtime.actors.columns import Meta, slice_batch, take_rows
from ccomp.runtime.actors.errors import ActorError, MessageFailed, UnknownActor
from ccomp.runtime.actors.messages import Codec, Message, row_message
from ccomp.runtime.actors.queue import meta_for
from ccomp.runtime.actors.spec import ActorProgram, Batch

log = logging.getLogger(__name__)


class RuntimeCore:
    """Actors, routing and waiters; :class:`ActorRuntime` adds the user-facing calls."""

    def __init__(self, program: ActorProgram, max_batch: int = 1 << 16):
        self.program = program
        self.codecs = {name: Codec(spec) for name, spec in program.messages.items()}
        self.actors = {name: Actor(self, spec, max_batch) for name, spec in program.actors.items()}
        self.pipelines = dict(program.pipelines)
        self._next_id = 1
        self._waiters: dict[int, tuple[asyncio.Future, frozenset[str]]] = {}
        self._routes: dict[str, tuple[list[Actor], dict]] = {}  # name -> (entries, types they all take)
        self._wire()

    def _wire(self) -> None:
        for p in self.pipelines.values():
            for a, b in p.edges:
                if self.actors[b] not in self.actors[a].downstream:
                    self.actors[a].downstream.append(self.actors[b])
        for actor in self.actors.values():
            actor.to_outbox = not actor.downstream
            actor.inline = actor.to_outbox and not any(h.sends for h in actor.spec.handlers.values())
        for actor in self.actors.values():  # failures surface where the replies would
            actor.failure_sinks = [a.outbox for a in self._exits_below(actor)]

    def _exits_below(self, actor: Actor) -> list[Actor]:
        seen, todo, out = {actor.name}, [actor], []
        while todo:
            a = todo.pop()
            if a.to_outbox:
                out.append(a)
            for d in a.downstream:
                if d.name not in seen:
                    seen.add(d.name)
                    todo.append(d)
        return out

    # -- names -------------------------------------------------------------------------
    def actor(self, name: str) -> Actor:
        try:
            return self.actors[name]
        except KeyError:
            raise UnknownActor(self._unknown(name)) from None

    def _unknown(self, name: str) -> str:
        known = ", ".join([*self.actors, *self.pipelines]) or "none"
        return f"no actor or pipeline named '{name}' (the program has: {known})"

    def entries(self, name: str) -> list[Actor]:
        if name in self.actors:
            return [self.actors[name]]
        if name in self.pipelines:
            return [self.actors[a] for a in self.pipelines[name].entries]
        raise UnknownActor(self._unknown(name))

    def exits(self, name: str) -> list[Actor]:
        if name in self.actors:
            return [self.actors[name]]
        if name in self.pipelines:
            return [self.actors[a] for a in self.pipelines[name].exits]
        raise UnknownActor(self._unknown(name))

    def members(self, name: str) -> list[Actor]:
        """The actors a lifecycle call on ``name`` acts on, upstream first."""
        if name in self.pipelines:
            return [self.actors[a] for a in self.pipelines[name].stages]
        return [self.actor(name)]

    def new_ids(self, n: int) -> int:
        first = self._next_id
        self._next_id += n
        return first

    # -- results of a batch ------------------------------------------------------------
    async def process(self, actor: Actor, batch: Batch, meta: Meta) -> None:
        """Run ``actor``'s handler on one batch and route what it produced."""
        handler = actor.spec.handlers[batch.message]
        try:
            res = handler.run(actor.state, batch)
        except Exception as exc:  # a handler that raised: its whole batch failed, the actor goes on
            log.warning("actor %s: handler for %s raised %r", actor.name, batch.message, exc)
            self.fail(actor, meta, {i: f"handler raised {type(exc).__name__}: {exc}" for i in range(meta.n)})
            actor.telemetry.batch(meta.n)
            return
        now = time.perf_counter_ns()
        if meta.n == 1 and self._waiters and self._answer_one(actor, res, meta, now):
            return
        ok_meta, late = meta, []
        if res.failed is not None and np.any(res.failed):
            failed = np.asarray(res.failed, bool)
            bad = np.flatnonzero(failed)
            in_order = actor.to_outbox and res.replies is not None  # interleaved with the replies
            lost = self.fail(actor, meta, {int(i): res.errors.get(int(i), "the handler failed") for i in bad},
                             sink=not in_order)
            if in_order:
                position = {int(i): int(p) for i, p in zip(bad, np.cumsum(~failed)[bad])}
                late = [(position[i], f) for i, f in lost]
            ok_meta = meta.take(np.flatnonzero(~failed))
        tel = actor.telemetry
        tel.batch(meta.n)
        tel.processed += ok_meta.n
        tel.latencies(ok_meta.t, now)
        keys = ok_meta.reply_keys()
        if res.replies is not None and ok_meta.n:
            if res.replies.n != ok_meta.n:
                msg = f"internal error: the handler gave {res.replies.n} replies for {ok_meta.n} messages"
                self.fail(actor, ok_meta, {i: msg for i in range(ok_meta.n)})
                return
            rmeta = meta_for(ok_meta.n, self.new_ids(ok_meta.n), keys, ok_meta.prio, now)
            await self.deliver(actor, res.replies, rmeta, late)
        for target, sent in res.sends.items():
            if sent.n:
                same = sent.n == ok_meta.n
                smeta = meta_for(sent.n, self.new_ids(sent.n), keys if same else None,
                                 ok_meta.prio if same else 128, now)
                await self.forward(actor, self.actor(target), sent, smeta)

    def _answer_one(self, actor: Actor, res, meta: Meta, now: int) -> bool:
        """The usual ``ask`` at low load: one message, one reply, awaited at this exit
        stage. Answered with Python ints (no Meta columns of the reply, no NumPy calls);
        the same ids, counters and latency as the general path. False: take that path."""
        replies = res.replies
        if replies is None or res.sends or not actor.to_outbox or replies.n != 1:
            return False
        if res.failed is not None and res.failed[0]:
            return False
        key = int(meta.keys[0])
        if key < 0:
            key = int(meta.ids[0])
        entry = self._waiters.get(key)
        if entry is None or entry[0].done() or actor.name not in entry[1]:
            return False
        del self._waiters[key]
        tel = actor.telemetry
        tel.batch(1)
        tel.processed += 1
        tel.latency_one(int(meta.t[0]), now)
        ident = self._next_id
        self._next_id = ident + 1
        entry[0].set_result(Message(replies.message, row_message(replies, 0), ident, key, int(meta.prio[0])))
        return True

    async def deliver(self, actor: Actor, batch: Batch, meta: Meta,
                      failures: list[tuple[int, MessageFailed]] = ()) -> None:
        """Replies to the waiters, downstream stages or the outbox; ``failures`` (each
        after as many replies as its position says) go to the outbox in the same order."""
        if self._waiters:
            hit = self._resolve(actor, batch, meta)
            if hit is not None and actor.to_outbox and not failures and hit.all():
                return  # every reply was awaited (the usual ask): nothing left to route
            if hit is not None and actor.to_outbox:
                keep = np.flatnonzero(~hit)
                shift = np.concatenate([[0], np.cumsum(hit)])
                failures = [(p - int(shift[p]), f) for p, f in failures]
                batch, meta = take_rows(batch, keep), meta.take(keep)
        for d in actor.downstream:
            await self.forward(actor, d, batch, meta)
        if actor.to_outbox:
            start = 0
            for p, f in failures:
                if p > start:
                    actor.outbox.put(slice_batch(batch, start, p), meta.take(slice(start, p)))
                    start = p
                actor.outbox.fail([f])
            actor.outbox.put(slice_batch(batch, start, batch.n) if start else batch, meta.take(slice(start, None)))

    async def forward(self, sender: Actor, target: Actor, batch: Batch, meta: Meta) -> None:
        """Queue a compiled stage's output at ``target``; what cannot be queued fails."""
        try:
            await target.offer_batch(self.program.messages[batch.message], batch, meta)
        except ActorError as exc:
            n = getattr(exc, "rejected", meta.n)
            rest = meta.take(slice(meta.n - n, meta.n))
            self.fail(sender, rest, {i: f"could not be queued at '{target.name}': {exc}" for i in range(rest.n)},
                      count=False)

    def _resolve(self, actor: Actor, batch: Batch, meta: Meta) -> np.ndarray | None:
        if meta.n == 1:  # the usual ask at low load: no NumPy calls
            key = int(meta.keys[0])
            fut, points = self._waiters.get(key, (None, ()))
            if fut is None or actor.name not in points:
                return None
            del self._waiters[key]
            if fut.done():
                return np.zeros(1, bool)
            fut.set_result(Message(batch.message, row_message(batch, 0), int(meta.ids[0]), key, int(meta.prio[0])))
            return np.ones(1, bool)
        waiting = [k for k, (_, points) in self._waiters.items() if actor.name in points]
        if not waiting:
            return None
        if meta.n * len(waiting) <= 64:  # the usual ask: a few rows, a few waiters
            wanted = set(waiting)
            hit = np.fromiter((k in wanted for k in meta.keys.tolist()), bool, meta.n)
        else:
            hit = np.isin(meta.keys, waiting)
        for i in np.flatnonzero(hit):
            key = int(meta.keys[i])
            fut, _ = self._waiters.pop(key, (None, None))
            if fut is None or fut.done():  # answered already (fan-in: a second reply): keep it
                hit[i] = False
                continue
            fut.set_result(Message(batch.message, row_message(batch, int(i)), int(meta.ids[i]), key,
                                   int(meta.prio[i])))
        return hit

    def fail(self, actor: Actor, meta: Meta, errors: Mapping[int, str], count: bool = True,
             sink: bool = True) -> list[tuple[int, MessageFailed]]:
        """Messages of ``meta`` (row -> error) failed: to their waiters, else (with
        ``sink``) the outboxes; the (row, failure) pairs no waiter took."""
        keys = meta.reply_keys()
        if count:
            actor.telemetry.failed += len(errors)
        out = []
        for i, err in errors.items():
            f = MessageFailed(actor.name, int(meta.ids[i]), int(keys[i]), err)
            fut, _ = self._waiters.pop(f.correlation_id, (None, None))
            if fut is not None and not fut.done():
                fut.set_exception(f)
            else:
                out.append((i, f))
        if sink:
            for box in actor.failure_sinks:
                box.fail([f for _, f in out])
        return out

    @property
    def waiting(self) -> bool:
        return bool(self._waiters)

    def fail_waiters(self, actor: Actor, metas: list[Meta], error: str) -> None:
        """Tell anyone awaiting one of these (dropped) messages; they are counted already."""
        for m in metas:
            for ident, key in zip(m.ids, m.reply_keys()):
                fut, _ = self._waiters.pop(int(key), (None, None))
                if fut is not None and not fut.done():
                    fut.set_exception(MessageFailed(actor.name, int(ident), int(key), error))

    def wait_for(self, key: int, points: frozenset[str]) -> asyncio.Future:
        if key in self._waiters:
            raise checks.BadMessage(f"correlation id {key} is already awaited by another ask; "
                                    "give each ask its own")
        fut = asyncio.get_running_loop().create_future()
        self._waiters[key] = (fut, points)
        return fut

    def forget(self, key: int) -> None:
        self._waiters.pop(key, None)

    def check_message(self, targets: list[Actor], msg: Any) -> Message:
        return checks.checked_message(self.codecs, targets, msg)
