"""Telemetry counters, queue depths, batch sizes and latencies; the synchronous
wrapper; and that ``import ccomp`` does not load the actor runtime (runtime alone:
hand-written Python handlers from programs.py)."""

import asyncio
import subprocess
import sys

import numpy as np
import pytest

from ccomp.runtime.actors import ActorRuntime, MessageFailed, SendRejected
from ccomp.runtime.actors.telemetry import Telemetry

from .programs import classify_program, echo_program, stats_program


def test_counters_depths_batches_and_latency():
    async def go():
        async with ActorRuntime(echo_program(capacity=8, policy="reject")) as rt:
            await rt.launch("echo", active=False)
            await rt.send_many("echo", v=np.arange(5, dtype=np.float32))
            with pytest.raises(SendRejected, match="5 messages were rejected \\(3 accepted before it filled\\)"):
                await rt.send_many("echo", v=np.arange(8, dtype=np.float32))
            t = rt.telemetry("echo")
            assert (t["queue_depth"], t["queue_depth_max"], t["rejected"], t["processed"]) == (8, 8, 5, 0)
            assert t["latency_us"] == {"p50": None, "p99": None, "max": None} and t["state"] == "LAUNCHED"
            await rt.activate("echo")
            while rt.telemetry("echo")["processed"] < 8:
                await asyncio.sleep(0.001)
            t = rt.telemetry("echo")
            assert (t["queue_depth"], t["batches"], t["batch_max"], t["batch_sizes"]) == (0, 1, 8, {"8-15": 1})
            lat = t["latency_us"]
            assert 0 < lat["p50"] <= lat["p99"] <= lat["max"]
    asyncio.run(go())


def test_pipeline_telemetry_is_per_stage():
    async def go():
        async with ActorRuntime(classify_program()) as rt:
            await rt.launch("classify_stream")
            await rt.send_many("classify_stream", v=np.linspace(0, 100, 3000, dtype=np.float32))
            got = 0
            while got < 3000:
                got += len(await rt.receive_many("classify_stream"))
            t = rt.telemetry("classify_stream")
            assert set(t) == {"norm", "square", "classify"}
            assert all(s["processed"] == 3000 and s["failed"] == 0 for s in t.values())
            assert t["norm"]["batch_max"] > 1  # batches, not one call per message
    asyncio.run(go())


def test_latency_ring_keeps_the_last_window():
    tel = Telemetry(window=4)
    tel.latencies(np.array([0, 0, 0], np.int64), 1000)  # 1 us each
    tel.latencies(np.array([0, 0, 0], np.int64), 5000)  # 5 us each: the ring wraps
    snap = tel.snapshot(0, 0)["latency_us"]
    assert snap["max"] == 5.0 and snap["p50"] == 5.0
    tel.latencies(np.zeros(10_000, np.int64), 9000)  # a big batch: sampled, the oldest included
    assert tel.snapshot(0, 0)["latency_us"]["max"] == 9.0


def test_sync_wrapper():
    with ActorRuntime(stats_program()).sync() as rt:
        rt.launch("summarise")
        r = rt.ask("summarise", {"data": [1.0, 3.0]})
        assert (r.total, r.count, r.mean) == (4.0, 2, 2.0)
        ids = rt.send_many("summarise", data=[[1.0], [2.0, 2.0]])
        assert [rt.receive("summarise").correlation_id for _ in ids] == list(ids)
        with pytest.raises(MessageFailed, match="must not be negative"):
            rt.ask("summarise", rt.message("Samples", data=[-1.0]))
        assert rt.telemetry("summarise")["processed"] == 3
        assert rt.state("summarise").name == "ACTIVE"
    assert rt.state("summarise").name == "TERMINATED"
    with pytest.raises(RuntimeError, match="closed"):
        rt.launch("summarise")


def test_sync_wrapper_works_inside_a_running_loop():
    async def notebook_cell():  # Jupyter runs cells inside an event loop
        with ActorRuntime(stats_program()).sync() as rt:
            rt.launch("summarise")
            return rt.ask("summarise", {"data": [2.0]}).total
    assert asyncio.run(notebook_cell()) == 2.0


def test_import_ccomp_does_not_load_the_actor_runtime():
    code = "import sys, ccomp; print(any(m.startswith(('ccomp.actors', 'ccomp.runtime.actors', 'msgpack')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
    out = subprocess.run([sys.executable, "-c", "import ccomp.actors; print(ccomp.actors.load.__name__)"],
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "load", out.stderr


def test_batch_limit_adapts_to_load():
    """B doubles while full batches come back fast, halves when one is slow (the
    durations are given, not measured)."""
    a = ActorRuntime(echo_program()).actors["echo"]
    assert a.limit == 1024
    a._adapt(1024, 0.0001)  # full and fast: grow
    assert a.limit == 2048
    a._adapt(100, 0.0001)  # not full: the queue is keeping up, stay
    assert a.limit == 2048
    a._adapt(2048, 0.05)  # slow: shrink
    assert a.limit == 1024
    for _ in range(20):
        a._adapt(a.limit, 1e-6)
    assert a.limit == a.max_batch == 65536
    for _ in range(20):
        a._adapt(a.limit, 1.0)
    assert a.limit == 16  # the floor
