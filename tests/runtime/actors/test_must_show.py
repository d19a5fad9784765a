"""Issue 12's must-shows with COMPILED handlers (ccomp.actors.load → the llvm backend):
stats.cn as written, a vector-add actor, the 3-stage streaming classifier over 1,000,000
messages in order per priority band, and overload of a queue of 64 under each policy."""

import asyncio
from pathlib import Path

import numpy as np
import pytest

import ccomp.actors
from ccomp.actors import SendRejected

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_stats_as_written():
    async def go():
        async with ccomp.actors.load(EXAMPLES / "stats.cn") as rt:
            await rt.launch("stats")
            r = await rt.ask("summarise", rt.message("Samples", data=[1.0, 2.0, 3.0, 6.0]))
            assert (r.total, r.count, r.mean) == (12.0, 4, 3.0)
            rng = np.random.default_rng(5)
            parts = [rng.standard_normal(int(k)).astype(np.float32) for k in rng.integers(1, 40, 500)]
            await rt.send_many("stats", data=parts)
            got = await _collect(rt, "stats", 500)
            np.testing.assert_allclose(got["total"], [p.sum() for p in parts], rtol=1e-5, atol=1e-5)  # an f32 sum
            np.testing.assert_array_equal(got["count"], 4 + np.cumsum([len(p) for p in parts]))
            np.testing.assert_allclose(got["mean"], [p.mean() for p in parts], rtol=1e-5, atol=1e-6)
            t = rt.telemetry("summarise")
            assert t["processed"] == 501 and t["failed"] == 0 and t["latency_us"]["p50"] > 0
    asyncio.run(go())


def _merge(a, b):
    from ccomp.runtime.actors.columns import concat_batches
    return ccomp.actors.Replies(concat_batches([a.batch, b.batch]), np.concatenate([a.ids, b.ids]),
                                np.concatenate([a.correlation_ids, b.correlation_ids]),
                                np.concatenate([a.priorities, b.priorities]), a.failures + b.failures)


async def _collect(rt, name, n, timeout=5.0):
    got = await rt.receive_many(name, timeout=timeout)
    while len(got) + len(got.failures) < n:
        got = _merge(got, await rt.receive_many(name, timeout=timeout))
    return got


def test_vector_add_actor():
    async def go():
        async with ccomp.actors.load(EXAMPLES / "vector_add.cn") as rt:
            await rt.launch("add")
            r = await rt.ask("add", {"a": [1.0, 2.0, 3.0], "b": [10.0, 20.0, 30.0]})
            np.testing.assert_array_equal(r.c, [11.0, 22.0, 33.0])
            rng = np.random.default_rng(2)
            lens = rng.integers(0, 20, 300)
            a = [rng.standard_normal(k).astype(np.float32) for k in lens]
            b = [rng.standard_normal(k).astype(np.float32) for k in lens]
            b[7] = np.ones(lens[7] + 1, np.float32)  # lengths differ: this pair fails alone
            await rt.send_many("add", a=a, b=b, correlation_ids=np.arange(300))
            got = await _collect(rt, "add", 300)
            assert [f.correlation_id for f in got.failures] == [7]
            assert "vector_add.cn:9:28: error:" in got.failures[0].error  # located at the '+'
            assert "different lengths" in got.failures[0].error
            keys = got.correlation_ids
            assert list(keys) == [k for k in range(300) if k != 7]
            off = got.batch.offsets["c"]
            for row, k in enumerate(keys):
                np.testing.assert_array_equal(got["c"][off[row]:off[row + 1]], a[k] + b[k])
            assert rt.telemetry("add")["failed"] == 1
    asyncio.run(go())


def test_classifier_matches_numpy_for_a_million_messages_in_order_per_band():
    n = 1_000_000
    v = np.random.default_rng(0).uniform(-20, 120, n).astype(np.float32)
    y = np.clip(v / np.float32(100), 0, 1) ** 2
    expect = (y >= np.float32(0.3)).astype(np.int32) + (y >= np.float32(0.7))
    prios = (128, 250, 10, 180)
    chunks = np.array_split(np.arange(n), len(prios))

    async def go():
        async with ccomp.actors.load(EXAMPLES / "classify_stream.cn") as rt:
            await rt.launch("classify_stream")
            sends = [asyncio.ensure_future(rt.send_many("classify_stream", v=v[c], priority=p, correlation_ids=c))
                     for c, p in zip(chunks, prios)]
            got = await _collect(rt, "classify_stream", n)
            await asyncio.gather(*sends)
            assert len(got) == n and not got.failures
            np.testing.assert_array_equal(got["class"], expect[got.correlation_ids])
            for c, p in zip(chunks, prios):
                keys = got.correlation_ids[got.priorities == p]
                np.testing.assert_array_equal(keys, c)  # every one, in order within its band
            assert rt.telemetry("classify")["processed"] == n
    asyncio.run(go())


OVERLOAD = """
message Value {{ v: f32 }}
actor echo {{
    queue 64 backpressure {policy}
    on Value(m) -> Value {{ reply Value {{ v: m.v }} }}
}}
"""


@pytest.mark.parametrize("policy", ["block", "reject", "drop_oldest"])
def test_overload_of_a_queue_of_64(policy):
    n = 100_000
    values = np.arange(n, dtype=np.float32)

    async def go():
        async with ccomp.actors.load(OVERLOAD.format(policy=policy)) as rt:
            await rt.launch("echo")
            rt.configure("echo", max_batch=16)  # the slow consumer: 16 messages a call
            refused = 0
            for chunk in np.array_split(values, 250):
                try:
                    await rt.send_many("echo", v=chunk)
                except SendRejected as exc:
                    refused += exc.rejected
                await asyncio.sleep(0)
            got = await _collect(rt, "echo", 1, timeout=2.0)
            while True:
                try:
                    got = _merge(got, await rt.receive_many("echo", timeout=0.2))
                except TimeoutError:
                    break
            t = rt.telemetry("echo")
            assert t["processed"] == len(got) and t["queue_depth_max"] == 64 and t["batch_max"] == 16
            if policy == "block":
                np.testing.assert_array_equal(got["v"], values)
            elif policy == "reject":
                assert refused == t["rejected"] > 0 and t["rejected"] + t["processed"] == n
            else:
                assert t["dropped"] > 0 and t["dropped"] + t["processed"] == n
                np.testing.assert_array_equal(got["v"][-64:], values[-64:])
            assert np.all(np.diff(got["v"]) > 0)
    asyncio.run(go())


@pytest.mark.parametrize("target", ["opencl", "glsl"])
def test_classifier_on_the_other_targets(target):
    """The same runtime over handlers compiled for OpenCL (PoCL) and GLSL (EGL)."""
    v = np.random.default_rng(1).uniform(-20, 120, 20_000).astype(np.float32)
    y = np.clip(v / np.float32(100), 0, 1) ** 2
    expect = (y >= np.float32(0.3)).astype(np.int32) + (y >= np.float32(0.7))

    async def go():
        async with ccomp.actors.load(EXAMPLES / "classify_stream.cn", target=target) as rt:
            await rt.launch("classify_stream")
            await rt.send_many("classify_stream", v=v)
            got = await _collect(rt, "classify_stream", len(v), timeout=30)
            np.testing.assert_array_equal(got["class"], expect)
            assert rt.telemetry("classify")["batches"] < 100  # batches, one dispatch each
    asyncio.run(go())
