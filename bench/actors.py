"""Actors: a 3-stage pipeline of 8-float messages on ccomp's actor runtime (compiled
handlers, llvm) against the alternatives a user would write, in one process.

    python bench/actors.py [--messages 1000000] [--single 100000] [--latency 3000]

Rows (messages per second through all three stages, best of ``--rounds``):
  * ccomp, batches from NumPy — ``await rt.send_many(pipe, x=array)`` of ``--messages``
    messages, replies taken with ``receive_many``;
  * ccomp, one at a time — ``await rt.send(pipe, msg)`` per message (``--single``);
  * a hand-written asyncio pipeline — three coroutines joined by ``asyncio.Queue``s,
    each stage NumPy on one 8-float message (the issue measured 363k msgs/s);
  * direct Python calls — the three stage functions called in a loop (1.26M/s there);
  * NumPy over the whole array, for the floor of the arithmetic.
Latency: ``--latency`` single messages at low load (each sent after the previous reply
came back) through one stage: enqueue to reply as the runtime's telemetry measures it,
the ``ask`` round trip as a caller sees it, the ``ask`` through the 3-stage pipeline, and
the compiled handler's own call on one message (the floor under them), p50/p99 in
microseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import numpy as np

import ccomp.actors

PROGRAM = """
message V8 { x: tensor<8xf32> }
actor scale { queue 65536 backpressure block  on V8(m) -> V8 { reply V8 { x: m.x * 2.0 } } }
actor shift { queue 65536 backpressure block  on V8(m) -> V8 { reply V8 { x: m.x + 1.0 } } }
actor square { queue 65536 backpressure block  on V8(m) -> V8 { reply V8 { x: m.x * m.x } } }
pipeline pipe = scale -> shift -> square
"""


def reference(x: np.ndarray) -> np.ndarray:
    y = x * np.float32(2.0) + np.float32(1.0)
    return y * y


async def _collect(rt, name: str, n: int) -> np.ndarray:
    parts, got = [], 0
    while got < n:
        r = await rt.receive_many(name, timeout=10.0)
        parts.append(r["x"])
        got += len(r)
    return np.concatenate(parts)


async def ccomp_batches(rt, x: np.ndarray) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    send = asyncio.ensure_future(rt.send_many("pipe", x=x))
    out = await _collect(rt, "pipe", len(x))
    await send
    return time.perf_counter() - start, out


async def ccomp_single(rt, x: np.ndarray) -> tuple[float, np.ndarray]:
    msgs = [rt.message("V8", x=row) for row in x]  # built before the clock: the user's data
    start = time.perf_counter()
    collect = asyncio.ensure_future(_collect(rt, "pipe", len(x)))
    send = rt.send
    for m in msgs:
        await send("pipe", m)
    out = await collect
    return time.perf_counter() - start, out


def stages():
    two, one = np.float32(2.0), np.float32(1.0)
    return (lambda m: m * two), (lambda m: m + one), (lambda m: m * m)


async def asyncio_pipeline(x: np.ndarray) -> tuple[float, np.ndarray]:
    """The hand-written alternative: a coroutine per stage, bounded queues between."""
    fns = stages()
    qs = [asyncio.Queue(1024) for _ in range(4)]

    async def stage(fn, q_in, q_out):
        while True:
            m = await q_in.get()
            await q_out.put(fn(m))

    tasks = [asyncio.ensure_future(stage(f, qs[i], qs[i + 1])) for i, f in enumerate(fns)]
    rows = list(x)
    out = []

    async def consume():
        for _ in range(len(rows)):
            out.append(await qs[3].get())

    start = time.perf_counter()
    consumer = asyncio.ensure_future(consume())
    for m in rows:
        await qs[0].put(m)
    await consumer
    elapsed = time.perf_counter() - start
    for t in tasks:
        t.cancel()
    return elapsed, np.array(out)


def direct_calls(x: np.ndarray) -> tuple[float, np.ndarray]:
    f, g, h = stages()
    rows = list(x)
    start = time.perf_counter()
    out = [h(g(f(m))) for m in rows]
    return time.perf_counter() - start, np.array(out)


async def latency(rt, count: int, name: str = "square") -> tuple[dict, np.ndarray]:
    msg = rt.message("V8", x=np.arange(8, dtype=np.float32))
    trips = np.empty(count)
    for i in range(count):
        start = time.perf_counter_ns()
        await rt.ask(name, msg)
        trips[i] = (time.perf_counter_ns() - start) / 1e3
    return rt.telemetry("square")["latency_us"], trips


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--single", type=int, default=100_000)
    ap.add_argument("--latency", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    x = np.random.default_rng(0).standard_normal((args.messages, 8)).astype(np.float32)
    xs = x[: args.single]
    start = time.perf_counter()
    program = ccomp.actors.compile(PROGRAM, "llvm")
    print(f"compile: {time.perf_counter() - start:.2f} s (three handlers, llvm)")

    rows = []
    async with ccomp.actors.load(program) as rt:
        await rt.launch("pipe")
        best, out = min([await ccomp_batches(rt, x) for _ in range(args.rounds)], key=lambda r: r[0])
        np.testing.assert_allclose(out, reference(x), rtol=1e-6)
        rows.append(("ccomp send_many (batches)", len(x) / best))
        best, out = min([await ccomp_single(rt, xs) for _ in range(args.rounds)], key=lambda r: r[0])
        np.testing.assert_allclose(out, reference(xs), rtol=1e-6)
        rows.append(("ccomp send (one at a time)", len(xs) / best))
        tel = rt.telemetry("pipe")["square"]
        print(f"batches at the last stage: {tel['batches']}, mean {tel['batch_mean']:.0f}, max {tel['batch_max']}")
    best, out = min([await asyncio_pipeline(xs) for _ in range(args.rounds)], key=lambda r: r[0])
    np.testing.assert_allclose(out, reference(xs), rtol=1e-6)
    rows.append(("hand-written asyncio pipeline", len(xs) / best))
    best, out = min([direct_calls(xs) for _ in range(args.rounds)], key=lambda r: r[0])
    rows.append(("direct Python calls", len(xs) / best))
    start = time.perf_counter()
    reference(x)
    rows.append(("NumPy, whole array (floor)", len(x) / (time.perf_counter() - start)))

    base = dict(rows)["hand-written asyncio pipeline"]
    print(f"\n{'3 stages, 8 x f32 messages':32} {'msgs/s':>12} {'vs asyncio':>11}")
    for name, rate in rows:
        print(f"{name:32} {rate:12,.0f} {rate / base:10.2f}x")

    async with ccomp.actors.load(program) as rt:
        await rt.launch("square")
        await latency(rt, 200)  # warm up, then count only the measured messages
        rt.actors["square"].telemetry.__init__()
        lat, trips = await latency(rt, args.latency)
    async with ccomp.actors.load(program) as rt:  # each stage's runner on the way (no inline ask)
        await rt.launch("pipe")
        await latency(rt, 200, "pipe")
        _, pipe_trips = await latency(rt, args.latency, "pipe")
    print(f"\nlatency, one message at a time through one stage ({args.latency} messages, microseconds):")
    print(f"  enqueue -> reply (telemetry): p50 {lat['p50']:.1f}, p99 {lat['p99']:.1f}, max {lat['max']:.1f}")
    p50, p99 = np.percentile(trips, [50, 99])
    print(f"  ask round trip (caller):      p50 {p50:.1f}, p99 {p99:.1f}, max {trips.max():.1f}")
    p50, p99 = np.percentile(pipe_trips, [50, 99])
    print(f"  ask through the 3 stages:     p50 {p50:.1f}, p99 {p99:.1f}, max {pipe_trips.max():.1f}")
    p50, p99 = np.percentile(handler_alone(program, args.latency), [50, 99])
    print(f"  the compiled handler alone:   p50 {p50:.1f}, p99 {p99:.1f} (one call on one message, no runtime)")


def handler_alone(program, count: int) -> np.ndarray:
    """What the handler call itself costs on one message: the floor under the latency."""
    from ccomp.runtime.actors.spec import Batch

    run = program.actors["square"].handlers["V8"].run
    batch = Batch("V8", 1, {"x": np.arange(8, dtype=np.float32).reshape(1, 8)})
    times = np.empty(count)
    for i in range(count):
        start = time.perf_counter_ns()
        run({}, batch)
        times[i] = (time.perf_counter_ns() - start) / 1e3
    return times


if __name__ == "__main__":
    asyncio.run(main())
