"""The compilation pipeline: one xDSL pass-pipeline spec, cut into named stages.

``PIPELINE`` lists each IR stage with the passes (in the syntax of ``ccomp-opt -p``)
that lead to it from the stage before; ``TARGET_OPTIONS`` adds the options a target
needs, in the same syntax. Everything else is derived: ``--emit STAGE`` runs the
pipeline prefix up to that stage, and ``ccomp build --print-pipeline`` prints that
prefix as one spec, so ``ccomp build --emit kern`` and ``ccomp-opt -p <the spec>``
run the same passes (the MLIR Toy tutorial's driver works the same way). The spec is
parsed and instantiated by xDSL's own machinery (``PassPipeline.parse_spec``) from
the registry ``ccomp-opt`` uses too, rather than by hand.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass, PassPipeline
from xdsl.utils.arg_spec import ArgSpec, parse_pipeline

from ccomp.diagnostics import CompileError, PassError
from ccomp.dialects.context import make_context
from ccomp.dialects.contracts import verify_contracts
from ccomp.passes import get_all_passes

log = logging.getLogger(__name__)

STAGES = ("ast", "graph", "fused", "kern", "llvm", "opencl", "glsl")
"""Stages ``--emit`` accepts, in pipeline order. ``ast`` and ``graph`` come from the
frontend, the code stages ``llvm``/``opencl``/``glsl`` from that target's backend (each
implies its target); the passes between them are ``PIPELINE``."""

PIPELINE: tuple[tuple[str, str], ...] = (
    ("fused", "sparse-select-format,graph-fuse,graph-schedule"),
    ("kern", "actor-lower,snn-lower,sparse-lower,graph-to-kern,loop-pingpong,canonicalize,cse,temporal-block"),
)
"""Each IR stage after ``graph`` and the passes that lead to it from the stage before."""

TARGET_OPTIONS: dict[str, str] = {
    # OpenGL guarantees 8 shader storage blocks per compute shader; OpenCL and native
    # code have no small limit (graph-schedule's default, 0, means none).
    "glsl": "graph-schedule{max-bindings=8},temporal-block{k=0},snn-lower{event=targets}",
    # temporal blocking is verified bit-identical and pays on llvm; on OpenCL/GL a point
    # runs a whole band of tiles, too few points for a device, so it is off there
    "opencl": "temporal-block{k=0},snn-lower{event=targets}",
}
"""Per-target pass options, merged into the ``PIPELINE`` passes of the same name."""

TEMPORAL_BLOCK_ENV = "CCOMP_TEMPORAL_BLOCK"
"""Options of ``temporal-block`` for every target, e.g. ``k=0`` (off) or ``k=4 tile=64``:
how a benchmark compares with and without blocking (see ``passes/temporal_block.py``)."""

PassCallback = Callable[[str, ModuleOp], None]


@dataclass
class PassTiming:
    name: str
    seconds: float


def available_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Flag -> pass factory: xDSL's passes (``canonicalize``, ``cse``, ...) and ccomp's,
    as ``ccomp-opt -p`` knows them; each factory imports its pass on demand."""
    from xdsl.transforms import get_all_passes as xdsl_passes

    return {**xdsl_passes(), **get_all_passes()}


def stage_specs(target: str = "llvm", to_stage: str = "kern") -> list[tuple[str, str]]:
    """``(stage, spec)`` for each IR stage after ``graph`` up to ``to_stage``, with the
    options of ``target`` filled in (``llvm`` needs the same passes as ``kern``)."""
    last = min(STAGES.index(to_stage), STAGES.index("kern"))
    options = {p.name: p.parameters for p in parse_pipeline(TARGET_OPTIONS.get(target, ""))}
    if blocking := os.environ.get(TEMPORAL_BLOCK_ENV, "").strip():
        options["temporal-block"] = next(iter(parse_pipeline(f"temporal-block{{{blocking}}}"))).parameters
    specs = []
    for stage, spec in PIPELINE:
        if STAGES.index(stage) > last:
            break
        passes = (ArgSpec(p.name, {**p.parameters, **options.get(p.name, {})}) for p in parse_pipeline(spec))
        specs.append((stage, ",".join(str(p) for p in passes)))
    return specs


def pipeline_spec(target: str = "llvm", to_stage: str = "kern") -> str:
    """The passes from ``graph`` to ``to_stage`` for ``target`` as one spec ``ccomp-opt -p`` accepts."""
    return ",".join(spec for _, spec in stage_specs(target, to_stage) if spec)


def run_passes(module: ModuleOp, spec: str, after_pass: PassCallback | None = None,
               timings: list[PassTiming] | None = None) -> None:
    """Apply the passes of ``spec`` to ``module`` in order.

    The IR and the stage contracts are verified after each pass, because each pass
    assumes verified input (as ``xdsl-opt`` does); IR that does not verify is a
    compiler bug. A pass's :class:`PassError` becomes a located :class:`CompileError`.
    """
    start = time.perf_counter()

    def between(previous: ModulePass | None, module: ModuleOp, following: ModulePass | None) -> None:
        nonlocal start
        if previous is not None:
            try:
                module.verify()
                verify_contracts(module)
            except Exception as exc:
                raise CompileError(f"internal error: IR after {previous.name} does not verify: {exc}") from exc
            if timings is not None:
                timings.append(PassTiming(previous.name, time.perf_counter() - start))
            if after_pass is not None:
                after_pass(previous.name, module)
        start = time.perf_counter()

    pipeline = PassPipeline.parse_spec(available_passes(), spec, between)
    log.debug("running %s", spec)
    try:
        pipeline.apply(make_context(), module)
    except PassError as exc:
        raise exc.to_compile_error() from None


def lower(module: ModuleOp, to_stage: str, after_pass: PassCallback | None = None,
          timings: list[PassTiming] | None = None, target: str = "llvm") -> ModuleOp:
    """Lower an L1 module (stage ``graph``) in place up to IR stage ``to_stage``,
    with the limits of ``target``."""
    run_passes(module, pipeline_spec(target, to_stage), after_pass, timings)
    return module
