"""A readable, indented dump of the AST for ``ccomp build --emit ast``."""

from __future__ import annotations

import dataclasses

from ccomp.frontend import ast


def _is_node(v: object) -> bool:
    return isinstance(v, ast.Node)


def format_ast(node: ast.Node, indent: int = 0) -> str:
    """One line per node: its kind, its plain fields, and ``@line:col``; children indented."""
    pad = "  " * indent
    plain, children = [], []
    for f in dataclasses.fields(node):
        if f.name == "pos" or not f.compare:  # the position, and spellings kept for messages
            continue
        v = getattr(node, f.name)
        if _is_node(v):
            children.append((f.name, [v]))
        elif isinstance(v, tuple) and v and all(_is_node(x) for x in v):
            children.append((f.name, list(v)))
        elif isinstance(v, tuple) and not v:
            continue
        elif v is not None:
            plain.append(f"{f.name}={v!r}")
    line = f"{pad}{type(node).__name__}"
    if plain:
        line += " " + " ".join(plain)
    line += f" @{node.pos.line}:{node.pos.col}"
    out = [line]
    for name, nodes in children:
        out.append(f"{pad}  {name}:")
        out.extend(format_ast(n, indent + 2) for n in nodes)
    return "\n".join(out)
