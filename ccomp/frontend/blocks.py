"""Statement order in declaration bodies and repeat zones, shared by ``graph`` and ``fn``.

A body is ``let``s then one ``return``; a repeat zone is ``let``s then one ``yield``.
The generators differ only in what a ``let``, a ``return`` and a ``yield`` produce, so
they provide ``let``, ``returns`` and ``zone_yield`` and inherit the walking here.
"""

from __future__ import annotations

from typing import Any

from xdsl.ir import SSAValue

from ccomp.frontend import ast


class StatementWalker:
    """A mixin: needs ``decl``, ``fail``, ``let``, ``returns`` and ``zone_yield``."""

    def body(self, block: ast.Block, results: list[Any]) -> list[SSAValue]:
        for i, stmt in enumerate(block.stmts):
            if isinstance(stmt, ast.Let):
                self.let(stmt)
            elif isinstance(stmt, ast.Return):
                if i != len(block.stmts) - 1:
                    raise self.fail(block.stmts[i + 1], "statements after 'return' are never reached")
                return self.returns(stmt, results)
            else:
                raise self.fail(stmt, "'yield' belongs inside a repeat zone")
        what = "outputs" if self.decl.kind == "graph" else "results"
        raise self.fail(block, f"{self.decl.kind} '{self.decl.name}' does not return its {what}")

    def zone_body(self, e: ast.Repeat, states: list[tuple[str, Any]]) -> list[SSAValue]:
        stmts = e.body.stmts
        for i, stmt in enumerate(stmts):
            if isinstance(stmt, ast.Let):
                self.let(stmt)
            elif isinstance(stmt, ast.Yield):
                if i != len(stmts) - 1:
                    raise self.fail(stmts[i + 1], "statements after 'yield' are never reached")
                return self.zone_yield(stmt, states)
            else:
                raise self.fail(stmt, "a repeat zone ends with 'yield', not 'return'")
        raise self.fail(e.body, "a repeat zone must end with 'yield' of its next state")
