"""AST of ComputeNodes programs: frozen dataclasses, each with its source position.

The parser builds these from the lark tree; semantic checks and IR generation read
them. Positions are 1-based (line, column) in the file named by ``Program.source``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Pos:
    line: int
    col: int


@dataclass(frozen=True)
class Node:
    pos: Pos


# ----- types -----------------------------------------------------------------


@dataclass(frozen=True)
class TypeRef(Node):
    """A type as written: ``f32``, ``image<vec4>``, ``image<f32, 512x512>``."""

    name: str
    args: tuple["TypeArg", ...] = ()


@dataclass(frozen=True)
class DimsArg(Node):
    """A static extent such as ``512x512``."""

    dims: tuple[int, ...]


@dataclass(frozen=True)
class ShapeArg(Node):
    """A tensor shape with element type such as ``?x?xf32``."""

    text: str


@dataclass(frozen=True)
class Format(Node):
    """A storage format with a block size, ``bsr(4x4)``: a tensor type argument, or the
    second argument of ``to()`` (plain formats such as ``csr`` are a TypeRef or a Name)."""

    name: str
    dims: tuple[int, ...]


TypeArg = TypeRef | DimsArg | ShapeArg | Format


# ----- expressions -----------------------------------------------------------


@dataclass(frozen=True)
class Expr(Node):
    pass


@dataclass(frozen=True)
class Number(Expr):
    value: int | float
    is_float: bool
    text: str = field(default="", compare=False)  # as written, for messages (1e99 reads as inf)


@dataclass(frozen=True)
class Quantity(Expr):
    """A literal with a unit, normalised to seconds or hertz."""

    value: float
    unit: str


@dataclass(frozen=True)
class String(Expr):
    value: str


@dataclass(frozen=True)
class Bool(Expr):
    value: bool


@dataclass(frozen=True)
class Name(Expr):
    name: str


@dataclass(frozen=True)
class Binary(Expr):
    op: str
    lhs: Expr
    rhs: Expr


@dataclass(frozen=True)
class Unary(Expr):
    op: str
    operand: Expr


@dataclass(frozen=True)
class KwArg(Node):
    name: str
    value: Expr


@dataclass(frozen=True)
class Call(Expr):
    func: str
    args: tuple[Expr, ...]
    kwargs: tuple[KwArg, ...] = ()


@dataclass(frozen=True)
class Member(Expr):
    """``base.name``: a swizzle on vectors."""

    base: Expr
    name: str


@dataclass(frozen=True)
class Index(Expr):
    """``base[i, j]``: a neighbour read of an image."""

    base: Expr
    indices: tuple[Expr, ...]


@dataclass(frozen=True)
class StateInit(Node):
    name: str
    init: Expr


@dataclass(frozen=True)
class Repeat(Expr):
    count: Expr
    states: tuple[StateInit, ...]
    body: "Block"


# ----- statements and declarations -------------------------------------------


@dataclass(frozen=True)
class Let(Node):
    name: str
    value: Expr


@dataclass(frozen=True)
class Return(Node):
    values: tuple[Expr, ...]


@dataclass(frozen=True)
class Yield(Node):
    values: tuple[Expr, ...]


Stmt = Let | Return | Yield


@dataclass(frozen=True)
class Block(Node):
    stmts: tuple[Stmt, ...]


@dataclass(frozen=True)
class Param(Node):
    name: str
    type: TypeRef
    default: Expr | None = None


@dataclass(frozen=True)
class Result(Node):
    name: str | None
    type: TypeRef


@dataclass(frozen=True)
class GraphDecl(Node):
    """``graph`` (node graph over images) or ``fn`` (tensor program): ``kind`` says which."""

    kind: str
    name: str
    params: tuple[Param, ...]
    results: tuple[Result, ...]
    body: Block


@dataclass(frozen=True)
class Program(Node):
    source: str
    decls: tuple[GraphDecl, ...] = field(default_factory=tuple)
