"""``-t auto``: compile for the targets the ``partition-devices`` pass picks.

The program is lowered with the llvm pipeline (the only one that makes llvm-only
kernels, which the pass then keeps on llvm) followed by ``partition-devices`` against
this machine's measured profiles (``ccomp devices --measure``) or injected ones
(``CCOMP_DEVICE_PROFILES``, ``--profiles``). Without profiles, ``auto`` is llvm, as it
always was.

* Every kernel on llvm: an ordinary llvm build, run by the native host, cached like
  any build (the profiles' digest is part of its key).
* A mixed placement: code for each target used, from a copy of the module holding
  only that target's kernels, run by the Python host over a ``MixedDevice``
  (``runtime/devices/mixed.py``), which migrates buffers between devices. Such builds
  are in memory only (not cached, not written as build folders).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, StringAttr

from ccomp.diagnostics import Source
from ccomp.dialects import kern
from ccomp.runtime.devices.mixed import MIXED, only_kernels_of

log = logging.getLogger(__name__)


def placement_spec(profiles_path: str) -> str:
    """The pass that places kernels, as ``ccomp-opt -p`` takes it."""
    return f'partition-devices{{profiles="{profiles_path}"}}'


def devices_of(module: ModuleOp) -> set[str]:
    """The targets the placed schedule of ``module`` launches on."""
    return {op.attributes["device"].data for op in module.walk()  # type: ignore[union-attr]
            if isinstance(op, kern.LaunchOp) and isinstance(op.attributes.get("device"), StringAttr)}


def compile_auto(read: Callable[[], Source], function: str | None, cache: bool, budget: int) -> object:
    """A :class:`ccomp.api.Program` of the source ``read`` returns, placed by profiles."""
    from ccomp.api import Program, build_from_kern, get_build, param_locations
    from ccomp.driver import cache as build_cache
    from ccomp.driver.devices_cli import resolve
    from ccomp.driver.pipeline import lower, run_passes
    from ccomp.frontend import lower_to_l1
    from ccomp.runtime.build import Build

    start = time.perf_counter()
    profiles, where = resolve()
    source = read()
    if profiles is None:
        log.info("auto: %s; running on llvm", where)
        build, cached = get_build(source, "llvm", function, cache)
        return Program(build, time.perf_counter() - start, cached, budget)
    digest = hashlib.sha256(Path(where).read_bytes()).hexdigest()[:16]
    key = build_cache.cache_key(source.text, "llvm", function, options=f"partition-devices:{digest}")
    build = build_cache.lookup(key) if cache else None
    if build is not None:  # only all-llvm placements are stored
        return Program(build, time.perf_counter() - start, True, budget)
    module = lower(lower_to_l1(source), "kern", target="llvm")
    run_passes(module, placement_spec(where))
    targets = devices_of(module)
    log.info("auto: kernels placed on %s (profiles %s)", ", ".join(sorted(targets)) or "nothing", where)
    if targets <= {"llvm"}:
        build = build_from_kern(source, module, "llvm", function)
        if cache:
            build_cache.store(key, build)
        return Program(build, time.perf_counter() - start, False, budget)
    from ccomp.api import generate

    names = [op.sym_name.data for op in module.body.block.ops if isinstance(op, func.FuncOp)]
    function = function or names[-1]
    codes = {t: generate(only_kernels_of(module, t), t) for t in sorted(targets)}
    build = Build(source, MIXED, module, function, param_locations(source, function), sources=codes)
    return Program(build, time.perf_counter() - start, False, budget)




def build_command(args: object) -> int | None:
    """``ccomp build -t auto``: ``--print-pipeline`` prints the llvm pipeline followed
    by the placement pass (with the profiles it would use), ``--emit kern`` the placed
    schedule. Anything else (a build folder, the code stages) is llvm's, returned as
    None for the ordinary path."""
    from ccomp.api import load_source
    from ccomp.driver.devices_cli import resolve
    from ccomp.driver.pipeline import lower, pipeline_spec, run_passes
    from ccomp.frontend import lower_to_l1

    emit = getattr(args, "emit", None)
    if not getattr(args, "print_pipeline", False) and emit != "kern":
        return None
    profiles, where = resolve()
    if getattr(args, "print_pipeline", False):
        if emit not in (None, "kern"):
            return None
        spec = pipeline_spec("llvm", "kern")
        print(spec + ("," + placement_spec(where) if profiles is not None else ""))
        return 0
    module = lower(lower_to_l1(load_source(Path(args.file))), "kern", target="llvm")  # type: ignore[attr-defined]
    if profiles is not None:
        run_passes(module, placement_spec(where))
    print(str(module))
    return 0


__all__ = ["build_command", "compile_auto", "devices_of", "placement_spec"]
