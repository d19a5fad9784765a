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

from collections.abc import Callable, Iterable
from difflib import get_close_matches
from typing import Any, ClassVar, Generic, TypeVar

from ccomp.frontend import ast
from ccomp.frontend.builtins import unify
from ccomp.frontend.types import Ty, fits_f32

ARITH_OPS = ("+", "-", "*", "/", "%")
CMP_OPS = ("<", "<=", ">", ">=", "==", "!=")
LOGIC_OPS = ("&&", "||")
I32_MAX = 2**31 - 1

T = TypeVar("T")  # the type of a value in one kind of program
Fail = Callable[[ast.Node, str], Exception]


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
            raise self.fail(e, f"integer literal {e.value} does not fit in i32")
        if e.is_float and not fits_f32(e.value):
            raise self.fail(e, f"float literal {e.value} does not fit in f32 (largest about 3.4e38)")
        return Ty("f32" if e.is_float else "i32")

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
