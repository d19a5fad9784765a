"""AST of actor programs (``message``, ``actor``, ``pipeline``), each node with its
source position, like :mod:`ccomp.frontend.ast` whose ``Node``/``Expr``/``TypeRef``
they build on. Declarations carry ``kind`` (the keyword) and ``name`` as graph and fn
declarations do, so the program-level checks (names declared twice) treat them alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccomp.frontend.ast import Expr, Node, TypeRef


@dataclass(frozen=True)
class FieldDecl(Node):
    """``name: type`` in a message declaration."""

    name: str
    type: TypeRef


@dataclass(frozen=True)
class MessageDecl(Node):
    name: str
    fields: tuple[FieldDecl, ...]
    kind: str = "message"


@dataclass(frozen=True)
class Ident(Node):
    """A name as written, with its own position (message types, actors, policies)."""

    name: str


@dataclass(frozen=True)
class QueueDecl(Node):
    """``queue N backpressure policy``; N is kept as written (checked later)."""

    capacity: Ident
    policy: Ident


@dataclass(frozen=True)
class DeliveryDecl(Node):
    """``delivery at_least_once``: what a restart of the actor's process may cost when
    it runs on Ray (docs/scaleout.md); the local runtime has no such restarts."""

    policy: Ident


@dataclass(frozen=True)
class CheckpointDecl(Node):
    """``checkpoint every N``: save the state every N messages (on Ray)."""

    every: Ident


@dataclass(frozen=True)
class StateDecl(Node):
    name: str
    type: TypeRef
    init: Expr


@dataclass(frozen=True)
class Assign(Node):
    """``state = expr`` in a handler body."""

    name: str
    value: Expr


@dataclass(frozen=True)
class FieldInit(Node):
    name: str
    value: Expr


@dataclass(frozen=True)
class Reply(Node):
    message: Ident
    fields: tuple[FieldInit, ...]


@dataclass(frozen=True)
class Send(Node):
    target: Ident
    message: Ident
    fields: tuple[FieldInit, ...]


@dataclass(frozen=True)
class HandlerDecl(Node):
    """``on Msg(m) -> Reply { ... }``: ``param`` names the message in the body."""

    message: Ident
    param: Ident
    reply: Ident | None
    body: tuple[Node, ...]


@dataclass(frozen=True)
class ActorDecl(Node):
    name: str
    items: tuple[Node, ...]  # QueueDecl, StateDecl, HandlerDecl in source order
    kind: str = "actor"


@dataclass(frozen=True)
class PipelineDecl(Node):
    """``pipeline p = a -> (b, c) -> d``: ``groups`` are the stages between arrows."""

    name: str
    groups: tuple[tuple[Ident, ...], ...]
    kind: str = "pipeline"


ActorDeclaration = MessageDecl | ActorDecl | PipelineDecl
