"""The ordered compilation stages and the pass pipeline between them.

``--emit STAGE`` prints the IR at one stage; each stage is the pipeline prefix up
to that point, so ``ccomp build --emit kern`` and ``ccomp-opt -p <the same passes>``
run the same code (the MLIR Toy tutorial's driver works the same way).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.transforms.canonicalize import CanonicalizePass
from xdsl.transforms.common_subexpression_elimination import CommonSubexpressionElimination

from ccomp.diagnostics import CompileError
from ccomp.dialects.context import make_context
from ccomp.dialects.contracts import verify_contracts
from ccomp.passes import get_all_passes

log = logging.getLogger(__name__)

STAGES = ("ast", "graph", "fused", "kern", "llvm")
"""Stages ``--emit`` accepts, in pipeline order."""

# The passes that lead from one IR stage to the next.
STAGE_PASSES: dict[str, tuple[str, ...]] = {
    "fused": ("sparse-select-format", "graph-fuse", "graph-schedule"),
    "kern": ("sparse-lower", "graph-to-kern", "loop-pingpong", "canonicalize", "cse"),
}

PassCallback = Callable[[str, ModuleOp], None]

# Buffers one kernel may bind, per target (0: no limit). OpenGL guarantees 8 shader
# storage blocks per compute shader; OpenCL and native code have no small limit.
MAX_BINDINGS = {"glsl": 8, "opencl": 0, "llvm": 0}


def make_pass(flag: str, target: str = "llvm") -> ModulePass:
    if flag == "canonicalize":
        return CanonicalizePass()
    if flag == "cse":
        return CommonSubexpressionElimination()
    cls = get_all_passes()[flag]()
    if flag == "graph-schedule":
        return cls(max_bindings=MAX_BINDINGS.get(target, 0))
    return cls()


@dataclass
class PassTiming:
    name: str
    seconds: float


def run_passes(module: ModuleOp, flags: tuple[str, ...], after_pass: PassCallback | None = None,
               timings: list[PassTiming] | None = None, target: str = "llvm") -> None:
    """Apply ``flags`` in order, verifying after each (passes assume verified input)."""
    ctx = make_context()
    for flag in flags:
        start = time.perf_counter()
        make_pass(flag, target).apply(ctx, module)
        try:
            module.verify()
            verify_contracts(module)
        except Exception as exc:
            raise CompileError(f"internal error: IR after {flag} does not verify: {exc}") from exc
        if timings is not None:
            timings.append(PassTiming(flag, time.perf_counter() - start))
        if after_pass is not None:
            after_pass(flag, module)


def lower(module: ModuleOp, to_stage: str, after_pass: PassCallback | None = None,
          timings: list[PassTiming] | None = None, target: str = "llvm") -> ModuleOp:
    """Lower an L1 module (stage ``graph``) in place up to IR stage ``to_stage``,
    with the limits of ``target``."""
    for stage in STAGES[STAGES.index("graph") + 1 : STAGES.index(to_stage) + 1]:
        if stage in STAGE_PASSES:
            run_passes(module, STAGE_PASSES[stage], after_pass, timings, target)
    return module
