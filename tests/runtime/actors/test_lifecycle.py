"""Every legal and illegal lifecycle transition (runtime alone: a hand-written Python
handler, tests/runtime/actors/programs.py), and what terminate does with what is queued."""

import asyncio

import numpy as np
import pytest

from ccomp.runtime.actors import ActorRuntime, ActorState, ActorStateError, IllegalTransition, MessageFailed
from ccomp.runtime.actors.lifecycle import TRANSITIONS, allowed_calls

from .programs import echo_program

S = ActorState
CALLS = ("launch", "activate", "deactivate", "terminate")
# How to bring a fresh actor into each state, as a list of calls.
PATHS = {S.CREATED: [], S.LAUNCHED: [("launch", False)], S.ACTIVE: [("launch", True)],
         S.DEACTIVATED: [("launch", True), ("deactivate", None)],
         S.TERMINATED: [("launch", True), ("terminate", None)]}
LEGAL = {(S.CREATED, "launch"): S.LAUNCHED, (S.LAUNCHED, "activate"): S.ACTIVE,
         (S.LAUNCHED, "terminate"): S.TERMINATED, (S.ACTIVE, "deactivate"): S.DEACTIVATED,
         (S.ACTIVE, "terminate"): S.TERMINATED, (S.DEACTIVATED, "activate"): S.ACTIVE,
         (S.DEACTIVATED, "terminate"): S.TERMINATED}


async def _call(rt, call, arg=None):
    if call == "launch":
        await rt.launch("echo", active=bool(arg))
    else:
        await getattr(rt, call)("echo")


async def _into(rt, state):
    for call, arg in PATHS[state]:
        await _call(rt, call, arg)
    assert rt.state("echo") is state


@pytest.mark.parametrize("state", list(PATHS))
@pytest.mark.parametrize("call", CALLS)
def test_every_transition(state, call):
    async def go():
        rt = ActorRuntime(echo_program())
        await _into(rt, state)
        if (state, call) in LEGAL:
            await _call(rt, call, False)
            assert rt.state("echo") is LEGAL[(state, call)]
        else:
            with pytest.raises(IllegalTransition, match=f"actor 'echo' is {state.name}: cannot {call} it"):
                await _call(rt, call, False)
            assert rt.state("echo") is state  # an illegal call changes nothing
        await rt.close()
    asyncio.run(go())


def test_the_table_matches_the_issue():
    assert TRANSITIONS["finish"] == {S.TERMINATING: S.TERMINATED}  # only the runtime ends a termination
    assert allowed_calls(S.TERMINATED) == []
    assert allowed_calls(S.ACTIVE) == ["deactivate", "terminate"]
    assert allowed_calls(S.TERMINATING) == []


def test_deactivated_actor_queues_but_does_not_process():
    async def go():
        async with ActorRuntime(echo_program(capacity=64)) as rt:
            await rt.launch("echo")
            await rt.deactivate("echo")
            await rt.send_many("echo", v=np.arange(10, dtype=np.float32))
            with pytest.raises(TimeoutError, match="echo DEACTIVATED"):
                await rt.receive("echo", timeout=0.05)
            assert rt.telemetry("echo")["queue_depth"] == 10
            await rt.activate("echo")
            got: list = []
            while len(got) < 10:
                got += list((await rt.receive_many("echo", timeout=1.0))["v"])
            np.testing.assert_array_equal(got, np.arange(10))
    asyncio.run(go())


def test_send_before_launch_and_after_terminate_is_a_clear_error():
    async def go():
        rt = ActorRuntime(echo_program())
        with pytest.raises(ActorStateError, match=r"'echo' is CREATED: launch it first"):
            await rt.send("echo", {"v": 1.0})
        await rt.launch("echo")
        await rt.terminate("echo")
        with pytest.raises(ActorStateError, match="TERMINATED: it no longer takes messages"):
            await rt.send("echo", {"v": 1.0})
    asyncio.run(go())


def test_terminate_drains_what_is_queued():
    async def go():
        rt = ActorRuntime(echo_program(capacity=64))
        await rt.launch("echo", active=False)
        await rt.send_many("echo", v=np.arange(20, dtype=np.float32))
        [report] = await rt.terminate("echo")
        assert report.drained == 20 and len(report.in_flight) == 0
        assert rt.telemetry("echo")["processed"] == 20
        assert len(await rt.receive_many("echo")) == 20
    asyncio.run(go())


def test_terminate_without_drain_reports_and_fails_what_was_in_flight():
    async def go():
        rt = ActorRuntime(echo_program(capacity=64))
        await rt.launch("echo")
        await rt.deactivate("echo")
        ids = await rt.send_many("echo", v=np.arange(5, dtype=np.float32))
        asked = asyncio.ensure_future(rt.ask("echo", {"v": 9.0}, correlation_id=77))
        await asyncio.sleep(0)
        [report] = await rt.terminate("echo", drain=False)
        np.testing.assert_array_equal(report.in_flight[:5], ids)
        assert len(report.in_flight) == 6 and report.drained == 0
        with pytest.raises(MessageFailed, match="terminated before processing it"):
            await asked
        failures = (await rt.receive_many("echo")).failures
        assert [f.message_id for f in failures] == list(ids)
        assert rt.state("echo") is S.TERMINATED
    asyncio.run(go())
