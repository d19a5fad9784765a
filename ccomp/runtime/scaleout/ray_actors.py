"""An actor program on Ray: each actor in a Ray actor process of its own, driven from
here with the calls of the local runtime (``launch``, ``send``, ``send_many``, ``ask``,
``receive``, ``receive_many``, ``telemetry``, ``close``; ``sync()`` for blocking calls).

Stages are created downstream first, each given the handles of the stages its replies
feed (:mod:`ccomp.runtime.scaleout.stage`). Batches go in msgpack; replies and failures
are pulled from the stages. Every stage is restarted by Ray when its process dies
(``max_restarts``); the driver notices a restart by the stage's pid and, per the dead
stage's declared delivery, sends unanswered messages again or reports them lost
(:mod:`ccomp.runtime.scaleout.delivery`, docs/scaleout.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable

import numpy as np

from ccomp.runtime.actors import checks
from ccomp.runtime.actors.errors import ActorStateError, BadMessage, MessageFailed, SendRejected, UnknownActor
from ccomp.runtime.actors.messages import Codec, Message
from ccomp.runtime.actors.outbox import Replies
from ccomp.runtime.actors.queue import meta_for
from ccomp.runtime.actors.spec import ActorProgram
from ccomp.runtime.actors.wire import encode_batch
from ccomp.runtime.scaleout.delivery import DeliveryLog
from ccomp.runtime.scaleout.ray_env import require_ray
from ccomp.runtime.scaleout.ray_receive import Receiving
from ccomp.runtime.scaleout.stage import RemoteStage, _dead

log = logging.getLogger(__name__)
MAX_RESTARTS = 3


def delivery_of(spec: Any) -> str:
    return getattr(spec, "delivery", "at_most_once")


class RayActorRuntime(Receiving):
    """See the module docstring. ``compile_fn(text, target, filename=)`` builds the
    :class:`ActorProgram` in each stage process."""

    def __init__(self, program: ActorProgram, compile_fn: Callable[..., ActorProgram], text: str):
        self.ray = require_ray()
        self.program, self.compile_fn, self.text = program, compile_fn, text
        self.actors, self.pipelines = dict(program.actors), dict(program.pipelines)
        self.codecs = {name: Codec(spec) for name, spec in program.messages.items()}
        self.handles: dict[str, Any] = {}
        self.pids: dict[str, int] = {}
        self.restarts: dict[str, int] = {name: 0 for name in self.actors}
        self.delivery = {name: delivery_of(spec) for name, spec in self.actors.items()}
        self.log = DeliveryLog(keep="at_least_once" in self.delivery.values())
        self._store = None
        self._next_id = 1
        self._stash: list[Replies] = []
        self._closed = False
        self._last_check = 0.0
        self._resend_due = False
        self._shared: tuple | None = None

    # -- names -----------------------------------------------------------------------------
    def _unknown(self, name: str) -> UnknownActor:
        return UnknownActor(f"no actor or pipeline named '{name}' (the program has: "
                            f"{', '.join([*self.actors, *self.pipelines]) or 'none'})")

    def members(self, name: str) -> list[str]:
        if name in self.pipelines:
            return list(self.pipelines[name].stages)
        if name in self.actors:
            return [name]
        raise self._unknown(name)

    def entries(self, name: str) -> list[str]:
        return list(self.pipelines[name].entries) if name in self.pipelines else self.members(name)

    def exits(self, name: str) -> list[str]:
        return list(self.pipelines[name].exits) if name in self.pipelines else self.members(name)

    def _downstream(self, name: str) -> list[str]:
        return list(dict.fromkeys(b for p in self.pipelines.values() for a, b in p.edges if a == name))

    def message(self, type: str, **fields: Any) -> Message:
        codec = self.codecs.get(type)
        if codec is None:
            raise BadMessage(f"no message type '{type}' (the program declares: {', '.join(self.codecs) or 'none'})")
        return codec.message(fields)

    # -- lifecycle ---------------------------------------------------------------------------
    async def __aenter__(self) -> "RayActorRuntime":
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        await self.close(drain=exc is None)

    async def launch(self, name: str, active: bool = True) -> None:
        """Create the stage processes of ``name`` (and of the stages they feed), each
        compiled from the program's text in its own process, and start them."""
        from ccomp.runtime.scaleout.stage import CheckpointStore, StageWorker

        ray = self.ray
        if self._store is None and any(getattr(s, "checkpoint_every", 0) for s in self.actors.values()):
            self._store = ray.remote(CheckpointStore).options(num_cpus=0).remote()
        worker = ray.remote(StageWorker)
        if self._shared is None:  # put once and held here, so a restart always finds them
            self._shared = (ray.put(self.compile_fn), ray.put(self.text))
        order: list[str] = []

        def visit(n: str) -> None:
            if n not in order:
                for d in self._downstream(n):
                    visit(d)
                order.append(n)
        for n in self.members(name):
            visit(n)
        for n in order:
            if n in self.handles:
                continue
            spec = self.actors[n]
            down = [(d, self.handles[d]) for d in self._downstream(n)]
            self.handles[n] = worker.options(max_restarts=MAX_RESTARTS, max_task_retries=0, num_cpus=0,
                                             max_concurrency=64).remote(
                *self._shared, self.program.filename, self.program.target, n,
                list(self.actors).index(n), down, self.delivery, getattr(spec, "checkpoint_every", 0), self._store)
        try:
            infos = await asyncio.gather(*(self.handles[n].info.remote() for n in order))
        except Exception as exc:  # its __init__ failed there (an install that differs from this one)
            lines = [x for x in str(exc).splitlines() if x.strip()]
            raise ActorStateError(f"a stage process of '{name}' could not start: "
                                  f"{lines[-1] if lines else type(exc).__name__}") from None
        for n, info in zip(order, infos):
            self.pids.setdefault(n, info["pid"])

    async def deactivate(self, name: str) -> None:
        """Stop processing in ``name``'s stages; their queues keep taking messages."""
        await asyncio.gather(*(self.handles[n].lifecycle.remote("deactivate") for n in self.members(name)))

    async def activate(self, name: str) -> None:
        await asyncio.gather(*(self.handles[n].lifecycle.remote("activate") for n in self.members(name)))

    async def close(self, drain: bool = True, timeout: float = 120.0) -> list[dict]:
        """Wait (with ``drain``) until every stage is idle, collect what is left to
        receive, account for lost messages, and end the stage processes."""
        if self._closed:
            return []
        if drain and self.handles:
            deadline = time.monotonic() + timeout
            quiet = 0
            while (quiet < 2 or self._resend_due) and time.monotonic() < deadline:
                await self._check_restarts(force=True)
                idle = await asyncio.gather(*(h.idle.remote() for h in self.handles.values()),
                                            return_exceptions=True)  # a stage restarting is not idle
                quiet = quiet + 1 if all(x is True for x in idle) else 0
                await self._pull_into_stash(0.05)
            await self._pull_into_stash(0)
            self._account_losses()
        self.final_telemetry = {n: self._stage_telemetry(n) for n in self.handles} if self.handles else {}
        for h in self.handles.values():
            self.ray.kill(h, no_restart=True)
        if self._store is not None:
            self.ray.kill(self._store, no_restart=True)
        self._closed = True
        return [{"actor": n, "processed": t.get("processed", 0)} for n, t in self.final_telemetry.items()]

    # -- sending -----------------------------------------------------------------------------
    async def _push(self, name: str, data: bytes) -> int:
        """Hand ``data`` to stage ``name``; after a crash, wait for Ray's restart when the
        stage is at least once."""
        stage = RemoteStage(name, self.handles[name], self.delivery[name] == "at_least_once")
        return await stage.push_bytes(data)

    def _need(self, name: str) -> None:
        if self._closed:
            raise RuntimeError("this actor runtime is closed")
        missing = [n for n in self.entries(name) if n not in self.handles]
        if missing:
            raise BadMessage(f"'{missing[0]}' is not launched: await rt.launch('{name}') first")

    async def send_many(self, name: str, message_type: str | None = None, *, priority: int = 128,
                        correlation_ids: np.ndarray | None = None, fields: dict | None = None,
                        **field_arrays: Any) -> np.ndarray:
        """As the local ``send_many``: a batch from arrays, into the entries of ``name``."""
        self._need(name)
        entries = self.entries(name)
        kind = checks.message_type([_Taker(self.actors[e]) for e in entries], message_type, "send_many")
        batch = self.codecs[kind].columns({**(fields or {}), **field_arrays})
        keys = checks.correlations(correlation_ids, batch.n)
        meta = meta_for(batch.n, self._next_id, keys, checks.priority(priority), 0)
        self._next_id += batch.n
        data = encode_batch(self.program.messages[kind], batch, meta)
        self.log.record(tuple(entries), data, meta.reply_keys())
        for e in entries:
            rejected = await self._push(e, data)
            if rejected:
                raise SendRejected(e, self.actors[e].capacity, accepted=batch.n - rejected, rejected=rejected)
        return meta.ids

    async def send(self, name: str, msg: Message | dict, priority: int = 128,
                   correlation_id: int | None = None) -> int:
        entries = self.entries(name)
        m = checks.checked_message(self.codecs, [_Taker(self.actors[e]) for e in entries], msg)
        cols = {k: [v] for k, v in m.fields.items()}  # a batch of one
        ids = await self.send_many(name, m.type, priority=checks.priority(priority),
                                   correlation_ids=None if correlation_id is None
                                   else np.array([checks.correlation(correlation_id)]), fields=cols)
        return int(ids[0])

    # -- faults and telemetry ---------------------------------------------------------------
    async def _check_restarts(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_check < 0.5:
            return
        self._last_check = now
        names = list(self.handles)
        infos = await asyncio.gather(*(self.handles[n].info.remote() for n in names), return_exceptions=True)
        for n, info in zip(names, infos):
            if isinstance(info, BaseException):  # down right now: looked at again next time
                if not _dead(info):
                    raise info
                continue
            if info["pid"] != self.pids[n]:
                self.pids[n] = info["pid"]
                self.restarts[n] += 1
                log.warning("stage %s was restarted by Ray (process %d)", n, info["pid"])
                if self.delivery[n] == "at_least_once":
                    self._resend_due = True
        if self._resend_due:
            await self._resend_when_drained()

    async def _resend_when_drained(self) -> None:
        """Send again what an at-least-once stage's death may have lost: once every
        stage is idle and every reply waiting has been taken, the unanswered messages
        are exactly those (resending earlier would duplicate messages still on their way)."""
        idle = await asyncio.gather(*(h.idle.remote() for h in self.handles.values()), return_exceptions=True)
        if not all(x is True for x in idle):
            return
        await self._pull_into_stash(0)
        self._resend_due = False
        for entries, data in self.log.to_resend(self.program.messages):
            for e in entries:
                await self._push(e, data)

    def _account_losses(self) -> None:
        if not any(self.restarts.values()):
            return
        missing = self.log.outstanding()
        if not missing.size:
            return
        self.log.lost = int(missing.size)
        dead = ", ".join(n for n, k in self.restarts.items() if k)
        why = f"lost: the process of stage {dead} died while it held the message (delivery at_most_once)"
        fails = [MessageFailed(dead, -1, int(k), why) for k in missing]
        e = np.zeros(0, np.int64)
        self._stash.append(Replies(None, e, e, np.zeros(0, np.uint8), fails))
        log.warning("%d message(s) lost with stage %s", missing.size, dead)

    def _stage_telemetry(self, n: str) -> dict:
        snap = self.ray.get(self.handles[n].telemetry.remote(), timeout=60)
        snap.update(restarts=self.restarts[n], delivery=self.delivery[n])
        return snap

    def telemetry(self, name: str) -> dict:
        """Each stage's telemetry, gathered from its process (its last one after close),
        plus ``"@delivery"``: messages sent, answered, sent again and lost."""
        view = getattr(self, "final_telemetry", None) if self._closed else None
        stages = {n: (view[n] if view is not None else self._stage_telemetry(n))
                  for n in self.members(name) if n in self.handles}
        if name in self.actors:
            return {**stages[name], "@delivery": self.log.counts()}
        return {**stages, "@delivery": self.log.counts()}

    def sync(self) -> Any:
        from ccomp.runtime.actors.sync import SyncRuntime

        return SyncRuntime(self)  # type: ignore[arg-type]


class _Taker:
    """What ``checks.checked_message`` reads of a target: its spec's handlers."""

    def __init__(self, spec: Any):
        self.spec, self.name = spec, spec.name
