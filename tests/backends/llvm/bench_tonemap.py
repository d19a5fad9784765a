"""Benchmark: the tonemap-like kernel on the LLVM device vs a fused Numba kernel.

Run ``python tests/llvm/bench_tonemap.py [size] [rounds]``; prints megapixels per
second for both, plus a plain copy kernel on the same buffers (the memory-bandwidth
floor any kernel that reads and writes the image once pays). Rounds interleave the
contenders and the best time of each is kept, which filters out other load on a
shared machine. Not collected by pytest (no ``test_`` prefix): timings belong in
reports, not asserts.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from llvm_tonemap import TONEMAP_IR, make_numba_tonemap, tonemap_numpy  # noqa: E402

from ccomp.api import prepare  # noqa: E402
from ccomp.dialects.context import parse_module  # noqa: E402
from ccomp.runtime.devices.llvm import LLVMDevice  # noqa: E402

log = logging.getLogger("bench_tonemap")

COPY_IR = """
kern.kernel @copy rank 2 {
^bb0(%src: memref<?x?xvector<4xf32>>, %out: memref<?x?xvector<4xf32>>):
  %x = kern.index 0
  %y = kern.index 1
  %v = memref.load %src[%y, %x] : memref<?x?xvector<4xf32>>
  memref.store %v, %out[%y, %x] : memref<?x?xvector<4xf32>>
  kern.yield
}
"""


def best_of(fn: Callable[[], object], repeats: int) -> float:
    """The fastest of ``repeats`` timed runs, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(size: int = 2048, rounds: int = 5) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rng = np.random.default_rng(0)
    src = rng.random((size, size, 4), dtype=np.float32)
    gain, bias = 1.3, -0.1
    device = LLVMDevice()
    module = parse_module(TONEMAP_IR + COPY_IR)
    prepare(device, module)
    memref = module.body.block.first_op.body.block.args[0].type
    buf, out = device.upload(memref, src), device.alloc(memref, (size, size))
    numba_fn, numba_fast = make_numba_tonemap(), make_numba_tonemap(fastmath=True)
    out_nb, out_fm = np.empty_like(src), np.empty_like(src)
    contenders = {
        "llvm": lambda: device.launch("tonemap", (size, size), [buf, out, gain, bias]),
        "numba": lambda: numba_fn(src, out_nb, np.float32(gain), np.float32(bias)),
        "numba-fastmath": lambda: numba_fast(src, out_fm, np.float32(gain), np.float32(bias)),
        "copy": lambda: device.launch("copy", (size, size), [buf, out]),
    }
    for fn in contenders.values():
        fn()  # warm-up (and Numba's compile)
    best = {name: float("inf") for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            best[name] = min(best[name], best_of(fn, 10))
    contenders["llvm"]()
    ref = tonemap_numpy(src, gain, bias)
    errors = {"llvm": float(np.abs(device.download(out) - ref).max()), "numba": float(np.abs(out_nb - ref).max()),
              "numba-fastmath": float(np.abs(out_fm - ref).max())}
    mp = size * size / 1e6
    log.info("size %dx%d vector<4xf32>, %d threads", size, size, device.threads)
    for name, t in best.items():
        err = f"  (max err {errors[name]:.1e})" if name in errors else "  (memory floor)"
        log.info("%-14s: %7.2f ms  %5.0f MP/s%s", name, t * 1e3, mp / t, err)
    log.info("llvm vs numba: %.2fx faster (vs numba fastmath: %.2fx)", best["numba"] / best["llvm"],
             best["numba-fastmath"] / best["llvm"])


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
