"""The ComputeNodes frontend: ``.cn`` text to L1 IR.

The shared core (grammar and parser, AST, types, the type-checker and generator
skeletons in ``typecheck`` and ``irgen``) serves one sub-package per kind of program:
``graph/`` (node graphs over images: the ``graph`` and ``loop`` dialects) and
``tensor/`` (``fn`` tensor programs: the ``sparse`` dialect) and ``network/`` (spiking
networks: the ``snn`` dialect). A new kind adds its
sub-package and one entry in :data:`GENERATORS`.
"""

from __future__ import annotations

from xdsl.dialects.builtin import ModuleOp

from ccomp.diagnostics import CompileError, Source, register_source
from ccomp.dialects.contracts import verify_contracts
from ccomp.frontend import ast
from ccomp.frontend.actor.irgen import with_actors
from ccomp.frontend.graph.irgen import GraphGen
from ccomp.frontend.irgen import FunctionGen, generate
from ccomp.frontend.network.irgen import NetGen
from ccomp.frontend.parser import parse
from ccomp.frontend.tensor.irgen import FnGen

#: The generator of each kind of declaration (``ast.GraphDecl.kind``, the keyword that
#: starts it in the source).
GENERATORS: dict[str, type[FunctionGen] | type[NetGen]] = {"graph": GraphGen, "fn": FnGen, "network": NetGen}


def lower_to_l1(source: Source) -> ModuleOp:
    """Parse, check and generate L1 IR; errors are located :class:`CompileError`."""
    register_source(source)
    program = parse(source)
    module = with_actors(program, source, lambda rest: generate(rest, source, GENERATORS))
    try:
        module.verify()
        verify_contracts(module)
    except Exception as exc:  # a verifier failure here is a compiler bug, never user error
        raise CompileError(f"internal error: generated IR does not verify: {exc}") from exc
    return module


__all__ = ["lower_to_l1", "parse", "ast", "Source"]
