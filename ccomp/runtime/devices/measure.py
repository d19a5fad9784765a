"""Measuring a :class:`~ccomp.dialects.cost_model.DeviceProfile` for one target with
small ComputeNodes programs (``ccomp devices --measure``).

The programs are ordinary ``.cn`` text compiled by ccomp for the target being measured,
so a profile measures what ccomp's own code achieves there, launched from ccomp's own
host schedule. The runtime compiles nothing itself (import rules): the face hands
:func:`measure` a ``compile(text, target)`` function. FLOPs and bytes come from the
same estimator the ``partition-devices`` pass uses, so the pass compares like with like.

Every rate is a slope of wall-clock call times — the time one more launch adds — so
upload, download and fixed costs cancel out while what a driver spends around each
launch stays in (PoCL's event timestamps miss part of it). Sizes keep a target's
measurement at a few seconds on a shared machine: bandwidth over 1024x1024 f32 (4 MiB
each way, past the L2), stencil bandwidth (kernels whose points read their neighbours,
which drivers run at other rates) with a 5-point stencil over 512x512, FLOPs over a vec4 polynomial chain of 128 FLOPs per point,
launch latency between 16 and 256 launches on 8x8, transfers over 16 MiB up and down.
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
STENCIL = ("graph st(a: image<f32>, n: i32) -> image<f32> { return repeat n (u = a) { "
           "yield (u[x - 1, y] + u[x + 1, y] + u[x, y - 1] + u[x, y + 1]) * 0.25 } }")
LAUNCH = "graph lat(a: image<f32>, n: i32) -> image<f32> { return repeat n (u = a) { yield u + 1.0 } }"
TRANSFER = "graph tr(a: image<f32>) -> image<f32> { return a + 1.0 }"


def _flops_program(depth: int = 16) -> str:
    lets = [f"        let t{i} = {'u' if i == 0 else f't{i - 1}'} * 0.999 + 0.001" for i in range(depth)]
    body = "\n".join(lets)
    return (f"graph fl(a: image<vec4>, n: i32) -> image<vec4> {{\n    return repeat n (u = a) {{\n{body}\n"
            f"        yield t{depth - 1}\n    }}\n}}")


def _launch_seconds(prog: Any, data: Any, few: int, many: int) -> float:
    """Seconds one more launch adds to a call: the slope of the best call time between
    ``few`` and ``many`` launches. Upload, download and fixed costs cancel out; what a
    queueing driver spends around a launch (which its event timestamps may miss) stays."""
    prog(data, np.int32(few))  # warm: code, buffers
    return max(1e-9, (_wall(lambda: prog(data, np.int32(many))) - _wall(lambda: prog(data, np.int32(few))))
               / (many - few))


def _work(prog: Any, data: Any) -> tuple[float, float]:
    """(FLOPs, bytes) of one launch of ``prog``'s repeated kernel, by ``kern_cost``."""
    prog(data, np.int32(1), profile=True)
    kernels = prog.last_profile.kernels()
    return sum(k.flops for k in kernels), sum(k.bytes for k in kernels)


def _wall(call: Callable[[], Any], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def shares_host(target: str) -> bool:
    """Whether ``target``'s device computes on the host's own CPU cores: llvm; an
    OpenCL CPU device (PoCL's pthread device); a software GL renderer (llvmpipe)."""
    if target == "opencl":
        import pyopencl as cl

        from ccomp.runtime.devices.opencl import _pick_device
        return bool(_pick_device().type & cl.device_type.CPU)
    if target == "glsl":
        from ccomp.runtime.devices.gl import probe
        return any(name in probe()[1].lower() for name in ("llvmpipe", "softpipe", "swrast", "lavapipe"))
    return True


def measure(target: str, compile: Callable[[str, str], Any], device: str = "",
            shares_host: bool = True) -> DeviceProfile:
    """The profile of ``target``; ``compile(text, target)`` returns a callable program."""
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    bw = compile(BANDWIDTH, target)
    image = rng.random((1024, 1024), dtype=np.float32)
    bandwidth = _work(bw, image)[1] / _launch_seconds(bw, image, 2, 10) / 1e9

    st = compile(STENCIL, target)  # 512x512: at most 1 MiB, so llvm runs it unblocked, one step a launch
    plane = rng.random((512, 512), dtype=np.float32)
    stencil = _work(st, plane)[1] / _launch_seconds(st, plane, 4, 24) / 1e9

    fl = compile(_flops_program(), target)
    vec = rng.random((256, 256, 4), dtype=np.float32)
    gflops = _work(fl, vec)[0] / _launch_seconds(fl, vec, 2, 10) / 1e9

    lat = compile(LAUNCH, target)
    tiny = rng.random((8, 8), dtype=np.float32)
    launch = _launch_seconds(lat, tiny, 16, 256)

    transfer = None
    if target != HOST_TARGET:
        tr = compile(TRANSFER, target)
        image = rng.random((2048, 2048), dtype=np.float32)
        tr(image)
        moved = []
        for _ in range(3):
            tr(image, profile=True)
            moved.append(sum(r.total_s for r in tr.last_profile.transfers()))
        transfer = 2 * image.nbytes / min(moved) / 1e9
    log.info("measured %s in %.1f s", target, time.perf_counter() - start)
    return DeviceProfile(target, round(bandwidth, 3), round(gflops, 3), round(launch * 1e6, 3),
                         None if transfer is None else round(transfer, 3), device=device,
                         stencil_gbps=round(stencil, 3), shares_host=shares_host)


__all__ = ["measure", "shares_host"]
