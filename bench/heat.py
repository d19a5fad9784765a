"""Heat diffusion (examples/heat.cn: a 5-point stencil in a repeat zone) on a 1024x1024
float32 grid for 200 steps: ccomp on each target against whole-array NumPy and a
Numba ``parallel=True`` loop, in one process.

    python bench/heat.py [--size 1024] [--steps 200] [--targets llvm,opencl,glsl]

Prints compile times, each target's per-call breakdown, throughput in Gcell/s (grid
cells x steps per second) and the ratio of each contender to Numba. "ccomp (llvm,
temporal blocking)" is llvm with ``temporal-block`` (k steps per launch over cached
tiles, ``--blocking`` to force options); the other ccomp contenders forbid it, so they
launch one kernel per step from the host loop, so the fixed cost of a launch is measured too: the
same program on an 8x8 grid, where the kernel itself costs next to nothing. Every
contender is checked against NumPy before anything is timed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import timed  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ALPHA = np.float32(0.2)
FOUR = np.float32(4.0)


def numpy_heat(u0: np.ndarray, steps: int) -> np.ndarray:
    """What a NumPy user writes: pad the edges (clamped reads), slice the four
    neighbours, one whole-array expression per step."""
    u = u0
    for _ in range(steps):
        p = np.pad(u, 1, mode="edge")
        u = u + ALPHA * (p[1:-1, :-2] + p[1:-1, 2:] + p[:-2, 1:-1] + p[2:, 1:-1] - FOUR * u)
    return u


def make_numba_heat():
    """Written the way that vectorises: rows in parallel, a contiguous inner loop over
    the interior columns with no clamping in it, the two edge columns outside it. The
    time loop is jitted too (no Python call per step) and alternates two arrays, like
    ccomp's ping-pong. (Views of rows bound inside the ``prange`` body, or arrays
    swapped with ``a, b = b, a`` in the jitted loop, gave wrong results with Numba
    0.68, hence the plain 2-D indexing and the explicit alternation.)"""
    import numba

    @numba.njit(inline="always")
    def cell(left, mid, right, up, down):
        return mid + ALPHA * (left + right + up + down - FOUR * mid)

    @numba.njit(parallel=True, fastmath=False)
    def step(src, dst):
        h, w = src.shape
        for y in numba.prange(h):
            ym, yp = max(y - 1, 0), min(y + 1, h - 1)
            if w == 1:
                dst[y, 0] = cell(src[y, 0], src[y, 0], src[y, 0], src[ym, 0], src[yp, 0])
                continue
            dst[y, 0] = cell(src[y, 0], src[y, 0], src[y, 1], src[ym, 0], src[yp, 0])
            for x in range(1, w - 1):
                dst[y, x] = cell(src[y, x - 1], src[y, x], src[y, x + 1], src[ym, x], src[yp, x])
            dst[y, w - 1] = cell(src[y, w - 2], src[y, w - 1], src[y, w - 1], src[ym, w - 1], src[yp, w - 1])

    @numba.njit
    def heat(u0, steps):
        a = u0.copy()
        b = np.empty_like(u0)
        for t in range(steps):
            if t % 2 == 0:
                step(a, b)
            else:
                step(b, a)
        return a if steps % 2 == 0 else b

    return heat


def interleaved(contenders: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Seconds per call of each contender, timed in turn round after round, so that a
    busy spell on a shared machine lands on all of them rather than on one."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            times[name].append(timed(fn)[1])
    return times


def report(times: dict[str, list[float]], gcells: float, baseline: str) -> None:
    """bench/common.py's table with the median beside the fastest (how noisy the runs
    were) and three decimals: rates here are a few Gcell/s."""
    base = min(times[baseline])
    print(f"{'contender':32} {'best (ms)':>10} {'median (ms)':>12} {'Gcell/s':>9} {'vs ' + baseline:>18}")
    for name, runs in times.items():
        best, median = min(runs), sorted(runs)[len(runs) // 2]
        print(f"{name:32} {best * 1e3:10.1f} {median * 1e3:12.1f} {gcells / best:9.3f} {base / best:17.2f}x")


def per_launch(prog, u0: np.ndarray, steps: int, repeat: int = 5) -> float:
    """Fastest host-loop time per launch (``prog.timings['run']`` over the launches)."""
    best = float("inf")
    for _ in range(repeat):
        prog(u0=u0, steps=steps)
        best = min(best, prog.timings["run"] / max(len(prog.launches), 1))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--targets", default="llvm,opencl,glsl")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--blocking", default="", help='temporal-block options for the blocked llvm contender, '
                    'e.g. "k=8 tile=256" (default: the pass\'s cost rule)')
    args = ap.parse_args()
    import ccomp

    n, steps = args.size, args.steps
    u0 = np.random.default_rng(0).random((n, n), dtype=np.float32)
    tiny = np.random.default_rng(1).random((8, 8), dtype=np.float32)

    progs, compile_s = {}, {}
    runs = [(t, t, "k=0") for t in args.targets.split(",")]  # each target one step per launch
    if "llvm" in args.targets.split(","):  # and llvm with temporal-block's cost rule (or --blocking)
        runs.append(("llvm, temporal blocking", "llvm", args.blocking or "k=-1"))
    for name, target, blocking in runs:
        os.environ["CCOMP_TEMPORAL_BLOCK"] = blocking  # a pass option; the build cache does not key on it
        try:
            progs[name], compile_s[name] = timed(
                lambda: ccomp.compile(ROOT / "examples" / "heat.cn", target=target, cache=False))
        except ccomp.CompileError as exc:
            print(f"skipping {name}: {exc}")
    os.environ.pop("CCOMP_TEMPORAL_BLOCK")
    heat_nb, numba_compile_s = timed(make_numba_heat)
    out_nb, first_call = timed(lambda: heat_nb(u0, steps))

    ref = numpy_heat(u0, steps)
    for name, got in [("numba", out_nb)] + [(f"ccomp {t}", p(u0=u0, steps=steps)) for t, p in progs.items()]:
        err = float(np.abs(got - ref).max())
        if err > 1e-4:  # float32 sums in a different order (or contracted) over 200 steps
            raise SystemExit(f"{name} disagrees with NumPy: max abs error {err}")

    contenders = {f"ccomp ({t})": (lambda p=p: p(u0=u0, steps=steps)) for t, p in progs.items()}
    contenders["numba parallel"] = lambda: heat_nb(u0, steps)
    contenders["numpy whole-array"] = lambda: numpy_heat(u0, steps)
    times = interleaved(contenders, args.rounds)

    print(f"heat {n}x{n} f32, {steps} steps — numba compile + first call "
          f"{(numba_compile_s + first_call) * 1e3:.0f} ms")
    print("ccomp: one kernel launch per step; host-loop time per launch at full size and at 8x8 "
          "(where it is all overhead):")
    for target, prog in progs.items():
        big, small = per_launch(prog, u0, steps, repeat=2), per_launch(prog, tiny, steps)
        split = ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in prog.timings.items())
        print(f"  {target:7} compile {compile_s[target] * 1e3:5.0f} ms (backend {prog.backend_seconds * 1e3:4.0f} ms)"
              f" | {len(prog.launches)} launches | {big * 1e6:8.1f} us/launch at {n}x{n}, "
              f"{small * 1e6:6.1f} us/launch at 8x8 (last call: {split})")
    report(times, n * n * steps / 1e9, "numba parallel")


if __name__ == "__main__":
    main()
