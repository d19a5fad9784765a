"""Shared helpers for the benchmarks: best-of-N wall time in one process, and the
frame of the image benchmarks (edges, tonemap) that set ccomp against Numba and NumPy."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def best_time(fn: Callable[[], object], repeat: int = 7, warmup: int = 2) -> float:
    """The fastest of ``repeat`` runs after ``warmup`` runs, in seconds."""
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def report(rows: list[tuple[str, float, float]], unit: str, baseline: str) -> None:
    """Print one line per contender: seconds, throughput in ``unit`` and ratio to ``baseline``."""
    base = dict((r[0], r[1]) for r in rows)[baseline]
    print(f"{'contender':28} {'time (ms)':>10} {unit:>12} {'vs ' + baseline:>14}")
    for name, seconds, rate in rows:
        print(f"{name:28} {seconds * 1e3:10.2f} {rate:12.1f} {base / seconds:13.2f}x")



def image_args(doc: str) -> argparse.Namespace:
    """The options of an image benchmark (``--size``, ``--target``); the first line of
    ``doc`` (the script's docstring) describes it."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--target", default="llvm")
    return ap.parse_args()


def compile_example(program: str, target: str) -> tuple[Any, float]:
    """``examples/<program>.cn`` compiled for ``target``, and the seconds it took."""
    import ccomp

    return timed(lambda: ccomp.compile(ROOT / "examples" / f"{program}.cn", target=target))


def report_versus_numba(title: str, target: str, prog: Any, compile_s: float, numba_compile_s: float,
                        megapixels: float, times: tuple[float, float, float], per_call: bool = False) -> None:
    """The compile line and the table of an image benchmark: ``times`` are the best
    seconds of ccomp, Numba and NumPy; ``per_call`` also prints ccomp's last call split
    into its phases."""
    print(f"{title} — compile: ccomp {compile_s * 1e3:.0f} ms "
          f"(+ backend {prog.backend_seconds * 1e3:.0f} ms), numba {numba_compile_s * 1e3:.0f} ms")
    if per_call:
        print("ccomp per call: " + ", ".join(f"{k} {v * 1e3:.2f} ms" for k, v in prog.timings.items()))
    names = (f"ccomp ({target})", "numba parallel", "numpy stage-by-stage")
    report([(name, t, megapixels / t) for name, t in zip(names, times)], "MP/s", "numba parallel")
