"""What reading a build folder as untrusted input costs (issue 15): the time of
``read_build`` (schema, confined reads, consistency checks, launch guard), the run-time
checks it inserts, and a program call from a loaded build against the same program
compiled in memory (which has no inserted checks).

    python bench/build_trust.py [--targets llvm opencl] [--steps 2000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, best_time  # noqa: E402

import ccomp.api  # noqa: E402
from ccomp.diagnostics import Source  # noqa: E402
from ccomp.runtime.build import module_text, read_build, write_build  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--targets", nargs="+", default=["llvm", "opencl"])
    p.add_argument("--steps", type=int, default=2000, help="heat steps per call")
    args = p.parse_args()
    u = np.random.default_rng(0).random((64, 64), dtype=np.float32)
    calls = {"heat": {"u0": u, "steps": args.steps}, "pyramid": {"src": u, "levels": 6}}
    print(f"{'program':10} {'target':7} {'read_build ms':>14} {'checks':>7} {'in memory ms':>13} {'loaded ms':>10}")
    for name, inputs in calls.items():
        source = Source((ROOT / "examples" / f"{name}.cn").read_text(), f"{name}.cn")
        for target in args.targets:
            build = ccomp.api.build_program(source, target)
            with tempfile.TemporaryDirectory() as folder:
                write_build(build, Path(folder))
                load = best_time(lambda: read_build(Path(folder)), repeat=5, warmup=1)
                loaded = read_build(Path(folder))
            checks = module_text(loaded.module).count("build check")
            memory_prog, loaded_prog = ccomp.api.Program(build), ccomp.api.Program(loaded)
            memory = best_time(lambda: memory_prog(**inputs), repeat=5)
            from_disk = best_time(lambda: loaded_prog(**inputs), repeat=5)
            print(f"{name:10} {target:7} {load * 1e3:14.1f} {checks:7d} {memory * 1e3:13.2f} {from_disk * 1e3:10.2f}")


if __name__ == "__main__":
    main()
