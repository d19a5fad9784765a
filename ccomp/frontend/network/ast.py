"""AST of ``network`` declarations (spiking networks), next to the shared nodes of
:mod:`ccomp.frontend.ast`: a network's body is not statements run in order but
declarations (inputs, layers with their incoming connections, learning rules) and
one ``return`` of decoders, so it has node classes of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccomp.frontend.ast import Call, Expr, KwArg, Node, Param, Pos, Result


@dataclass(frozen=True)
class InputDecl(Node):
    """``input s = poisson(x, max_rate: 100Hz)``."""

    name: str
    encoder: Call


@dataclass(frozen=True)
class Connection(Node):
    """``<- src weights W [delay: 2ms]`` on a layer."""

    source: str
    weights: Expr
    delay: Expr | None = None


@dataclass(frozen=True)
class LayerDecl(Node):
    """``layer h = lif(128, tau: 10ms, ...) <- s weights W ...``."""

    name: str
    neuron: Call
    connections: tuple[Connection, ...] = ()


@dataclass(frozen=True)
class Pair(Node):
    """``pre -> post``: the connection from layer ``pre`` to layer ``post``."""

    pre: str
    post: str
    pre_pos: Pos
    post_pos: Pos


@dataclass(frozen=True)
class Learn(Node):
    """``learn stdp(pre -> post, a_plus: ..., ...)``."""

    rule: str
    pair: Pair
    args: tuple[Expr, ...] = ()
    kwargs: tuple[KwArg, ...] = ()


@dataclass(frozen=True)
class PairOutput(Expr):
    """``weights(pre -> post)`` in a network's ``return``."""

    func: str
    pair: Pair


@dataclass(frozen=True)
class NetReturn(Node):
    values: tuple[Expr, ...]


NetStmt = InputDecl | LayerDecl | Learn | NetReturn


@dataclass(frozen=True)
class NetworkDecl(Node):
    """``network NAME(params) -> results steps N dt D { ... }``."""

    kind: str  # "network": the key of its generator (ccomp.frontend.GENERATORS)
    name: str
    params: tuple[Param, ...]
    results: tuple[Result, ...]
    steps: Expr
    dt: Expr
    stmts: tuple[NetStmt, ...]
