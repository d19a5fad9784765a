"""``ccomp.map``: run one compiled program over many inputs, here or on Ray.

    result = ccomp.map(prog, [{"src": a}, {"src": b}], runtime="ray")
    result.results[0], result.failures, print(result.summary())

The program is compiled once (by the caller, or here from a path); on Ray its build
folder is written once, shipped as bytes and loaded once per worker process
(:mod:`ccomp.runtime.scaleout.batch`). This module is the face's half: it may compile
and hands the runtime ``ccomp.api.load`` as the loader.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

from ccomp.diagnostics import CompileError
from ccomp.runtime.scaleout.batch import MapResult, Report, map_local, map_ray, pack_folder

RUNTIMES = ("local", "ray")


def _program(prog: Any, target: str) -> Any:
    from ccomp.api import Program, compile_file, load

    if isinstance(prog, Program):
        return prog
    if isinstance(prog, (str, os.PathLike)):
        path = Path(prog)
        if path.is_dir():
            return load(path)
        return compile_file(path, target=target)
    raise CompileError(f"ccomp.map takes a Program, a .cn file or a build folder, not {type(prog).__name__}")


def archive_of(prog: Any) -> bytes:
    """The program's build folder as bytes (written once, to a temporary folder)."""
    from ccomp.runtime.build import write_build

    with tempfile.TemporaryDirectory(prefix="ccomp-ship-") as tmp:
        write_build(prog.build, Path(tmp) / "build")
        return pack_folder(Path(tmp) / "build")


def map_program(prog: Any, inputs: Iterable[dict], runtime: str = "local", *, target: str = "llvm",
                address: str | None = None, chunk_size: int | None = None,
                progress: Report | None = None) -> MapResult:
    """Run ``prog`` (a :class:`ccomp.Program`, a ``.cn`` path or a build folder) on each
    dict of keyword inputs in ``inputs``. ``runtime`` ``"local"`` runs them here one by
    one; ``"ray"`` as Ray tasks (Ray connected already, or started here; ``address``
    joins a cluster), ``chunk_size`` items per task (default: about four tasks per
    CPU). ``progress(done, total)`` is called as items finish. A failing item does not
    stop the run: see ``MapResult.failures`` and ``summary()``."""
    from ccomp.api import load

    if runtime not in RUNTIMES:
        raise CompileError(f"unknown runtime '{runtime}'; choose one of {', '.join(RUNTIMES)}")
    items = [dict(kw) for kw in inputs]
    bad = [i for i, kw in enumerate(items) if not all(isinstance(k, str) for k in kw)]
    if bad:
        raise CompileError(f"input {bad[0]} of ccomp.map is not a dict of input names to values")
    program = _program(prog, target)
    if runtime == "local":
        return map_local(program, items, progress)
    from ccomp.runtime.scaleout.ray_env import ensure, require_ray

    ray = require_ray()
    ensure(address)
    if chunk_size is None:
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        chunk_size = max(1, -(-len(items) // (4 * cpus)))
    return map_ray(archive_of(program), load, items, chunk_size, progress)
