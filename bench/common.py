"""Shared timing helpers for the benchmarks: best-of-N wall time, one process."""

from __future__ import annotations

import time
from collections.abc import Callable


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

