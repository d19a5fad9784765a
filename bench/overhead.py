"""Fixed costs of calling ccomp on the llvm target against a Numba equivalent, in one
process: what a call costs when the work itself is next to nothing (8x8 images).

    python bench/overhead.py [--calls 20000]

Rows (microseconds per call, best of five rounds):
  * a trivial program — one kernel over an 8x8 image (``a * 2.0``), inputs checked,
    output allocated — against an ``@njit`` function doing the same;
  * 100 launches — examples/heat.cn with ``steps=100`` on 8x8 (one launch per step
    from the native host loop) against a jitted loop of 100 jitted stencil steps;
  * one launch — the difference between 101 and 1 steps, divided by 100: what one
    more launch inside a program costs; the same difference for Numba;
  * the Python host (``CCOMP_NATIVE_HOST=0``), for the same three rows, to show what the
    native host changed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from heat import make_numba_heat  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TRIVIAL = "graph triv(a: image<f32>) -> image<f32> { return a * 2.0 }"


def per_call(fn: Callable[[], object], calls: int, rounds: int = 5) -> float:
    """Best of ``rounds`` mean times over ``calls`` calls, in microseconds."""
    for _ in range(min(calls, 200)):
        fn()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e6


def ccomp_rows(calls: int, native: bool) -> dict[str, float]:
    import ccomp

    os.environ["CCOMP_NATIVE_HOST"] = "1" if native else "0"
    triv = ccomp.compile(TRIVIAL, target="llvm", cache=False)
    heat = ccomp.compile((ROOT / "examples" / "heat.cn").read_text(), target="llvm", cache=False)
    a = np.random.default_rng(0).random((8, 8), dtype=np.float32)
    one = per_call(lambda: heat(u0=a, steps=1), calls // 10)
    many = per_call(lambda: heat(u0=a, steps=101), calls // 100)
    return {"trivial program": per_call(lambda: triv(a), calls),
            "100 launches": per_call(lambda: heat(u0=a, steps=100), calls // 100),
            "one launch": (many - one) / 100}


def numba_rows(calls: int) -> dict[str, float]:
    import numba

    @numba.njit
    def triv(a):
        return a * np.float32(2.0)

    heat = make_numba_heat()  # parallel=True steps, as bench/heat.py runs them
    a = np.random.default_rng(0).random((8, 8), dtype=np.float32)
    triv(a)
    heat(a, 1)
    one = per_call(lambda: heat(a, 1), calls // 10)
    many = per_call(lambda: heat(a, 101), calls // 100)
    return {"trivial program": per_call(lambda: triv(a), calls),
            "100 launches": per_call(lambda: heat(a, 100), calls // 100),
            "one launch": (many - one) / 100}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=20000)
    args = ap.parse_args()
    native, python, nb = ccomp_rows(args.calls, True), ccomp_rows(args.calls, False), numba_rows(args.calls)
    print(f"per-call overhead on 8x8 (us), llvm target, {os.cpu_count()} cores")
    print(f"{'':18} {'ccomp native host':>18} {'ccomp Python host':>18} {'numba':>10} {'native / numba':>15}")
    for row in native:
        print(f"{row:18} {native[row]:18.2f} {python[row]:18.2f} {nb[row]:10.2f} {native[row] / nb[row]:14.2f}x")


if __name__ == "__main__":
    main()
