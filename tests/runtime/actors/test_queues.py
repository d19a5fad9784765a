"""Queues, backpressure policies, priority bands and message ids (runtime alone: the
handlers are hand-written Python HandlerFns from programs.py)."""

import asyncio

import numpy as np
import pytest

from ccomp.runtime.actors import ActorRuntime, SendRejected
from ccomp.runtime.actors.queue import BandQueue, band_of

from .programs import VALUE, echo_program

N = 20_000


async def _drain(rt, name, n, timeout=2.0):
    """Every reply (values and their correlation ids) until ``n`` came or none comes."""
    vals, keys = [], []
    while sum(map(len, vals)) < n:
        try:
            got = await rt.receive_many(name, timeout=timeout)
        except TimeoutError:
            break
        vals.append(got["v"])
        keys.append(got.correlation_ids)
    return (np.concatenate(vals) if vals else np.zeros(0)), (np.concatenate(keys) if keys else np.zeros(0, int))


def test_bands():
    assert [band_of(p) for p in (0, 63, 64, 159, 160, 223, 224, 255)] == [0, 0, 1, 1, 2, 2, 3, 3]


def test_one_queue_bounds_every_band_and_type():
    q = BandQueue(4)
    for i, p in enumerate((0, 100, 200, 250)):
        q.put_one(VALUE, {"v": float(i)}, i + 1, -1, p, 0)
    assert q.depth == 4 and q.free == 0
    assert q.depth_by_band() == {"low": 1, "normal": 1, "high": 1, "system": 1}
    batch, meta = q.take(10)  # one band per take, the highest first
    assert batch.n == 1 and list(meta.ids) == [4]


@pytest.mark.parametrize("one_at_a_time", [True, False])
def test_block_processes_everything_with_a_slow_consumer(one_at_a_time):
    async def go():
        async with ActorRuntime(echo_program(capacity=64, policy="block")) as rt:
            await rt.launch("echo")
            rt.configure("echo", max_batch=4)  # a slow consumer: 4 messages per call
            values = np.arange(N, dtype=np.float32)
            if one_at_a_time:
                for v in values[:2000]:
                    await rt.send("echo", {"v": v})
                values = values[:2000]
            else:
                await rt.send_many("echo", v=values)
            got, _ = await _drain(rt, "echo", len(values))
            np.testing.assert_array_equal(got, values)
            t = rt.telemetry("echo")
            assert t["processed"] == len(values) and t["queue_depth_max"] == 64 and t["batch_max"] == 4
            assert t["rejected"] == t["dropped"] == 0
    asyncio.run(go())


def test_reject_counts_exactly():
    async def go():
        async with ActorRuntime(echo_program(capacity=64, policy="reject")) as rt:
            await rt.launch("echo")
            rt.configure("echo", max_batch=1)
            refused = 0
            for i in range(N):
                try:
                    await rt.send("echo", {"v": float(i)})
                except SendRejected as exc:
                    refused += 1
                    assert "queue full (64 messages, backpressure reject)" in str(exc)
                if i % 50 == 0:
                    await asyncio.sleep(0)  # the consumer gets a turn now and then
            for chunk in np.array_split(np.arange(N, dtype=np.float32), 200):
                try:
                    await rt.send_many("echo", v=chunk)
                except SendRejected as exc:
                    refused += exc.rejected
                    assert exc.accepted + exc.rejected == len(chunk)
                await asyncio.sleep(0)
            got, _ = await _drain(rt, "echo", 2 * N, timeout=0.2)
            t = rt.telemetry("echo")
            assert refused == t["rejected"] > 0 and t["processed"] == len(got) > 64
            assert t["rejected"] + t["processed"] == 2 * N
    asyncio.run(go())


@pytest.mark.parametrize("one_at_a_time", [True, False])
def test_drop_oldest_counts_exactly_and_keeps_the_newest(one_at_a_time):
    async def go():
        async with ActorRuntime(echo_program(capacity=64, policy="drop_oldest")) as rt:
            await rt.launch("echo")
            rt.configure("echo", max_batch=2)
            values = np.arange(N, dtype=np.float32)
            if one_at_a_time:
                for i, v in enumerate(values):
                    await rt.send("echo", {"v": v})
                    if i % 50 == 0:
                        await asyncio.sleep(0)
            else:
                for chunk in np.array_split(values, 300):
                    await rt.send_many("echo", v=chunk)
                    await asyncio.sleep(0)
            got, _ = await _drain(rt, "echo", N, timeout=0.2)
            t = rt.telemetry("echo")
            assert t["dropped"] > 0 and t["dropped"] + t["processed"] == N == t["dropped"] + len(got)
            np.testing.assert_array_equal(got[-64:], values[-64:])  # the newest survive
            assert np.all(np.diff(got) > 0)  # in order
    asyncio.run(go())


def test_send_many_larger_than_the_queue_keeps_its_newest_under_drop_oldest():
    async def go():
        async with ActorRuntime(echo_program(capacity=64, policy="drop_oldest")) as rt:
            await rt.launch("echo")
            await rt.send_many("echo", v=np.arange(1000, dtype=np.float32))
            got, _ = await _drain(rt, "echo", 64, timeout=0.2)
            np.testing.assert_array_equal(got, np.arange(936, 1000))
            assert rt.telemetry("echo")["dropped"] == 936
    asyncio.run(go())


def test_priority_bands_served_highest_first_fifo_within():
    async def go():
        async with ActorRuntime(echo_program(capacity=1000)) as rt:
            await rt.launch("echo")
            await rt.deactivate("echo")
            rng = np.random.default_rng(3)
            prios = rng.integers(0, 256, 400)
            for i, p in enumerate(prios):
                await rt.send("echo", {"v": float(i)}, priority=int(p))
            await rt.send_many("echo", v=np.arange(400, 410, dtype=np.float32), priority=255)
            rt.configure("echo", max_batch=7)
            await rt.activate("echo")
            got, _ = await _drain(rt, "echo", 410)
            order = np.concatenate([np.flatnonzero([band_of(p) == b for p in prios]) for b in (3, 2, 1, 0)])
            system = np.flatnonzero([band_of(p) == 3 for p in prios])
            expect = np.concatenate([system, np.arange(400, 410), order[len(system):]])
            np.testing.assert_array_equal(got, expect)
    asyncio.run(go())


def test_lower_band_flood_never_drops_a_higher_band_message():
    async def go():
        async with ActorRuntime(echo_program(capacity=4, policy="drop_oldest")) as rt:
            await rt.launch("echo", active=False)
            for p in (250, 250, 10, 10):
                await rt.send("echo", {"v": float(p)}, priority=p)
            await rt.send("echo", {"v": 1.0}, priority=5)  # drops the oldest low one
            await rt.send_many("echo", v=np.zeros(3, np.float32), priority=200)  # outranked by nothing
            await rt.activate("echo")
            got, _ = await _drain(rt, "echo", 4)
            np.testing.assert_array_equal(got, [250, 250, 0, 0])
            assert rt.telemetry("echo")["dropped"] == 4
    asyncio.run(go())


def test_ids_are_unique_and_replies_carry_the_correlation():
    async def go():
        async with ActorRuntime(echo_program(capacity=1000)) as rt:
            await rt.launch("echo")
            a = await rt.send("echo", {"v": 1.0})
            b = await rt.send("echo", {"v": 2.0}, correlation_id=12345)
            many = await rt.send_many("echo", v=np.ones(5, np.float32), correlation_ids=np.arange(5) + 900)
            more = await rt.send_many("echo", v=np.ones(3, np.float32))
            ids = [a, b, *many, *more]
            assert len(set(ids)) == len(ids)
            replies = [await rt.receive("echo") for _ in range(10)]
            assert [r.correlation_id for r in replies] == [a, 12345, 900, 901, 902, 903, 904, *more]
            reply_ids = [r.id for r in replies]
            assert len(set(reply_ids + ids)) == 20  # replies get ids of their own
            r = await rt.ask("echo", rt.message("Value", v=5.0), correlation_id=7)
            assert (r.v, r.correlation_id) == (5.0, 7)
    asyncio.run(go())


def test_two_message_types_in_one_band_keep_their_order():
    """A queue holds every type an actor handles; a batch is one type, in queue order."""
    from .programs import CLASS
    q = BandQueue(1000)
    for i in range(300):
        if i % 3:
            q.put_one(VALUE, {"v": float(i)}, i, -1, 128, 0)
        else:
            q.put_one(CLASS, {"c": i}, i, -1, 128, 0)
    seen, sizes = [], []
    while (got := q.take(1000)) is not None:
        seen += list(got[1].ids)
        sizes.append(got[0].n)
        col = got[0].columns["v" if got[0].message == "Value" else "c"]
        assert list(col) == list(got[1].ids)
    assert seen == list(range(300)) and max(sizes) == 2 and q.depth == 0
    assert sum(len(b) for b in q.bands) <= 1  # emptied segments are let go
