"""Bad messages are a clear error to the sender and the actor keeps running; a handler
failure fails only its message, which reaches the sender and is counted (runtime alone:
hand-written Python handlers from programs.py)."""

import asyncio

import numpy as np
import pytest

from ccomp.runtime.actors import ActorRuntime, BadMessage, MessageFailed, UnknownActor

from .programs import classify_program, stats_program


@pytest.mark.parametrize("build, words", [
    (lambda rt: rt.message("Samples", dat=[1.0]), "message Samples has no field 'dat' \\(its fields: data\\)"),
    (lambda rt: rt.message("Samples"), "message Samples is missing field 'data'"),
    (lambda rt: rt.message("Samples", data=[[1.0, 2.0]]), r"Samples.data: expected tensor<\?xf32>, got shape \(1, 2\)"),
    (lambda rt: rt.message("Samples", data=["a"]), r"Samples.data: expected tensor<\?xf32>, got text"),
    (lambda rt: rt.message("Summary", total=1.0, count=1.5, mean=1.0), "Summary.count: expected i64, got float64 values"),
    (lambda rt: rt.message("Summary", total=1.0, count=2 ** 70, mean=1.0), r"Summary.count: expected i64, got Python objects \(or integers too large\)"),
    (lambda rt: rt.message("Nope", x=1), "no message type 'Nope' \\(the program declares: Samples, Summary\\)"),
])
def test_bad_messages_are_refused_when_built(build, words):
    rt = ActorRuntime(stats_program())
    with pytest.raises(BadMessage, match=words):
        build(rt)


def test_bad_sends_are_refused_and_the_actor_keeps_running():
    async def go():
        async with ActorRuntime(stats_program()) as rt:
            await rt.launch("summarise")
            summary = rt.message("Summary", total=1.0, count=1, mean=1.0)
            with pytest.raises(BadMessage, match="'summarise' has no handler for message type 'Summary' "
                                                 r"\(it handles: Samples\)"):
                await rt.send("summarise", summary)
            with pytest.raises(BadMessage, match="has no field 'x'"):
                await rt.send("summarise", {"x": 1})
            with pytest.raises(BadMessage, match="a message is built with rt.message"):
                await rt.send("summarise", [1.0, 2.0])
            with pytest.raises(BadMessage, match="priority must be an integer from 0 to 255, got 300"):
                await rt.send("summarise", {"data": [1.0]}, priority=300)
            with pytest.raises(BadMessage, match="correlation_id must be None or a non-negative integer"):
                await rt.send("summarise", {"data": [1.0]}, correlation_id="abc")
            with pytest.raises(BadMessage, match="a variable-length field takes a list of 1-d arrays, a 2-d array"):
                await rt.send_many("summarise", data=np.ones(3))
            with pytest.raises(UnknownActor, match="no actor or pipeline named 'summary'"):
                await rt.send("summary", {"data": [1.0]})
            assert rt.telemetry("summarise")["queue_depth"] == 0  # nothing was queued
            reply = await rt.ask("summarise", {"data": [2.0, 4.0]})
            assert (reply.total, reply.count, reply.mean) == (6.0, 2, 3.0)
    asyncio.run(go())


def test_send_many_checks_shapes_and_counts():
    async def go():
        async with ActorRuntime(classify_program()) as rt:
            await rt.launch("classify_stream")
            with pytest.raises(BadMessage, match=r"Value.v: expected an array of shape \(n,\) for n messages of type f32, got shape \(3, 2\)"):
                await rt.send_many("classify_stream", v=np.ones((3, 2), np.float32))
            with pytest.raises(BadMessage, match="Value.v: expected f32, got text"):
                await rt.send_many("classify_stream", v=np.array(["a"]))
            with pytest.raises(BadMessage, match="correlation_ids must be 3 non-negative integers"):
                await rt.send_many("classify_stream", v=np.ones(3), correlation_ids=[1, 2])
    asyncio.run(go())


def test_a_failing_message_fails_alone():
    async def go():
        async with ActorRuntime(stats_program()) as rt:
            await rt.launch("summarise", active=False)
            await rt.send_many("summarise", data=[[1.0], [-1.0, 2.0], [3.0, 3.0]])
            asked = asyncio.ensure_future(rt.ask("summarise", {"data": [-5.0]}, correlation_id=99))
            await asyncio.sleep(0)
            await rt.activate("summarise")
            with pytest.raises(MessageFailed, match="stats.cn:5:9: error: check failed") as info:
                await asked
            assert info.value.correlation_id == 99
            first = await rt.receive("summarise")
            with pytest.raises(MessageFailed, match="correlation 2"):
                await rt.receive("summarise")
            third = await rt.receive("summarise")
            assert (first.total, first.count, third.total, third.count) == (1.0, 1, 6.0, 3)
            t = rt.telemetry("summarise")
            assert (t["processed"], t["failed"]) == (2, 2)
    asyncio.run(go())


def test_a_handler_that_raises_fails_its_batch_and_the_actor_goes_on():
    async def go():
        prog = classify_program()
        calls = {"n": 0}
        norm = prog.actors["norm"].handlers["Value"]
        original = norm.run

        def flaky(state, batch):
            calls["n"] += 1
            if calls["n"] == 1:
                raise ZeroDivisionError("boom")
            return original(state, batch)
        object.__setattr__(norm, "run", flaky)
        async with ActorRuntime(prog) as rt:
            await rt.launch("classify_stream")
            with pytest.raises(MessageFailed, match="handler raised ZeroDivisionError: boom"):
                await rt.ask("classify_stream", {"v": 50.0})
            assert (await rt.ask("classify_stream", {"v": 50.0})).c == 0
            assert rt.telemetry("norm")["failed"] == 1
    asyncio.run(go())


def test_two_asks_may_not_share_a_correlation_id():
    async def go():
        async with ActorRuntime(stats_program()) as rt:
            await rt.launch("summarise", active=False)
            first = asyncio.ensure_future(rt.ask("summarise", {"data": [1.0]}, correlation_id=5))
            await asyncio.sleep(0)
            with pytest.raises(BadMessage, match="correlation id 5 is already awaited by another ask"):
                await rt.ask("summarise", {"data": [2.0]}, correlation_id=5)
            await rt.activate("summarise")
            assert (await first).total == 1.0
            assert rt.telemetry("summarise")["processed"] == 1  # the refused ask was not queued
    asyncio.run(go())
