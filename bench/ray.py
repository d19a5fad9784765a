"""Scale-out on Ray against the same work in one process: the 3-stage classifier
pipeline (messages/s) and ``ccomp.map`` over images (images/s), with the overhead Ray
adds per message and per task.

    python bench/ray.py [--messages 200000] [--images 200] [--size 64]

Rows:
  * pipeline, local — examples/classify_stream.cn on the asyncio runtime, ``send_many``
    batches of 10,000, replies taken with ``receive_many``;
  * pipeline, Ray — the same calls with each stage in a Ray actor process (three
    processes; Ray started with 2 CPUs); the overhead per message is
    (Ray time - local time) / messages;
  * map, local — examples/tonemap.cn over ``--images`` images of ``--size``², one call each;
  * map, Ray — ``ccomp.map(..., runtime="ray")`` with its default chunks (about four
    tasks per CPU) and with one image per task; the overhead per task is
    (time of one image per task - time of the default chunks) / (the extra tasks).
Each Ray row runs once after a warm-up run (which starts the workers and loads the
build), so rates exclude ``ray.init`` and compilation; ``ray.init`` is timed apart.
On a shared 2-core machine Ray's extra processes compete with the work itself: read
the ratios as the cost of crossing processes, not as a speed-up.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

_BENCH = Path(__file__).resolve().parent
# this file is named ray.py: keep its folder off the path while the real package is imported
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _BENCH]
import ray  # noqa: E402

sys.path.insert(0, str(_BENCH))
import numpy as np  # noqa: E402

import ccomp  # noqa: E402
import ccomp.actors  # noqa: E402
from common import ROOT, report, timed  # noqa: E402


async def _pipeline(rt, v: np.ndarray) -> int:
    name = "classify_stream"
    await rt.launch(name)
    got = 0
    start = time.perf_counter()
    for k in range(0, len(v), 10_000):
        await rt.send_many(name, v=v[k:k + 10_000])
    while got < len(v):
        got += len(await rt.receive_many(name, timeout=60))
    seconds = time.perf_counter() - start
    await rt.close()
    return seconds


def pipeline(runtime: str, v: np.ndarray) -> float:
    path = ROOT / "examples" / "classify_stream.cn"
    asyncio.run(_pipeline(ccomp.actors.load(path, runtime=runtime), v[:20_000]))  # warm-up
    return asyncio.run(_pipeline(ccomp.actors.load(path, runtime=runtime), v))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--size", type=int, default=64)
    args = ap.parse_args()
    _, init_s = timed(lambda: ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                                       configure_logging=False))
    print(f"ray.init (2 CPUs): {init_s:.2f} s")
    try:
        rng = np.random.default_rng(0)
        v = (rng.random(args.messages, dtype=np.float32) * 140 - 20).astype(np.float32)
        n = args.messages
        local_s, ray_s = pipeline("local", v), pipeline("ray", v)
        print(f"\npipeline: {n} messages through 3 stages")
        report([("local (asyncio)", local_s, n / local_s), ("Ray (3 stage processes)", ray_s, n / ray_s)],
               "msgs/s", "local (asyncio)")
        print(f"Ray overhead per message: {(ray_s - local_s) / n * 1e6:.2f} us")

        prog = ccomp.compile_file(ROOT / "examples" / "tonemap.cn")
        ims = [{"src": rng.random((args.size, args.size, 4), dtype=np.float32)} for _ in range(args.images)]
        m = len(ims)
        ccomp.map(prog, ims[:8], runtime="local")
        _, map_local = timed(lambda: ccomp.map(prog, ims, runtime="local"))
        ccomp.map(prog, ims, runtime="ray")  # warm-up: workers start and load the build
        chunked, map_ray = timed(lambda: ccomp.map(prog, ims, runtime="ray"))
        _, map_single = timed(lambda: ccomp.map(prog, ims, runtime="ray", chunk_size=1))
        tasks = -(-m // max(1, -(-m // 8)))
        print(f"\nmap: tonemap over {m} images of {args.size}x{args.size}")
        report([("local", map_local, m / map_local), (f"Ray, {tasks} tasks", map_ray, m / map_ray),
                (f"Ray, {m} tasks (1 image each)", map_single, m / map_single)], "images/s", "local")
        if m > tasks:
            print(f"Ray overhead per task: {(map_single - map_ray) / (m - tasks) * 1e3:.2f} ms "
                  f"({len(chunked.workers)} worker processes)")
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
