"""``ccomp.actors.load(..., runtime="ray")``: the face's half of actors on Ray.

The program is compiled here (for its message types, actors and pipelines, and so a
mistake is a located error before any process starts) and again in each stage
process from the same text; the runtime gets ``compile_actor_program`` to do that,
since it may not import the compiler itself.
"""

from __future__ import annotations

import os
from pathlib import Path

from ccomp.diagnostics import CompileError
from ccomp.driver.actors import compile_actor_program
from ccomp.runtime.scaleout.ray_actors import RayActorRuntime


def load_on_ray(src_or_path: object, target: str = "llvm", filename: str | None = None,
                address: str | None = None) -> RayActorRuntime:
    """A :class:`RayActorRuntime` for a ``.cn`` path or program text (Ray connected
    already, or started here; ``address`` joins a cluster)."""
    from ccomp.frontend.text import looks_like_path
    from ccomp.runtime.scaleout.ray_env import ensure

    if isinstance(src_or_path, os.PathLike) or (isinstance(src_or_path, str) and looks_like_path(src_or_path)
                                                 and Path(src_or_path).is_file()):
        path = Path(src_or_path)
        text, name = path.read_text(), filename or str(path)
    elif isinstance(src_or_path, str):
        text, name = src_or_path, filename or "<string>"
    else:
        raise CompileError("runtime='ray' compiles the program in each stage process: give its .cn path or text, "
                           f"not a {type(src_or_path).__name__}")
    program = compile_actor_program(text, target, filename=name)
    ensure(address)
    return RayActorRuntime(program, compile_actor_program, text)
