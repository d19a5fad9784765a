"""The frontend's shape: every grammar rule and AST node has its handler in the one
dispatch table that serves it, and the kinds of program share only the core.

These fail when a rule, node or kind is added in one place and forgotten in another,
which would otherwise surface as a lark ``Tree`` leaking into the AST, or as
"unsupported expression" for a valid program.
"""

from __future__ import annotations

import ast as pyast
from pathlib import Path

import pytest

from ccomp.frontend import GENERATORS, ast
from ccomp.frontend.graph.pointwise import PointwiseGen
from ccomp.frontend.graph.typecheck import TypeChecker
from ccomp.frontend.parser import _parser, _ToAst
from ccomp.frontend.tensor.typecheck import FnTypes

FRONTEND = Path(__file__).resolve().parents[2] / "ccomp" / "frontend"


def _tree_names() -> set[str]:
    """The names lark gives the tree nodes it builds: each alias, and each rule that is
    not inlined (``_rule``, or ``?rule`` left with a single child)."""
    names = set()
    for rule in _parser().rules:
        if rule.alias:
            names.add(rule.alias)
            continue
        name = str(rule.origin.name)
        kept = [s for s in rule.expansion if not (s.is_term and s.filter_out)]
        if name.startswith("_") or (rule.options.expand1 and len(kept) == 1):
            continue
        names.add(name)
    return names


def test_every_grammar_rule_has_a_converter():
    missing = sorted(n for n in _tree_names() if not callable(getattr(_ToAst, n, None)))
    assert not missing, f"grammar rules without a method in parser._ToAst: {missing}"


EXPRESSIONS = [c for c in vars(ast).values()
               if isinstance(c, type) and issubclass(c, ast.Expr) and c is not ast.Expr] + [ast.Format]


@pytest.mark.parametrize("checker", [TypeChecker, FnTypes])
def test_every_expression_has_a_type_rule(checker):
    missing = [c.__name__ for c in EXPRESSIONS if c not in checker.RULES]
    assert not missing, f"{checker.__name__} has no rule for {missing}"


def test_every_pointwise_graph_value_has_a_generator():
    """Names, literals, operators, swizzles, neighbour reads and calls can be per-element
    code; strings, quantities and formats never pass type checking, repeat zones are
    images of their own."""
    never = {ast.String, ast.Quantity, ast.Repeat, ast.Format}
    missing = [c.__name__ for c in EXPRESSIONS if c not in PointwiseGen.POINTWISE and c not in never]
    assert not missing


def test_each_declaration_keyword_has_a_generator():
    keywords = {str(r.origin.name).removesuffix("_decl") for r in _parser().rules
                if str(r.origin.name).endswith("_decl")}
    # message/actor/pipeline declarations (rule actor_decl) refer to each other, so they
    # are generated together by frontend/actor (irgen.with_actors), not one by one
    assert keywords == set(GENERATORS) | {"actor"}


@pytest.mark.parametrize("kind,other", [("graph", "tensor"), ("tensor", "graph")])
def test_kinds_of_program_import_only_the_core(kind, other):
    """graph/ and tensor/ share code through the frontend's top level, never directly."""
    for path in sorted((FRONTEND / kind).glob("*.py")):
        for node in pyast.walk(pyast.parse(path.read_text())):
            if isinstance(node, pyast.ImportFrom) and node.module:
                assert not node.module.startswith(f"ccomp.frontend.{other}"), f"{path.name} imports {node.module}"
