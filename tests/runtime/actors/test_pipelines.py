"""Pipelines on the runtime alone (hand-written Python handlers): fan-out and fan-in,
ask through a pipeline, a failure in a middle stage reported at the exit, and a
handler's sends to another actor."""

import asyncio

import numpy as np
import pytest

from ccomp.runtime.actors import ActorRuntime, MessageFailed
from ccomp.runtime.actors.spec import ActorProgram, Batch, HandlerResult, HandlerSpec, PipelineSpec

from .programs import VALUE, actor


def _map(fn):
    def run(state, batch):
        v = batch.columns["v"]
        bad = v < 0
        out = fn(v[~bad]).astype(np.float32)
        return HandlerResult(Batch("Value", len(out), {"v": out}), failed=bad if bad.any() else None,
                             errors={int(i): "x.cn:3:7: error: check failed: v >= 0" for i in np.flatnonzero(bad)})
    return HandlerSpec("Value", "Value", (), run)


def _diamond() -> ActorProgram:
    """a -> (b, c) -> d: b doubles, c adds 1000, d passes on; a fails negative values."""
    actors = {"a": actor("a", {"Value": _map(lambda v: v)}), "b": actor("b", {"Value": _map(lambda v: 2 * v)}),
              "c": actor("c", {"Value": _map(lambda v: v + 1000)}), "d": actor("d", {"Value": _map(lambda v: v)})}
    pipe = PipelineSpec("p", ("a", "b", "c", "d"), (("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")), ("a",), ("d",))
    return ActorProgram("python", {"Value": VALUE}, actors, {"p": pipe})


def test_fan_out_and_fan_in():
    async def go():
        async with ActorRuntime(_diamond()) as rt:
            await rt.launch("p")
            await rt.send_many("p", v=np.arange(1, 6, dtype=np.float32), correlation_ids=np.arange(5))
            got, n = [], 0
            while n < 10:
                r = await rt.receive_many("p")
                got += list(zip(r.correlation_ids.tolist(), r["v"].tolist()))
                n += len(r)
            assert sorted(got) == sorted([(k, 2.0 * (k + 1)) for k in range(5)] + [(k, k + 1001.0) for k in range(5)])
            assert rt.telemetry("p")["d"]["processed"] == 10
            assert not rt.actors["b"].outbox.entries  # middle stages keep no replies
    asyncio.run(go())


def test_ask_through_a_pipeline_and_a_middle_failure():
    async def go():
        async with ActorRuntime(_diamond()) as rt:
            await rt.launch("p")
            r = await rt.ask("p", {"v": 4.0})
            assert r.v in (8.0, 1004.0)  # the first answer at the exit
            with pytest.raises(MessageFailed, match="actor 'a'.*x.cn:3:7: error: check failed"):
                await rt.ask("p", {"v": -1.0}, correlation_id=5)
            await rt.send("p", {"v": -2.0}, correlation_id=6)
            await rt.send("p", {"v": 3.0}, correlation_id=7)
            seen = []
            while len(seen) < 4:  # the failure and the other answer of ask(4.0), then 7's two
                try:
                    seen.append((await rt.receive("p")).correlation_id)
                except MessageFailed as exc:
                    seen.append(("failed", exc.correlation_id))
            assert ("failed", 6) in seen and seen.count(7) == 2
            assert rt.telemetry("a")["failed"] == 2
    asyncio.run(go())


def test_handler_sends_reach_another_actor():
    def run(state, batch):
        v = batch.columns["v"]
        return HandlerResult(None, sends={"sink": Batch("Value", batch.n, {"v": v * 10})})
    src = HandlerSpec("Value", None, (("sink", "Value"),), run)
    sink = HandlerSpec("Value", "Value", (), lambda s, b: HandlerResult(Batch("Value", b.n, {"v": b.columns["v"] + 1})))
    prog = ActorProgram("python", {"Value": VALUE},
                        {"src": actor("src", {"Value": src}), "sink": actor("sink", {"Value": sink})}, {})

    async def go():
        async with ActorRuntime(prog) as rt:
            await rt.launch("src")
            await rt.launch("sink")
            await rt.send("src", {"v": 2.0}, correlation_id=11)
            r = await rt.receive("sink")
            assert (r.v, r.correlation_id) == (21.0, 11)  # the correlation travels with the send
    asyncio.run(go())
