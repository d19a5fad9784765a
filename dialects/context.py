"""The xDSL context ccomp parses and prints IR in: every dialect any level uses."""

from __future__ import annotations

from xdsl.context import Context
from xdsl.dialects import arith, func, math, memref, scf, vector
from xdsl.dialects.builtin import Builtin, ModuleOp
from xdsl.parser import Parser

from ccomp.dialects.actor import Actor
from ccomp.dialects.contracts import verify_contracts
from ccomp.dialects.graph import Graph
from ccomp.dialects.kern import Kern
from ccomp.dialects.loop import Loop
from ccomp.dialects.snn import Snn
from ccomp.dialects.sparse import Sparse

DIALECTS = (Builtin, func.Func, arith.Arith, math.Math, vector.Vector, memref.MemRef, scf.Scf, Graph, Kern, Loop, Sparse, Snn, Actor)


def make_context() -> Context:
    """A context with ccomp's dialects and the standard ones its levels use."""
    ctx = Context()
    for dialect in DIALECTS:
        ctx.load_dialect(dialect)
    return ctx


def parse_module(text: str, name: str = "<ir>") -> ModuleOp:
    """Parse IR text (custom or generic form) into a verified module, stage contracts included."""
    module = Parser(make_context(), text, name).parse_module()
    module.verify()
    verify_contracts(module)
    return module
