"""One running actor: its queue, its lifecycle, its state and the task that feeds its
compiled handlers in batches.

The runner takes up to ``limit`` queued messages of one type from the highest band and
calls the handler once for all of them. ``limit`` adapts to load: it doubles while full
batches come back fast and halves when one takes longer than ``slow_s``, so a quiet
actor answers each message at once and a flooded one amortises the call over many.
Routing what a batch produced (replies, sends, failures) belongs to the runtime.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

import numpy as np

from ccomp.runtime.actors.columns import Meta, Segment, one_row, slice_batch
from ccomp.runtime.actors.errors import ActorError, ActorStateError, SendRejected
from ccomp.runtime.actors.lifecycle import ACCEPTING, ActorState, next_state
from ccomp.runtime.actors.outbox import Outbox
from ccomp.runtime.actors.queue import BandQueue, band_of
from ccomp.runtime.actors.spec import ActorSpec, Batch, MessageSpec
from ccomp.runtime.actors.telemetry import Telemetry

if TYPE_CHECKING:
    from ccomp.runtime.actors.runtime import ActorRuntime

log = logging.getLogger(__name__)
S = ActorState


class Actor:
    def __init__(self, rt: "ActorRuntime", spec: ActorSpec, max_batch: int = 1 << 16):
        self.rt, self.spec, self.name = rt, spec, spec.name
        self.queue = BandQueue(spec.capacity)
        self.state = {s.name: np.full(s.shape, s.init, dtype=s.dtype) for s in spec.state}
        self.lifecycle = S.CREATED
        self.telemetry = Telemetry()
        self.outbox = Outbox()
        self.downstream: list[Actor] = []
        self.to_outbox = True
        self.failure_sinks: list[Outbox] = [self.outbox]
        self.max_batch = max_batch
        self.limit = min(1024, max_batch)
        self.slow_s = 0.005
        self.drain = True
        self.drained = 0
        self.inline = False  # set by the runtime's wiring: see ask_inline
        self._busy = False  # the runner is inside a batch
        self._task: asyncio.Task | None = None
        self._wakeup: asyncio.Future | None = None
        self._space: list[asyncio.Future] = []

    # -- lifecycle ---------------------------------------------------------------------
    def transition(self, call: str) -> None:
        self.lifecycle = next_state(self.name, self.lifecycle, call)
        self._kick()
        self._wake_senders()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"actor {self.name}")

    async def finished(self) -> None:
        if self._task is not None:
            await asyncio.shield(self._task)

    # -- queueing ----------------------------------------------------------------------
    def _check_accepting(self) -> None:
        if self.lifecycle not in ACCEPTING:
            hint = (f"launch it first (await rt.launch('{self.name}'))" if self.lifecycle is S.CREATED
                    else "it no longer takes messages")
            raise ActorStateError(f"actor '{self.name}' is {self.lifecycle.name}: {hint}")

    async def offer_one(self, spec: MessageSpec, fields: dict, ident: int, key: int, prio: int, t: int) -> None:
        """Queue one checked message under the actor's backpressure policy."""
        q = self.queue
        while True:
            self._check_accepting()
            if q.depth < q.capacity:
                q.put_one(spec, fields, ident, key, prio, t)
                self._kick()
                return
            policy = self.spec.policy
            if policy == "block":
                await self._wait_space()
            elif policy == "reject":
                self.telemetry.rejected += 1
                raise SendRejected(self.name, q.capacity)
            else:
                dropped, metas = q.drop_oldest(1, band_of(prio))
                self._dropped(dropped, metas)
                if not dropped:  # every queued message outranks it: the newcomer goes
                    self._dropped(1, [Meta(np.array([ident]), np.array([key]), np.array([prio], np.uint8),
                                           np.array([t]))])
                    return

    async def ask_inline(self, spec: MessageSpec, fields: dict, ident: int, key: int, prio: int, t: int) -> bool:
        """Handle one asked message on the asking task when this actor is parked on an
        empty queue: the runner's wake-up would cost the reply a turn of the event loop
        (~5-10 us, a third of the latency at low load). Only for an actor the wiring
        marked ``inline`` (an exit stage whose handlers send nothing), whose ``process``
        never suspends, while the runner is not inside a batch (parked, or about to look
        at the empty queue again): so the runner cannot run meanwhile and order holds.
        The message becomes the one-row batch the queue would give (same columns and
        casts, ids, queue_depth_max, telemetry) without a segment's put and take. False:
        the caller queues it as usual."""
        q = self.queue
        if not self.inline or self._busy or q.depth or not q.capacity or self.lifecycle is not S.ACTIVE:
            return False
        got = one_row(spec, fields, ident, key, prio, t)
        if got is None:
            q.put_one(spec, fields, ident, key, prio, t)
            got = q.take(1)
        elif not q.max_depth:
            q.max_depth = 1  # it was queued, for an instant
        batch, meta = got
        try:
            await self.rt.process(self, batch, meta)
        except (ActorError, ValueError, TypeError, KeyError, IndexError) as exc:  # as in _run
            log.exception("actor %s: internal error on a batch", self.name)
            self.rt.fail(self, meta, {0: f"internal error: {exc!r}"})
        return True

    async def offer_batch(self, spec: MessageSpec, batch: Batch, meta: Meta) -> None:
        """Queue a batch (one band) under the policy; ``reject`` queues what fits and
        raises :class:`SendRejected` for the rest."""
        q, n, pos = self.queue, batch.n, 0
        band = band_of(int(meta.prio[0])) if n else 0
        while pos < n:
            self._check_accepting()
            if q.free <= 0 or (self.spec.policy == "drop_oldest" and n - pos > q.free):
                if self.spec.policy == "block":
                    await self._wait_space()
                    continue
                if self.spec.policy == "reject":
                    self.telemetry.rejected += n - pos
                    raise SendRejected(self.name, q.capacity, accepted=pos, rejected=n - pos)
                pos = self._make_room(batch, meta, pos, band)
                continue
            k = min(q.free, n - pos)
            part = meta.take(slice(pos, pos + k))
            part.t = np.full(k, time.perf_counter_ns(), np.int64)  # latency counts from here
            q.put_segment(band, Segment(spec, slice_batch(batch, pos, pos + k), part))
            pos += k
            self._kick()

    def _make_room(self, batch: Batch, meta: Meta, pos: int, band: int) -> int:
        """drop_oldest for a batch: the batch's own oldest go first when it alone
        overflows the queue; then queued messages make room. The new start of the batch."""
        q, n = self.queue, batch.n
        if n - pos > q.capacity:
            cut = n - q.capacity
            self._dropped(cut - pos, [meta.take(slice(pos, cut))])
            pos = cut
        need = (n - pos) - q.free
        if need > 0:
            dropped, metas = q.drop_oldest(need, band)
            self._dropped(dropped, metas)
            if dropped < need:  # the rest of the queue outranks the batch
                self._dropped(need - dropped, [meta.take(slice(pos, pos + need - dropped))])
                pos += need - dropped
        return pos

    def _dropped(self, count: int, metas: list[Meta]) -> None:
        self.telemetry.dropped += count
        if count and self.rt.waiting:
            self.rt.fail_waiters(self, metas, "dropped: the queue was full (backpressure drop_oldest)")

    async def _wait_space(self) -> None:
        fut = asyncio.get_running_loop().create_future()
        self._space.append(fut)
        await fut

    def _wake_senders(self) -> None:
        for fut in self._space:
            if not fut.done():
                fut.set_result(None)
        self._space.clear()

    def _kick(self) -> None:
        w = self._wakeup
        if w is not None and not w.done():
            w.set_result(None)

    # -- the runner --------------------------------------------------------------------
    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        q = self.queue
        while True:
            st = self.lifecycle
            busy = q.depth and (st is S.ACTIVE or (st is S.TERMINATING and self.drain))
            if busy:
                batch, meta = q.take(self.limit)
                if self._space:
                    self._wake_senders()
                start = time.perf_counter()
                self._busy = True
                try:
                    await self.rt.process(self, batch, meta)
                except (ActorError, ValueError, TypeError, KeyError, IndexError) as exc:  # a runtime bug: the
                    log.exception("actor %s: internal error on a batch", self.name)  # batch fails, the actor lives
                    self.rt.fail(self, meta, {i: f"internal error: {exc!r}" for i in range(meta.n)})
                finally:
                    self._busy = False
                if st is S.TERMINATING:
                    self.drained += meta.n
                self._adapt(meta.n, time.perf_counter() - start)
                await asyncio.sleep(0)
            elif st is S.TERMINATING:
                self.lifecycle = next_state(self.name, st, "finish")
                self._wake_senders()
                return
            else:
                self._wakeup = loop.create_future()
                await self._wakeup
                self._wakeup = None

    def _adapt(self, n: int, seconds: float) -> None:
        if seconds > self.slow_s and self.limit > 16:
            self.limit //= 2
        elif n == self.limit and seconds < self.slow_s / 2 and self.limit < self.max_batch:
            self.limit = min(self.limit * 2, self.max_batch)

    def snapshot(self) -> dict:
        return self.telemetry.snapshot(self.queue.depth, self.queue.max_depth, {
            "state": self.lifecycle.name, "policy": self.spec.policy, "capacity": self.queue.capacity,
            "batch_limit": self.limit, "queue_depth_by_band": self.queue.depth_by_band(),
            "outbox": self.outbox.count})
