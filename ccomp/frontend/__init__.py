"""The ComputeNodes frontend: ``.cn`` text to the L1 ``graph`` dialect."""

from __future__ import annotations

from xdsl.dialects.builtin import ModuleOp

from ccomp.diagnostics import CompileError, Source, register_source
from ccomp.frontend import ast
from ccomp.frontend.graph.irgen import generate
from ccomp.frontend.parser import parse


def lower_to_l1(source: Source) -> ModuleOp:
    """Parse, check and generate L1 IR; errors are located :class:`CompileError`."""
    register_source(source)
    program = parse(source)
    module = generate(program, source)
    try:
        module.verify()
    except Exception as exc:  # a verifier failure here is a compiler bug, never user error
        raise CompileError(f"internal error: generated IR does not verify: {exc}") from exc
    return module


__all__ = ["lower_to_l1", "parse", "ast", "Source"]
