"""The parser's transformer rules for ``network`` declarations (grammar.lark, the block
marked ``// network``). Each takes the rule's position and converted children, like
the rules of :class:`ccomp.frontend.parser._ToAst`, which binds them by name."""

from __future__ import annotations

from lark import Token

from ccomp.frontend import ast
from ccomp.frontend.network import ast as nast


def _pos(item) -> ast.Pos:
    if isinstance(item, Token):
        return ast.Pos(item.line or 1, item.column or 1)
    return item.pos


def _call(name: Token, args: list) -> ast.Call:
    args = [a for a in args if a is not None]
    return ast.Call(_pos(name), str(name), tuple(a for a in args if not isinstance(a, ast.KwArg)),
                    tuple(a for a in args if isinstance(a, ast.KwArg)))


def network_decl(self, p, c):
    name, params, results, steps, dt, *stmts = c
    return nast.NetworkDecl(p, "network", str(name), tuple(params or ()), tuple(results), steps, dt, tuple(stmts))


def net_input(self, p, c):
    name, func, *args = c
    return nast.InputDecl(p, str(name), _call(func, args))


def net_layer(self, p, c):
    name, func, *rest = c
    conns = tuple(x for x in rest if isinstance(x, nast.Connection))
    args = [x for x in rest if not isinstance(x, nast.Connection)]
    return nast.LayerDecl(p, str(name), _call(func, args), conns)


def net_learn(self, p, c):
    rule, pair, *args = c
    return nast.Learn(p, str(rule), pair, tuple(a for a in args if not isinstance(a, ast.KwArg)),
                      tuple(a for a in args if isinstance(a, ast.KwArg)))


def net_return(self, p, c):
    return nast.NetReturn(p, tuple(c))


def net_conn(self, p, c):
    _arrow, source, weights, delay = c
    return nast.Connection(p, str(source), weights, delay)


def net_pair(self, p, c):
    pre, post = c
    return nast.Pair(_pos(pre), str(pre), str(post), _pos(pre), _pos(post))


def net_out_pair(self, p, c):
    func, pair = c
    return nast.PairOutput(_pos(func), str(func), pair)
