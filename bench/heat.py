"""Heat diffusion (examples/heat.cn: a 5-point stencil in a repeat zone) on a 1024x1024
float32 grid for 200 steps: ccomp on each target against whole-array NumPy and a
Numba ``parallel=True`` loop, in one process.

    python bench/heat.py [--size 1024] [--steps 200] [--targets llvm,opencl,glsl]

Prints compile times, each target's per-call breakdown, throughput in Gcell/s (grid
cells x steps per second) and the ratio of each contender to Numba. ccomp launches one
kernel per step from its host loop, so the fixed cost of a launch is measured too: the
same program on an 8x8 grid, where the kernel itself costs next to nothing. Every
contender is checked against NumPy before anything is timed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import best_time, timed  # noqa: E402

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


def report(rows: list[tuple[str, float, float]], baseline: str) -> None:
    """bench/common.py's table with three decimals: rates here are a few Gcell/s."""
    base = dict((r[0], r[1]) for r in rows)[baseline]
    print(f"{'contender':28} {'time (ms)':>10} {'Gcell/s':>10} {'vs ' + baseline:>18}")
    for name, seconds, rate in rows:
        print(f"{name:28} {seconds * 1e3:10.1f} {rate:10.3f} {base / seconds:17.2f}x")


def launch_overhead(prog, steps: int) -> float:
    """Seconds per launch of the host loop on an 8x8 grid: dispatch and bookkeeping,
    with next to no kernel work."""
    tiny = np.random.default_rng(1).random((8, 8), dtype=np.float32)
    best_time(lambda: prog(u0=tiny, steps=steps), repeat=5, warmup=1)
    return prog.timings["run"] / max(len(prog.launches), 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--targets", default="llvm,opencl,glsl")
    args = ap.parse_args()
    import ccomp

    n, steps = args.size, args.steps
    u0 = np.random.default_rng(0).random((n, n), dtype=np.float32)
    gcells = n * n * steps / 1e9

    progs, compile_s = {}, {}
    for target in args.targets.split(","):
        try:
            progs[target], compile_s[target] = timed(
                lambda: ccomp.compile(ROOT / "examples" / "heat.cn", target=target, cache=False))
        except ccomp.CompileError as exc:
            print(f"skipping {target}: {exc}")
    heat_nb, numba_compile_s = timed(make_numba_heat)
    out_nb, first_call = timed(lambda: heat_nb(u0, steps))

    ref = numpy_heat(u0, steps)
    for name, got in [("numba", out_nb)] + [(f"ccomp {t}", p(u0=u0, steps=steps)) for t, p in progs.items()]:
        err = float(np.abs(got - ref).max())
        if err > 1e-4:  # float32 sums in a different order (or contracted) over 200 steps
            raise SystemExit(f"{name} disagrees with NumPy: max abs error {err}")

    rows, notes = [], []
    for target, prog in progs.items():
        t = best_time(lambda: prog(u0=u0, steps=steps), repeat=5)
        launches, timings = len(prog.launches), prog.timings
        split = ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in timings.items())
        overhead = launch_overhead(prog, steps)
        notes.append(f"  {target:7} compile {compile_s[target] * 1e3:5.0f} ms (backend "
                     f"{prog.backend_seconds * 1e3:4.0f} ms) | last call: {split} | {launches} launches, "
                     f"{timings['run'] / launches * 1e6:7.1f} us each at {n}x{n}, "
                     f"{overhead * 1e6:5.1f} us each at 8x8")
        rows.append((f"ccomp ({target})", t, gcells / t))
    t_numba = best_time(lambda: heat_nb(u0, steps), repeat=5)
    t_numpy = best_time(lambda: numpy_heat(u0, steps), repeat=3, warmup=1)
    rows += [("numba parallel", t_numba, gcells / t_numba), ("numpy whole-array", t_numpy, gcells / t_numpy)]

    print(f"heat {n}x{n} f32, {steps} steps — numba compile + first call "
          f"{(numba_compile_s + first_call) * 1e3:.0f} ms")
    print("ccomp per target (one kernel launch per step):")
    print("\n".join(notes))
    report(rows, "numba parallel")


if __name__ == "__main__":
    main()
