"""What the type checkers of every kind of program share: the expression walk, the
rules for literals, scalar arithmetic, repeat zones and located errors.

Each kind (``graph/``, ``tensor/``) subclasses :class:`ExprChecker` with its own
value types and the rules that differ — names, calls, members, indexing — and
extends the dispatch table :attr:`ExprChecker.RULES`, which maps each AST class to
the method that types it. A table keyed on node classes (rather than an
``isinstance`` chain or method names built from strings) says in one place which
nodes a kind understands; a node missing from it is "unsupported expression".

Types are computed before any IR is built, so a generator knows for every
sub-expression what it is, and an error is reported at the operator that causes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from difflib import get_close_matches
from typing import Any, ClassVar, Generic, TypeVar

from ccomp.frontend import ast
from ccomp.frontend.builtins import unify
from ccomp.frontend.literals import shown
from ccomp.frontend.types import WIDE, Ty, fits_f32, fits_literal

ARITH_OPS = ("+", "-", "*", "/", "%")
CMP_OPS = ("<", "<=", ">", ">=", "==", "!=")
LOGIC_OPS = ("&&", "||")
I32_MAX = 2**31 - 1


def as_written(e: ast.Number) -> str:
    """A literal in a message: its value (``1e+40``), or its text, abbreviated, where
    the value says less (a float that overflowed to inf, an integer of many digits)."""
    if e.is_float and (e.value != e.value or e.value in (float("inf"), float("-inf"))) and e.text:
        return shown(e.text)
    return shown(e.text) if not e.is_float and e.text else str(e.value)

T = TypeVar("T")  # the type of a value in one kind of program
Fail = Callable[[ast.Node, str], Exception]


def literal_of(e: ast.Expr) -> tuple[ast.Number, int] | None:
    """The number and sign of a literal, optionally negated (``2.5``, ``-3``), else None."""
    if isinstance(e, ast.Unary) and e.op == "-" and isinstance(e.operand, ast.Number):
        return e.operand, -1
    return (e, 1) if isinstance(e, ast.Number) else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for a close match of a misspelt name, else ``""``."""
    close = get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.7)
    return f"; did you mean '{close[0]}'?" if close else ""


class ExprChecker(Generic[T]):
    """Infers and caches the type of each expression; ``lookup`` resolves names,
    ``members`` the states of a multi-state repeat zone bound by name, ``names``
    lists the names in scope (for suggestions)."""

    #: The programs this checker types, as messages name them ("graphs").
    PROGRAMS: ClassVar[str] = ""
    def __init__(self, lookup: Callable[[str], T | None], fail: Fail,
                 names: Callable[[], Iterable[str]] = tuple,
                 members: Callable[[str], dict[str, T] | None] = lambda name: None):
        self.lookup, self.fail, self.names, self.members = lookup, fail, names, members
        self.cache: dict[int, T] = {}

    def type_of(self, e: ast.Expr) -> T:
        key = id(e)
        if key not in self.cache:
            self.cache[key] = self.RULES.get(type(e), ExprChecker.unsupported)(self, e)
        return self.cache[key]

    def show(self, t: T) -> str:
        """A type as the user writes it, for messages."""
        return t.show()

    # ----- the rules every kind shares ------------------------------------------

    def unsupported(self, e: ast.Node) -> T:
        raise self.fail(e, "unsupported expression")

    def number(self, e: ast.Number) -> T:
        if not e.is_float and e.value > I32_MAX:
            raise self.fail(e, f"integer literal {as_written(e)} does not fit in i32")
        if e.is_float and not fits_f32(e.value):
            raise self.fail(e, f"float literal {as_written(e)} does not fit in f32 (largest about 3.4e38)")
        return Ty("f32" if e.is_float else "i32")

    def seed_literal(self, e: ast.Expr, elem: str) -> None:
        """Type literal ``e`` as the 64-bit ``elem`` its context asks for (``a * 0.1``
        with ``a: f64`` reads 0.1 as a double, not a float widened later; ``n + 3000000000``
        with ``n: i64`` is in range). An integer literal takes f64 or i64, a float
        literal only f64; anything else keeps its own type."""
        lit = literal_of(e)
        if lit is None or elem not in WIDE or (lit[0].is_float and elem != "f64"):
            return
        number, sign = lit
        if not fits_literal(sign * number.value, elem):
            kind = "float" if number.is_float else "integer"
            raise self.fail(number, f"{kind} literal {as_written(number)} does not fit in {elem}")
        self.cache[id(number)] = Ty(elem)
        self.cache[id(e)] = Ty(elem)

    def operand_types(self, operands: Sequence[ast.Expr]) -> list[T]:
        """The types of the operands of one operation, where a literal takes the
        64-bit type of the others (see :meth:`seed_literal`); 32-bit programs are
        typed exactly as before."""
        others = [self.type_of(o) for o in operands if literal_of(o) is None]
        wide = {t.scalar for t in others if isinstance(t, Ty)} & set(WIDE)
        if wide:
            for o in operands:
                self.seed_literal(o, "f64" if "f64" in wide else "i64")
        return [self.type_of(o) for o in operands]

    def boolean(self, e: ast.Bool) -> T:
        return Ty("bool")

    def string(self, e: ast.String) -> T:
        raise self.fail(e, "a string is not a value here")

    def quantity(self, e: ast.Quantity) -> T:
        raise self.fail(e, f"quantities with units belong to networks, not {self.PROGRAMS}")

    def repeat(self, e: ast.Repeat) -> T:
        return self.repeat_states(e)[0][1]

    def call(self, e: ast.Call) -> T:
        if e.kwargs:
            raise self.fail(e.kwargs[0], f"{e.func}() takes no named arguments")
        return self.call_of(e)

    #: AST class -> the method that types it; each kind extends it with its own rules.
    RULES: ClassVar[dict[type, Callable[[Any, Any], Any]]] = {
        ast.Number: number, ast.Bool: boolean, ast.String: string, ast.Quantity: quantity,
        ast.Repeat: repeat, ast.Call: call}

    # ----- what the kinds fill in -------------------------------------------------

    def call_of(self, e: ast.Call) -> T:
        """The type of a call without named arguments."""
        raise NotImplementedError

    def is_count(self, t: T) -> bool:
        """Whether ``t`` may count the iterations of a repeat zone (an i32 value)."""
        raise NotImplementedError

    def state_type(self, st: ast.StateInit, t: T) -> T:
        """The type of repeat state initialised with a value of type ``t``."""
        raise NotImplementedError

    # ----- helpers ------------------------------------------------------------------

    def scalar_binary(self, e: ast.Binary, a: Ty, b: Ty) -> str:
        """The element type of a logic, arithmetic or comparison operation on scalars
        or vectors: ``bool`` for logic and comparisons, else the unified operands."""
        if e.op in LOGIC_OPS:
            if a.elem != "bool" or b.elem != "bool":
                raise self.fail(e, f"'{e.op}' expects bools, got {a.elem} and {b.elem}")
            return "bool"
        # unify's message names the operand types too ("...: vec3 and vec4"); keep its first part
        elem = unify([a, b], lambda m: self.fail(e, f"cannot apply '{e.op}' to {a.elem} and {b.elem}: "
                                                    f"{m.split(':')[0]}"))
        if e.op in CMP_OPS:
            if Ty(elem).is_vector:
                raise self.fail(e, f"comparison of vectors ({elem}) is not defined; compare components")
            return "bool"
        return elem

    def zone_state(self, e: ast.Member) -> T | None:
        """The type of ``r.name`` where ``r`` is a multi-state repeat zone (None when
        ``e.base`` is not one)."""
        fields = self.members(e.base.name) if isinstance(e.base, ast.Name) else None
        if fields is None:
            return None
        if e.name not in fields:
            raise self.fail(e, f"the repeat zone '{e.base.name}' has no state '{e.name}'; "
                               f"its states are {', '.join(fields)}")
        return fields[e.name]

    def arity(self, e: ast.Call, n: int, what: str = "") -> None:
        if len(e.args) != n:
            detail = f" ({what})" if what else ""
            raise self.fail(e, f"{e.func}() takes {n} argument{'s' if n != 1 else ''}{detail}, got {len(e.args)}")

    def repeat_states(self, e: ast.Repeat) -> list[tuple[str, T]]:
        """The states of a repeat zone, each typed by its initial value (see
        :meth:`state_type`), after checking the count and the state names."""
        count = self.type_of(e.count)
        if not self.is_count(count):
            raise self.fail(e.count, f"the repeat count must be an i32 value, got {self.show(count)}")
        if not e.states:
            raise self.fail(e, "a repeat zone needs at least one state, as in repeat n (s = init) { ... }")
        states: list[tuple[str, T]] = []
        for st in e.states:
            if any(st.name == n for n, _ in states):
                raise self.fail(st, f"state '{st.name}' is declared twice")
            states.append((st.name, self.state_type(st, self.type_of(st.init))))
        return states
