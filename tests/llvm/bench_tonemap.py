"""Benchmark: the tonemap-like kernel on the LLVM device vs a fused Numba kernel.

Run ``python tests/llvm/bench_tonemap.py [size]``; prints megapixels per second for both.
Not collected by pytest (no ``test_`` prefix): timings belong in reports, not asserts.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from tonemap import TONEMAP_IR, make_numba_tonemap, tonemap_numpy  # noqa: E402

from ccomp.ir import parse_module  # noqa: E402
from ccomp.runtime.llvm import LLVMDevice  # noqa: E402

log = logging.getLogger("bench_tonemap")


def best_of(fn, repeats: int = 15) -> float:
    """The fastest of ``repeats`` timed runs, in seconds (after one warm-up run)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(size: int = 2048) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rng = np.random.default_rng(0)
    src = rng.random((size, size, 4), dtype=np.float32)
    gain, bias = 1.3, -0.1
    module = parse_module(TONEMAP_IR)
    device = LLVMDevice()
    device.prepare(module)
    memref = module.body.block.first_op.body.block.args[0].type
    buf, out = device.upload(memref, src), device.alloc(memref, (size, size))
    t_llvm = best_of(lambda: device.launch("tonemap", (size, size), [buf, out, gain, bias]))
    ref = tonemap_numpy(src, gain, bias)
    err = float(np.abs(device.download(out) - ref).max())
    numba_fn = make_numba_tonemap()
    out_nb = np.empty_like(src)
    t_numba = best_of(lambda: numba_fn(src, out_nb, np.float32(gain), np.float32(bias)))
    err_nb = float(np.abs(out_nb - ref).max())
    mp = size * size / 1e6
    log.info("size %dx%d, %d threads", size, size, device.threads)
    log.info("llvm : %.2f ms  %.0f MP/s  (max err %.2e)", t_llvm * 1e3, mp / t_llvm, err)
    log.info("numba: %.2f ms  %.0f MP/s  (max err %.2e)", t_numba * 1e3, mp / t_numba, err_nb)
    log.info("ratio llvm/numba: %.2fx", t_numba / t_llvm)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2048)
