"""``-t auto`` against every single target, in one process: does placing kernels by
measured device profiles ever cost more than picking the best target by hand?

    python bench/auto.py [--size 1024] [--steps 200] [--rows 200000] [--repeat 5]
                         [--programs tonemap,heat,spmv] [--profiles FILE]

For tonemap (a size x size vec4 image), heat (size x size f32, ``--steps`` steps) and
spmv (a ``--rows`` square csr matrix with 10 entries a row): the best end-to-end call
time (upload, run, download) of ccomp on llvm, opencl, glsl and auto, measured
round-robin so that the shared machine's load falls on all of them alike, and auto's
ratio to the best single target (the target is at most 1.10). Every output is checked
against llvm's first. ``auto`` places by this machine's stored profiles
(``ccomp devices --measure``, run here first when there are none) or ``--profiles``;
the placement of each program is printed.
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
from common import ROOT  # noqa: E402

TARGETS = ("llvm", "opencl", "glsl", "auto")


def inputs(program: str, args: argparse.Namespace) -> list:
    rng = np.random.default_rng(0)
    if program == "tonemap":
        return [rng.random((args.size, args.size, 4), dtype=np.float32), np.float32(1.5)]
    if program == "heat":
        return [rng.random((args.size, args.size), dtype=np.float32), np.int32(args.steps)]
    import scipy.sparse as sp

    n, per_row = args.rows, 10
    cols = rng.integers(0, n, size=n * per_row).astype(np.int32)
    indptr = np.arange(0, n * per_row + 1, per_row, dtype=np.int32)
    a = sp.csr_matrix((rng.random(n * per_row, dtype=np.float32), cols, indptr), shape=(n, n))
    a.sum_duplicates()
    a.indices, a.indptr = a.indices.astype(np.int32), a.indptr.astype(np.int32)
    return [a, rng.random(n, dtype=np.float32)]


def placement(prog: object) -> str:
    module = prog.build.module  # type: ignore[attr-defined]
    placed = [(op.kernel_name, op.attributes["device"].data) for op in module.walk()
              if op.name == "kern.launch" and "device" in op.attributes]
    return ", ".join(f"{k} on {d}" for k, d in placed) or "llvm (no profiles)"


def round_robin(calls: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Best seconds of each call over ``repeat`` rounds, one call of each per round."""
    best = {name: float("inf") for name in calls}
    for _ in range(repeat):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--programs", default="tonemap,heat,spmv")
    ap.add_argument("--profiles", help="device profiles to place by (default: this machine's, measured)")
    args = ap.parse_args()
    import ccomp
    from ccomp.driver import devices_cli

    if args.profiles:
        os.environ[devices_cli.ENV] = args.profiles
    profiles, where = devices_cli.resolve()
    if profiles is None:
        print("no device profiles yet: measuring them (ccomp devices --measure)")
        devices_cli.run(argparse.Namespace(measure=True, target=[], profiles=None))
        profiles, where = devices_cli.resolve()
    print(f"profiles: {where}")
    for name, p in (profiles or {}).items():
        transfer = "host memory" if p.transfer_gbps is None else f"{p.transfer_gbps:.2f} GB/s transfers"
        stencil = f"{p.stencil_gbps:7.2f}" if p.stencil_gbps else "      -"
        print(f"  {name:7} {p.bandwidth_gbps:7.2f} GB/s (stencil {stencil})  {p.gflops:7.2f} GFLOP/s  "
              f"{p.launch_us:7.2f} us/launch  {transfer}")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores\n")
    print(f"{'program':9} {'llvm ms':>9} {'opencl ms':>10} {'glsl ms':>9} {'auto ms':>9} {'auto/best':>10}  placement")
    worst = 0.0
    for program in args.programs.split(","):
        data = inputs(program, args)
        progs = {t: ccomp.compile(ROOT / "examples" / f"{program}.cn", target=t) for t in TARGETS}
        want = progs["llvm"](*data)
        for t, prog in progs.items():
            np.testing.assert_allclose(prog(*data), want, rtol=1e-4, atol=1e-4, err_msg=f"{program} on {t}")
        best = round_robin({t: (lambda p=prog: p(*data)) for t, prog in progs.items()}, args.repeat)
        single = min(best[t] for t in TARGETS if t != "auto")
        ratio = best["auto"] / single
        worst = max(worst, ratio)
        cells = " ".join(f"{best[t] * 1e3:{w}.2f}" for t, w in zip(TARGETS, (9, 10, 9, 9)))
        print(f"{program:9} {cells} {ratio:10.2f}  {placement(progs['auto'])}")
    print(f"\nauto is at most {worst:.2f}x the best single target (target: 1.10)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
