"""One actor of a program in a Ray actor process of its own (a *stage*).

Inside the process the actor runs on the local asyncio runtime, unchanged: its bounded
queue, policy, priority bands, batching and telemetry are the local ones. What crosses
processes is msgpack (``runtime/actors/wire.py``): :meth:`StageWorker.push` takes an
encoded batch into the queue under the actor's backpressure, and a stage's replies go
to the next stage through :class:`RemoteStage`, which stands in the local runtime for
the downstream actor. ``RemoteStage.offer_batch`` awaits the remote ``push``, which
returns only once the batch is queued there, so a full queue downstream holds the
sender's handler loop, which leaves the sender's own queue to fill and its senders to
wait: ``block`` backpressure holds end to end and nothing is dropped on the way.

The program is compiled once per process (``compile_fn``, handed in by the face, since
the runtime may not import the compiler). When Ray restarts a dead stage process it
runs ``__init__`` again with the same arguments, so the stage rewires itself, and with
``checkpoint every N`` reloads its state from the :class:`CheckpointStore`.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
from typing import Any, Callable

import msgpack
import numpy as np

from ccomp.runtime.actors.columns import Meta
from ccomp.runtime.actors.errors import ActorError, SendRejected
from ccomp.runtime.actors.spec import ActorProgram, MessageSpec
from ccomp.runtime.actors.wire import decode_batch, encode_batch

log = logging.getLogger(__name__)

RETRY_S = 60.0  # how long a push keeps trying a downstream stage that Ray is restarting


class StageLost(ActorError):
    """A downstream stage's process died while a batch was being handed to it."""


def _dead(exc: BaseException) -> bool:
    """Whether a Ray error means the target actor's process died or is restarting."""
    import ray.exceptions as rx

    return isinstance(exc, (rx.RayActorError, rx.ActorUnavailableError))


class RemoteStage:
    """The local runtime's view of a downstream stage in another process."""

    def __init__(self, name: str, handle: Any, at_least_once: bool):
        self.name, self.handle, self.at_least_once = name, handle, at_least_once
        self.downstream: list = []
        self.to_outbox = False
        self.outbox = None

    async def offer_batch(self, spec: MessageSpec, batch: Any, meta: Meta) -> None:
        rejected = await self.push_bytes(encode_batch(spec, batch, meta))
        if rejected:
            raise SendRejected(self.name, -1, accepted=meta.n - rejected, rejected=rejected)

    async def push_bytes(self, data: bytes) -> int:
        """Hand an encoded batch over; how many of its messages the queue rejected."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RETRY_S
        while True:
            try:
                rejected = await self.handle.push.remote(data)
                break
            except Exception as exc:
                if not _dead(exc):
                    raise ActorError(f"stage '{self.name}' refused a batch: {exc}") from None
                # at least once: wait for Ray to bring the stage back, then hand the batch
                # over again; at most once: the batch may or may not have been queued there
                if not self.at_least_once or loop.time() > deadline:
                    raise StageLost(f"stage '{self.name}' died while taking this batch: "
                                    f"{type(exc).__name__}") from None
                await asyncio.sleep(0.2)
        return rejected


class StageWorker:
    """The body of a stage's Ray actor (see the module docstring)."""

    def __init__(self, compile_fn: Callable[..., ActorProgram], text: str, filename: str, target: str,
                 name: str, index: int, downstream: list[tuple[str, Any]], delivery: dict[str, str],
                 checkpoint_every: int = 0, store: Any = None):
        import ray

        from ccomp.runtime.actors.interface import ActorRuntime

        program = compile_fn(text, target, filename=filename)
        self.messages = program.messages
        self.name, self.store, self.every = name, store, checkpoint_every
        self.restarted = ray.get_runtime_context().was_current_actor_reconstructed
        own = ActorProgram(program.target, program.messages, {name: program.actors[name]}, {}, program.filename)
        self.rt = ActorRuntime(own)
        self.rt._next_id = (index + 1) << 40  # reply ids stay unique across the stages
        self.actor = self.rt.actors[name]
        self.actor.downstream = [RemoteStage(n, h, delivery.get(n) == "at_least_once") for n, h in downstream]
        self.actor.to_outbox = not downstream
        self.actor.failure_sinks = [self.actor.outbox]  # collected from every stage by the driver
        self.restored = 0
        self.saved_at = 0
        if store is not None and checkpoint_every > 0:
            saved = ray.get(store.get.remote(name))
            if saved is not None:
                self._restore(saved)
        self.started = False

    def _restore(self, data: bytes) -> None:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            for k in self.actor.state:
                if k in z.files:
                    self.actor.state[k][...] = z[k]
            self.restored = int(z["__processed__"]) if "__processed__" in z.files else 0
        self.saved_at = self.restored
        log.info("stage %s: state restored from its checkpoint (%d messages)", self.name, self.restored)

    async def _start(self) -> None:
        if not self.started:
            self.started = True
            await self.rt.launch(self.name)
            if self.every:
                asyncio.get_running_loop().create_task(self._checkpoints())

    async def _checkpoints(self) -> None:
        """Save the state whenever ``every`` more messages were processed."""
        tel = self.actor.telemetry
        while True:
            await asyncio.sleep(0.01)
            done = self.restored + tel.processed + tel.failed
            if done - self.saved_at >= self.every:
                buf = io.BytesIO()
                np.savez(buf, __processed__=np.int64(done), **self.actor.state)
                await self.store.put.remote(self.name, buf.getvalue())
                self.saved_at = done

    # -- what other processes call -------------------------------------------------------
    async def info(self) -> dict:
        await self._start()
        return {"pid": os.getpid(), "restarted": self.restarted}

    async def push(self, data: bytes) -> int:
        """Queue an encoded batch under the actor's backpressure; how many were rejected."""
        await self._start()
        batch, meta = decode_batch(data, self.messages)
        try:
            await self.actor.offer_batch(self.messages[batch.message], batch, meta)
        except SendRejected as exc:
            return exc.rejected
        return 0

    async def pull(self, max_messages: int | None, timeout: float) -> bytes:
        """Replies (exit stages) and failures waiting here, encoded: {"r": batch or nil,
        "ids"/"c"/"p" inside the batch, "f": [[actor, id, correlation, error], ...]}."""
        await self._start()
        box = self.actor.outbox
        if not box.entries and timeout > 0:
            try:
                await asyncio.wait_for(self._wait(box), timeout)
            except asyncio.TimeoutError:
                pass
        got = box.pop_many(max_messages)
        replies = None
        if got.batch is not None:
            meta = Meta(got.ids, got.correlation_ids, got.priorities, np.zeros(len(got), np.int64))
            replies = encode_batch(self.messages[got.batch.message], got.batch, meta)
        fails = [[f.actor, f.message_id, f.correlation_id, f.error] for f in got.failures]
        return msgpack.packb({"r": replies, "f": fails})

    async def _wait(self, box: Any) -> None:
        while not box.entries:
            fut = asyncio.get_running_loop().create_future()
            box.waiters.append(fut)
            await fut

    async def lifecycle(self, call: str) -> str:
        """``activate`` / ``deactivate`` the actor (its queue keeps taking messages)."""
        await self._start()
        await getattr(self.rt, call)(self.name)
        return self.actor.lifecycle.name

    async def idle(self) -> bool:
        """Nothing queued and the handler loop waiting: what the driver's drain polls."""
        a = self.actor
        return a.queue.depth == 0 and a._wakeup is not None and not a._wakeup.done()

    async def telemetry(self) -> dict:
        snap = self.actor.snapshot()
        snap.update(pid=os.getpid(), restarted=self.restarted, restored_from=self.restored)
        return snap

    async def state(self) -> dict:
        return {k: v.tolist() for k, v in self.actor.state.items()}


class CheckpointStore:
    """Where stages keep their last checkpoint (an actor of its own, so a dead stage's
    state outlives its process)."""

    def __init__(self) -> None:
        self.saved: dict[str, bytes] = {}

    def put(self, name: str, data: bytes) -> None:
        self.saved[name] = data

    def get(self, name: str) -> bytes | None:
        return self.saved.get(name)
