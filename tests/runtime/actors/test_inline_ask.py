"""An ``ask`` to an idle exit actor is handled on the asking task (Actor.ask_inline):
these check that it keeps what the runner's path gives — replies, ids and correlation
ids, telemetry and queue counters, state, failures to the sender, order behind queued
messages — and that variable-length messages and middle stages take the usual path."""

from __future__ import annotations

import asyncio

import pytest

from ccomp.runtime.actors import ActorRuntime, MessageFailed

from .programs import classify_program, echo_program, stats_program


def test_inline_ask_keeps_ids_counters_and_state():
    async def go():
        async with ActorRuntime(classify_program()) as rt:
            await rt.launch("classify_stream")
            assert rt.actors["classify"].inline and not rt.actors["norm"].inline
            r = await rt.ask("classify", {"v": 0.9}, correlation_id=7)
            s = await rt.ask("classify", {"v": 0.1})
            assert (r.c, r.correlation_id, s.c) == (2, 7, 0)
            assert r.id != s.id and s.correlation_id is not None and s.correlation_id != 7
            t = rt.telemetry("classify")
            assert (t["processed"], t["batches"], t["queue_depth"], t["queue_depth_max"]) == (2, 2, 0, 1)
            assert t["latency_us"]["p50"] is not None and t["outbox"] == 0
            assert int(rt.actors["classify"].state["calls"]) == 2
            assert (await rt.ask("classify_stream", {"v": 90.0})).c == 2  # through the runners
    asyncio.run(go())


def test_inline_ask_waits_behind_queued_messages():
    async def go():
        async with ActorRuntime(classify_program()) as rt:
            await rt.launch("classify_stream")
            await rt.send("classify", {"v": 0.1})  # queued: the ask must not overtake it
            assert (await rt.ask("classify", {"v": 0.9})).c == 2
            assert (await rt.receive("classify")).c == 0
            assert rt.telemetry("classify")["processed"] == 2
    asyncio.run(go())


def test_inline_ask_failures_reach_the_sender():
    async def go():
        prog = echo_program()
        h = prog.actors["echo"].handlers["Value"]

        def broken(state, batch):
            raise ZeroDivisionError("boom")
        object.__setattr__(h, "run", broken)
        async with ActorRuntime(prog) as rt:
            await rt.launch("echo")
            with pytest.raises(MessageFailed, match="handler raised ZeroDivisionError: boom") as info:
                await rt.ask("echo", {"v": 1.0}, correlation_id=5)
            assert info.value.correlation_id == 5
            assert rt.telemetry("echo")["failed"] == 1
        async with ActorRuntime(stats_program()) as rt:  # a variable-length field: the queue's path
            await rt.launch("summarise")
            assert (await rt.ask("summarise", {"data": [1.0, 2.0]})).total == 3.0
            with pytest.raises(MessageFailed, match="check failed"):
                await rt.ask("summarise", {"data": [-1.0]})
    asyncio.run(go())
