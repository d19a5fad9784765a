"""The arguments of a network's builtins (``lif``, ``poisson``, ``stdp``...) and their
units, checked with located errors.

Each builtin has a signature: its parameters in order, each a *kind* — a time
(``10ms``), a rate (``100Hz``), a plain number, a whole number, or a name — and a
default where it has one. Arguments may be given by position or by name. A number
where a time is needed (``tau: 10``) says which unit would fit ("tau needs a time,
e.g. 10ms"), and a quantity where a plain number is needed says it takes none.
Values come back as floats in seconds and hertz, the units ``literals.quantity``
normalises to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ccomp.frontend import ast
from ccomp.frontend.typecheck import did_you_mean

Fail = Callable[[ast.Node, str], Exception]

TIME, RATE, NUMBER, COUNT, NAME = "time", "rate", "number", "count", "name"
_UNIT = {TIME: ("s", "a time, e.g. 10ms"), RATE: ("Hz", "a rate, e.g. 100Hz")}
REQUIRED = object()


@dataclass(frozen=True)
class Arg:
    name: str
    kind: str
    default: object = REQUIRED


SIGNATURES: dict[str, tuple[Arg, ...]] = {
    "lif": (Arg("size", COUNT), Arg("tau", TIME), Arg("v_th", NUMBER, 1.0), Arg("v_reset", NUMBER, 0.0),
            Arg("v_rest", NUMBER, 0.0), Arg("R", NUMBER, 1.0), Arg("refractory", TIME, 0.0),
            Arg("bias", NUMBER, 0.0)),
    "poisson": (Arg("x", NAME), Arg("max_rate", RATE)),
    "latency": (Arg("x", NAME), Arg("t_max", TIME)),
    "spikes": (Arg("S", NAME),),
    "stdp": (Arg("a_plus", NUMBER), Arg("a_minus", NUMBER), Arg("tau_plus", TIME), Arg("tau_minus", TIME),
             Arg("w_min", NUMBER, 0.0), Arg("w_max", NUMBER, 1.0)),
    "uniform": (Arg("lo", NUMBER), Arg("hi", NUMBER)),
    "normal": (Arg("mu", NUMBER), Arg("sigma", NUMBER)),
}
ENCODERS = ("poisson", "latency", "spikes")
NEURONS = ("lif",)
RULES = ("stdp",)
INITIALISERS = ("uniform", "normal")


def _signed(e: ast.Expr) -> tuple[ast.Expr, float]:
    if isinstance(e, ast.Unary) and e.op == "-":
        return e.operand, -1.0
    return e, 1.0


def value(e: ast.Expr, arg: Arg, what: str, fail: Fail) -> object:
    """The value of ``e`` as ``arg`` needs it (``what`` names it in messages)."""
    if arg.kind == NAME:
        if not isinstance(e, ast.Name):
            raise fail(e, f"{what} must name a parameter of the network")
        return e
    inner, sign = _signed(e)
    if arg.kind in _UNIT:
        unit, example = _UNIT[arg.kind]
        if isinstance(inner, ast.Quantity) and inner.unit == unit:
            return sign * inner.value
        if isinstance(inner, ast.Quantity):
            raise fail(e, f"{what} needs {example}, not a {'rate' if inner.unit == 'Hz' else 'time'}")
        raise fail(e, f"{what} needs {example}")
    if isinstance(inner, ast.Quantity):
        raise fail(e, f"{what} takes a plain number, not a {'rate' if inner.unit == 'Hz' else 'time'}")
    if not isinstance(inner, ast.Number):
        raise fail(e, f"{what} must be a number literal")
    if arg.kind == COUNT:
        if inner.is_float or sign < 0 or inner.value < 1:
            raise fail(e, f"{what} must be a whole number of at least 1")
        return int(inner.value)
    return sign * float(inner.value)


def bind(call: ast.Call, fail: Fail, owner: str | None = None) -> dict[str, object]:
    """The arguments of ``call`` by parameter name, defaults filled in."""
    sig = SIGNATURES[call.func]
    names = [a.name for a in sig]
    given: dict[str, tuple[ast.Node, ast.Expr]] = {}
    if len(call.args) > len(sig):
        raise fail(call.args[len(sig)], f"{call.func}() takes at most {len(sig)} arguments "
                                        f"({', '.join(names)})")
    for a, e in zip(sig, call.args):
        given[a.name] = (e, e)
    for kw in call.kwargs:
        if kw.name not in names:
            raise fail(kw, f"{call.func}() has no argument '{kw.name}'"
                           + (did_you_mean(kw.name, names) or f"; its arguments are {', '.join(names)}"))
        if kw.name in given:
            raise fail(kw, f"argument '{kw.name}' of {call.func}() is given twice")
        given[kw.name] = (kw, kw.value)
    out: dict[str, object] = {}
    for a in sig:
        if a.name in given:
            out[a.name] = value(given[a.name][1], a, a.name, fail)
        elif a.default is REQUIRED:
            raise fail(call, f"{call.func}() needs '{a.name}'" + (f" ({_UNIT[a.kind][1]})" if a.kind in _UNIT else ""))
        else:
            out[a.name] = a.default
    return out


def kind_of(call: ast.Call, allowed: tuple[str, ...], what: str, fail: Fail) -> str:
    if call.func not in allowed:
        raise fail(call, f"unknown {what} '{call.func}'"
                         + (did_you_mean(call.func, allowed) or f"; expected {', '.join(allowed)}"))
    return call.func
