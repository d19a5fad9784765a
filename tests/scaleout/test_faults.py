"""A stage's process killed in the middle of a stream (SIGKILL, as a crash would):
Ray restarts it; with ``delivery at_least_once`` every message still gets a reply
(duplicates allowed); without it, every message is answered or reported lost — in
telemetry and as failures, never silently; ``checkpoint every N`` carries the state
across the restart."""

from __future__ import annotations

import asyncio
import os
import signal

import numpy as np

import ccomp.actors

PIPELINE = """
message Reading {{ v: f32 }}
message Scaled {{ x: f32 }}
message Label {{ class: i32 }}
actor normalise {{
    queue 256 backpressure block
    on Reading(r) -> Scaled {{ reply Scaled {{ x: clamp(r.v / 100.0, 0.0, 1.0) }} }}
}}
actor square {{
    queue 256 backpressure block
    {delivery}
    on Scaled(s) -> Scaled {{ reply Scaled {{ x: s.x * s.x }} }}
}}
actor classify {{
    queue 256 backpressure block
    on Scaled(q) -> Label {{ reply Label {{ class: i32(step(0.3, q.x) + step(0.7, q.x)) }} }}
}}
pipeline p = normalise -> square -> classify
"""
N, CHUNK = 20_000, 500
HELD = 128  # the queue of the killed stage holds at least this many messages when it dies


async def stream_with_a_kill(rt, name: str, stage: str, fields) -> tuple[dict, list, dict]:
    await rt.launch(name)
    keys = np.arange(N, dtype=np.int64)
    replies, failures = {}, []

    async def take(timeout: float) -> None:
        got = await rt.receive_many(name, timeout=timeout)
        failures.extend(got.failures)
        for i, key in enumerate(got.correlation_ids.tolist()):
            replies.setdefault(key, []).append({c: got[c][i].item() for c in got.batch.columns})

    cuts = [*range(0, N // 2, CHUNK), N // 2, N // 2 + 300, *range(N // 2 + 300 + CHUNK, N, CHUNK), N]
    for a, b in zip(cuts, cuts[1:]):
        if a == N // 2:  # the first half answered, the stage held: its queue is full when it dies
            while len(replies) + len(failures) < N // 2:
                await take(60)
            await rt.deactivate(stage)
        await rt.send_many(name, correlation_ids=keys[a:b], **fields(a, b))
        if a == N // 2:
            for _ in range(600):
                if rt.telemetry(stage)["queue_depth"] >= HELD:
                    break
                await asyncio.sleep(0.05)
            os.kill(rt.pids[stage], signal.SIGKILL)  # the restarted process starts active
    await rt.close()
    while True:
        try:
            await take(0)
        except TimeoutError:
            break
    return replies, failures, rt.telemetry(name)


def run(coro, limit: float = 240.0):
    """The stream, bounded: a hang is a failure, not a stuck suite."""
    return asyncio.run(asyncio.wait_for(coro, limit))


def readings(a: int, b: int) -> dict:
    return {"v": np.linspace(-20, 140, N, dtype=np.float32)[a:b]}


def test_at_least_once_every_message_gets_a_reply(ray_session):
    rt = ccomp.actors.load(PIPELINE.format(delivery="delivery at_least_once"), runtime="ray")
    replies, failures, tel = run(stream_with_a_kill(rt, "p", "square", readings))
    assert tel["square"]["restarts"] == 1 and tel["square"]["delivery"] == "at_least_once"
    assert not failures
    assert set(replies) == set(range(N))  # none lost; a key may have more than one reply
    x = np.clip(np.linspace(-20, 140, N, dtype=np.float32) / 100, 0, 1) ** 2
    want = (x >= 0.3).astype(int) + (x >= 0.7)
    assert all(r["class"] == want[k] for k, rs in replies.items() for r in rs)
    assert tel["@delivery"]["lost"] == 0 and tel["@delivery"]["resent"] >= HELD


def test_at_most_once_reports_every_loss(ray_session):
    rt = ccomp.actors.load(PIPELINE.format(delivery=""), runtime="ray")
    replies, failures, tel = run(stream_with_a_kill(rt, "p", "square", readings))
    assert tel["square"]["restarts"] == 1
    failed = {f.correlation_id for f in failures}
    assert set(replies) | failed == set(range(N))  # each message answered or reported
    assert not set(replies) & failed
    assert all(len(rs) == 1 for rs in replies.values())  # at most once: no duplicates
    lost = [f for f in failures if f.error.startswith("lost")]
    assert tel["@delivery"]["lost"] == len(lost) >= HELD  # the held queue died with the process
    assert all("square" in f.error for f in failures)


STATS = """
message Samples { data: tensor<?xf32> }
message Summary { count: i64 }
actor summarise {
    queue 512 backpressure block
    delivery at_least_once
    checkpoint every 200
    state seen: i64 = 0
    on Samples(m) -> Summary {
        seen = seen + len(m.data)
        reply Summary { count: seen }
    }
}
pipeline stats = summarise
"""


def test_checkpoint_keeps_state_across_a_restart(ray_session):
    ones = [np.ones(1, np.float32)] * N  # one value a message: 'seen' counts messages
    rt = ccomp.actors.load(STATS, runtime="ray")
    replies, failures, tel = run(stream_with_a_kill(rt, "stats", "summarise",
                                                            lambda a, b: {"data": ones[a:b]}))
    t = tel["summarise"]
    assert not failures and set(replies) == set(range(N)) and t["restarts"] == 1
    assert t["restored_from"] > 0  # the new process started from the last checkpoint, not from 0
    last = max(r["count"] for rs in replies.values() for r in rs)
    # the state the new process ends with: what it restored plus what it processed
    assert last == t["restored_from"] + t["processed"]
