"""Type inference for ComputeNodes expressions, with located errors.

Types are computed before any IR is built, so the generator knows for every
sub-expression whether it is a uniform (computed once), a field (per element) or
an image, and where a field's extent comes from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from difflib import get_close_matches

from ccomp.frontend import ast
from ccomp.frontend.builtins import BUILTINS, result_elem, unify
from ccomp.frontend.types import FIELD, IMAGE, SWIZZLE_SETS, UNIFORM, Ty, vector_name, fits_f32

REDUCTIONS = {"sum": "add", "mean": "mean", "min": "min", "max": "max"}
COORDS = {"x": Ty("i32", FIELD), "y": Ty("i32", FIELD), "uv": Ty("vec2", FIELD)}
ARITH_OPS = ("+", "-", "*", "/", "%")
CMP_OPS = ("<", "<=", ">", ">=", "==", "!=")
FUNCTIONS = ("blur", "capture", "size", "sample", *REDUCTIONS)  # node functions beside BUILTINS
NOT_YET = {"histogram": "histogram"}
I32_MAX = 2**31 - 1
MAX_BLUR_RADIUS = 16  # graph-fuse unrolls a blur into (2r+1)^2 reads; keep kernels compilable


def join_kind(*tys: Ty) -> str:
    kinds = {t.kind for t in tys}
    return FIELD if (FIELD in kinds or IMAGE in kinds) else UNIFORM


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for a close match of a misspelt name, else ``""``."""
    close = get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.7)
    return f"; did you mean '{close[0]}'?" if close else ""


def swizzle_lanes(name: str) -> list[int] | None:
    for letters in SWIZZLE_SETS:
        if all(ch in letters for ch in name):
            return [letters.index(ch) for ch in name]
    return None


class TypeChecker:
    """Infers and caches the type of each expression; ``lookup`` resolves names."""

    def __init__(self, lookup: Callable[[str], Ty | None], fail: Callable[[ast.Node, str], Exception],
                 names: Callable[[], Iterable[str]] = tuple,
                 members: Callable[[str], dict[str, Ty] | None] = lambda name: None):
        self.lookup = lookup
        self.members = members  # the states of a multi-state repeat bound by name
        self.fail = fail
        self.names = names  # the names in scope, for suggestions
        self.cache: dict[int, Ty] = {}

    def type_of(self, e: ast.Expr) -> Ty:
        key = id(e)
        if key not in self.cache:
            self.cache[key] = self._infer(e)
        return self.cache[key]

    def _infer(self, e: ast.Expr) -> Ty:
        if isinstance(e, ast.Number):
            if not e.is_float and e.value > I32_MAX:
                raise self.fail(e, f"integer literal {e.value} does not fit in i32")
            if e.is_float and not fits_f32(e.value):
                raise self.fail(e, f"float literal {e.value} does not fit in f32 (largest about 3.4e38)")
            return Ty("f32" if e.is_float else "i32")
        if isinstance(e, ast.Bool):
            return Ty("bool")
        if isinstance(e, ast.Name):
            t = self.lookup(e.name)
            if t is None:
                t = COORDS.get(e.name)
            if t is None:
                raise self.fail(e, f"unknown name '{e.name}'" + did_you_mean(e.name, [*self.names(), *COORDS]))
            return t
        if isinstance(e, ast.Binary):
            return self._binary(e)
        if isinstance(e, ast.Unary):
            t = self.type_of(e.operand)
            if e.op == "!":
                if t.elem != "bool":
                    raise self.fail(e, f"'!' expects a bool, got {t.elem}")
                return t
            if t.scalar == "bool":
                raise self.fail(e, "cannot negate a bool")
            return t.with_kind(join_kind(t))
        if isinstance(e, ast.Member):
            return self._member(e)
        if isinstance(e, ast.Index):
            return self._index(e)
        if isinstance(e, ast.Call):
            return self._call(e)
        if isinstance(e, ast.Repeat):
            return self.repeat_states(e)[0][1]
        if isinstance(e, ast.String):
            raise self.fail(e, "a string is not a value here")
        if isinstance(e, ast.Quantity):
            raise self.fail(e, "quantities with units belong to networks, not graphs")
        if isinstance(e, ast.Format):
            raise self.fail(e, f"a storage format such as {e.name}(...) belongs to fn programs (the second "
                               f"argument of to()), not graphs")
        raise self.fail(e, "unsupported expression")

    def _binary(self, e: ast.Binary) -> Ty:
        a, b = self.type_of(e.lhs), self.type_of(e.rhs)
        kind = join_kind(a, b)
        if e.op in ("&&", "||"):
            if a.elem != "bool" or b.elem != "bool":
                raise self.fail(e, f"'{e.op}' expects bools, got {a.elem} and {b.elem}")
            return Ty("bool", kind)
        if e.op == "@":
            raise self.fail(e, "'@' is the matrix product of tensors; graphs have no tensors")
        # unify's message names the operand types too ("...: vec3 and vec4"); keep its first part
        elem = unify([a, b], lambda m: self.fail(e, f"cannot apply '{e.op}' to {a.elem} and {b.elem}: "
                                                    f"{m.split(':')[0]}"))
        if e.op in CMP_OPS:
            if Ty(elem).is_vector:
                raise self.fail(e, f"comparison of vectors ({elem}) is not defined; compare components")
            return Ty("bool", kind)
        return Ty(elem, kind)

    def repeat_states(self, e: ast.Repeat) -> list[tuple[str, Ty]]:
        """The state of a repeat zone: its type is fixed by the initial value (a field
        is materialised, so image state is always an image)."""
        count = self.type_of(e.count)
        if count.elem != "i32" or count.kind != UNIFORM:
            raise self.fail(e.count, f"the repeat count must be an i32 value, got {count.show()}")
        if not e.states:
            raise self.fail(e, "a repeat zone needs at least one state, as in repeat n (s = init) { ... }")
        states: list[tuple[str, Ty]] = []
        for st in e.states:
            if any(st.name == n for n, _ in states):
                raise self.fail(st, f"state '{st.name}' is declared twice")
            t = self.type_of(st.init)
            if t.kind != UNIFORM:
                self._image_element(st.init, t)
                t = t.with_kind(IMAGE)
            states.append((st.name, t))
        return states

    def _member(self, e: ast.Member) -> Ty:
        if isinstance(e.base, ast.Name) and (fields := self.members(e.base.name)) is not None:
            if e.name not in fields:
                raise self.fail(e, f"the repeat zone '{e.base.name}' has no state '{e.name}'; "
                                   f"its states are {', '.join(fields)}")
            return fields[e.name]
        base = self.type_of(e.base)
        lanes = swizzle_lanes(e.name)
        if not base.is_vector:
            raise self.fail(e, f"'.{e.name}' needs a vector, but this is {base.elem}")
        if lanes is None or len(lanes) > 4 or max(lanes) >= base.lanes:
            raise self.fail(e, f"{base.elem} has no component '.{e.name}'")
        try:
            return Ty(vector_name(base.scalar, len(lanes)), join_kind(base))
        except KeyError:
            raise self.fail(e, f"'.{e.name}' would make a {len(lanes)}-lane vector of {base.scalar}, "
                               f"which the language does not have") from None

    def _index(self, e: ast.Index) -> Ty:
        base = self.type_of(e.base)
        if base.kind == UNIFORM:
            raise self.fail(e, f"only images and fields can be indexed, this is {base.elem}")
        if len(e.indices) != 2:
            raise self.fail(e, f"an image is indexed with [x, y], got {len(e.indices)} indices")
        for i in e.indices:
            t = self.type_of(i)
            if t.elem != "i32":
                raise self.fail(i, f"image indices must be i32, got {t.elem}")
        return Ty(base.elem, FIELD)

    def _call(self, e: ast.Call) -> Ty:
        if e.kwargs:
            raise self.fail(e.kwargs[0], f"{e.func}() takes no named arguments")
        tys = [self.type_of(a) for a in e.args]
        fail = lambda m: self.fail(e, m)  # noqa: E731
        name = e.func
        if name in NOT_YET:
            raise self.fail(e, f"{name}() is not supported yet by this version of ccomp")
        if name in REDUCTIONS and len(tys) == 1:
            if tys[0].kind == UNIFORM:
                raise fail(f"{name}() of one argument reduces an image or field, got {tys[0].elem}")
            if tys[0].scalar == "bool":
                raise fail(f"cannot reduce bools with {name}()")
            return Ty(tys[0].elem, UNIFORM)
        if name == "blur":
            self._arity(e, 2)
            if tys[0].kind == UNIFORM:
                raise fail(f"blur() expects an image or field, got {tys[0].elem}")
            if not isinstance(e.args[1], ast.Number) or e.args[1].is_float or e.args[1].value < 0:
                raise self.fail(e.args[1], "blur() radius must be a non-negative integer literal")
            if e.args[1].value > MAX_BLUR_RADIUS:
                raise self.fail(e.args[1], f"blur() radius must be at most {MAX_BLUR_RADIUS}")
            if tys[0].scalar != "f32":
                raise fail(f"blur() expects float elements, got {tys[0].elem}")
            return Ty(tys[0].elem, FIELD)
        if name == "capture":
            self._arity(e, 1)
            if tys[0].kind == UNIFORM:
                raise fail(f"capture() materialises a field, got {tys[0].elem}")
            self._image_element(e, tys[0])
            return Ty(tys[0].elem, IMAGE)
        if name == "size":
            self._arity(e, 1)
            if tys[0].kind == UNIFORM:
                raise fail(f"size() expects an image, got {tys[0].elem}")
            return Ty("ivec2", UNIFORM)
        if name == "resize":
            self._arity(e, 2)
            if tys[0].kind == UNIFORM or tys[0].scalar != "f32":
                raise fail(f"resize() expects an image of floats first, got {tys[0].show()}")
            if tys[1].elem != "ivec2" or tys[1].kind != UNIFORM:
                raise self.fail(e.args[1], f"resize() takes the new size as size(...) arithmetic, got {tys[1].show()}")
            return Ty(tys[0].elem, IMAGE)
        if name == "sample":
            self._arity(e, 2)
            if tys[0].kind == UNIFORM:
                raise fail(f"sample() expects an image first, got {tys[0].elem}")
            if tys[1].elem != "vec2":
                raise self.fail(e.args[1], f"sample() coordinates must be vec2, got {tys[1].elem}")
            return Ty(tys[0].elem, FIELD)
        if name in REDUCTIONS and name not in BUILTINS:
            raise fail(f"{name}() takes 1 argument (an image or field), got {len(tys)}")
        if name not in BUILTINS:
            raise fail(f"unknown function '{name}'" + did_you_mean(name, [*BUILTINS, *FUNCTIONS]))
        operand = result_elem(name, tys, fail)
        elem = "f32" if name in ("dot", "length") else operand
        return Ty(elem, join_kind(*tys))

    def operand_elem(self, e: ast.Call) -> str:
        """The element a pointwise builtin converts its arguments to."""
        tys = [self.type_of(a) for a in e.args]
        return BUILTINS[e.func].check(tys, lambda m: self.fail(e, m))

    def _arity(self, e: ast.Call, n: int) -> None:
        if len(e.args) != n:
            raise self.fail(e, f"{e.func}() takes {n} argument{'s' if n != 1 else ''}, got {len(e.args)}")

    def _image_element(self, node: ast.Node, t: Ty) -> None:
        if t.elem not in ("f32", "i32", "vec2", "vec3", "vec4"):
            raise self.fail(node, f"images of {t.elem} cannot be stored; convert to f32 or i32 first")
