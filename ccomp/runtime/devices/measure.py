"""Measuring a :class:`~ccomp.dialects.cost_model.DeviceProfile` for one target with
small ComputeNodes programs (``ccomp devices --measure``).

The programs are ordinary ``.cn`` text compiled by ccomp for the target being measured,
so a profile measures what ccomp's own code achieves there, launched from ccomp's own
host schedule. The runtime compiles nothing itself (import rules): the face hands
:func:`measure` a ``compile(text, target)`` function. Kernel times come from the
profiler (native stamps, OpenCL events, GL timer queries), and FLOPs and bytes from the
same estimator the ``partition-devices`` pass uses, so the pass compares like with like.

Sizes keep the whole measurement of a target at a few seconds on a shared machine:
bandwidth over 4M-element images (16 MiB each way, past the caches), FLOPs over a
vec4 polynomial chain of 128 FLOPs per point, launch latency as the slope of a call's
time between 16 and 256 launches on 8x8, transfers over 16 MiB up and down.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ccomp.dialects.cost_model import HOST_TARGET, DeviceProfile

log = logging.getLogger(__name__)

BANDWIDTH = "graph bw(a: image<f32>, n: i32) -> image<f32> { return repeat n (u = a) { yield u * 0.5 + 1.0 } }"
LAUNCH = "graph lat(a: image<f32>, n: i32) -> image<f32> { return repeat n (u = a) { yield u + 1.0 } }"
TRANSFER = "graph tr(a: image<f32>) -> image<f32> { return a + 1.0 }"


def _flops_program(depth: int = 16) -> str:
    lets = [f"        let t{i} = {'u' if i == 0 else f't{i - 1}'} * 0.999 + 0.001" for i in range(depth)]
    body = "\n".join(lets)
    return (f"graph fl(a: image<vec4>, n: i32) -> image<vec4> {{\n    return repeat n (u = a) {{\n{body}\n"
            f"        yield t{depth - 1}\n    }}\n}}")


def _kernel_rate(prog: Any, args: list[Any], repeats: int = 2) -> tuple[float, float, float]:
    """(seconds, bytes, FLOPs) of the kernels of the best of ``repeats`` profiled calls."""
    prog(*args)  # warm: code, buffers, the profiling queue
    best = None
    for _ in range(repeats):
        prog(*args, profile=True)
        p = prog.last_profile
        row = (p.kernel_seconds(), sum(k.bytes for k in p.kernels()), sum(k.flops for k in p.kernels()))
        if best is None or row[0] < best[0]:
            best = row
    assert best is not None
    return best


def _wall(call: Callable[[], Any], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def measure(target: str, compile: Callable[[str, str], Any], device: str = "") -> DeviceProfile:
    """The profile of ``target``; ``compile(text, target)`` returns a callable program."""
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    bw = compile(BANDWIDTH, target)
    image = rng.random((2048, 2048), dtype=np.float32)
    seconds, nbytes, _ = _kernel_rate(bw, [image, np.int32(6)])
    bandwidth = nbytes / seconds / 1e9

    fl = compile(_flops_program(), target)
    vec = rng.random((512, 512, 4), dtype=np.float32)
    seconds, _, flops = _kernel_rate(fl, [vec, np.int32(6)])
    gflops = flops / seconds / 1e9

    lat = compile(LAUNCH, target)
    tiny = rng.random((8, 8), dtype=np.float32)
    lat(tiny, np.int32(4))
    few, many = 16, 256
    launch = max(1e-9, (_wall(lambda: lat(tiny, np.int32(many))) - _wall(lambda: lat(tiny, np.int32(few))))
                 / (many - few))

    transfer = None
    if target != HOST_TARGET:
        tr = compile(TRANSFER, target)
        tr(image)
        moved = []
        for _ in range(3):
            tr(image, profile=True)
            moved.append(sum(r.total_s for r in tr.last_profile.transfers()))
        transfer = 2 * image.nbytes / min(moved) / 1e9
    log.info("measured %s in %.1f s", target, time.perf_counter() - start)
    return DeviceProfile(target, round(bandwidth, 3), round(gflops, 3), round(launch * 1e6, 3),
                         None if transfer is None else round(transfer, 3), device)


__all__ = ["measure"]
