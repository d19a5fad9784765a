"""The pointwise node functions of the language: their typing rules and expansions.

Each builtin checks its argument types (raising a located error through ``fail``)
and expands into standard ``arith``/``math``/``vector`` ops with GLSL semantics
(``mix``, ``step``, ``smoothstep``, ``fract`` ... as the GLSL specification defines
them), so every backend and the reference evaluator agree by construction.
Node functions that are not pointwise — ``blur``, ``capture``, ``sample``, ``size``
and the reductions — are handled by the IR generator itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from xdsl.ir import SSAValue

from ccomp.frontend.emit import MATH_UNARY, Emitter
from ccomp.frontend.types import VECTORS, WIDE, Ty, vector_name

Fail = Callable[[str], Exception]


@dataclass(frozen=True)
class Builtin:
    arity: tuple[int, ...]
    check: Callable[[Sequence[Ty], Fail], str]  # argument types -> result element
    emit: Callable[[Emitter, Sequence[SSAValue], Sequence[Ty], str], SSAValue]
    doc: str


def unify(tys: Sequence[Ty], fail: Fail, force_float: bool = False) -> str:
    """The common element of numeric arguments: int promotes to float, 32 bits to 64
    (f32 with f64 is f64, i32 with i64 is i64, an integer with a float is that float,
    as C does for int with float), scalars broadcast to the one vector size present.
    ``force_float`` (math functions) makes integers floats: i64 becomes f64, so no
    precision is dropped that the argument had."""
    lanes = {t.lanes for t in tys if t.lanes > 1}
    if len(lanes) > 1:
        raise fail("mismatched vector sizes: " + " and ".join(sorted({t.elem for t in tys if t.lanes > 1})))
    if any(t.scalar == "bool" for t in tys):
        raise fail("expected numbers, got bool")
    scalars = {t.scalar for t in tys}
    if lanes and scalars & set(WIDE):  # vectors hold f32 (ivec2 i32) lanes only
        raise fail(f"vectors have 32-bit lanes, {sorted(scalars & set(WIDE))[0]} does not combine with them; "
                   f"convert it with f32() or i32()")
    floats = {s for s in scalars if Ty(s).is_float}
    if floats or force_float:
        scalar = "f64" if "f64" in floats or (not floats and "i64" in scalars) else "f32"
    else:
        scalar = "i64" if "i64" in scalars else "i32"
    return vector_name(scalar, lanes.pop() if lanes else 1)


def widens(got: Ty, want: Ty) -> bool:
    """Whether a uniform of ``got`` may stand for a ``want`` (a returned or yielded
    scalar): numbers whose promotion is ``want`` (i32 for f32, f32 for f64, i32 for i64)."""
    if got.elem == want.elem:
        return True
    if "bool" in (got.scalar, want.scalar) or got.lanes != want.lanes or (got.is_float and want.is_int):
        return False
    try:
        return unify([got, want], ValueError) == want.elem
    except ValueError:
        return False


def coerce(em: Emitter, v: SSAValue, src: Ty, elem: str) -> SSAValue:
    """Convert ``v`` to ``elem``: int to float, then scalar to vector."""
    dst = Ty(elem)
    v = em.convert(v, src, dst.scalar)
    if dst.is_vector and not src.is_vector:
        v = em.splat(v, dst)
    return v


def _coerced(em: Emitter, vals: Sequence[SSAValue], tys: Sequence[Ty], elem: str) -> list[SSAValue]:
    return [coerce(em, v, t, elem) for v, t in zip(vals, tys)]


def _numeric(force_float: bool) -> Callable[[Sequence[Ty], Fail], str]:
    return lambda tys, fail: unify(tys, fail, force_float)


def _math(name: str) -> Builtin:
    def emit(em, vals, tys, elem):
        (a,) = _coerced(em, vals, tys, elem)
        return em.math(name, a, Ty(elem))
    return Builtin((1,), _numeric(True), emit, f"{name}(x), lane-wise")


def _abs(em, vals, tys, elem):
    (a,) = _coerced(em, vals, tys, elem)
    return em.math("abs", a, Ty(elem))


def _minmax(op: str) -> Builtin:
    def emit(em, vals, tys, elem):
        a, b = _coerced(em, vals, tys, elem)
        return em.binary(op, a, b, Ty(elem))
    return Builtin((2,), _numeric(False), emit, f"{op}(a, b), lane-wise; with one argument, a reduction")


def _pow(em, vals, tys, elem):
    a, b = _coerced(em, vals, tys, elem)
    return em.pow(a, b)


def _clamp(em, vals, tys, elem):
    x, lo, hi = _coerced(em, vals, tys, elem)
    t = Ty(elem)
    return em.binary("min", em.binary("max", x, lo, t), hi, t)


def _mix(em, vals, tys, elem):
    a, b, t = _coerced(em, vals, tys, elem)
    ty = Ty(elem)
    one = em.const(ty, 1.0)
    return em.binary("+", em.binary("*", a, em.binary("-", one, t, ty), ty), em.binary("*", b, t, ty), ty)


def _step(em, vals, tys, elem):
    edge, x = _coerced(em, vals, tys, elem)
    ty = Ty(elem)
    if not ty.is_vector:
        return em.select(em.compare("<", x, edge, ty), em.const(ty, 0.0), em.const(ty, 1.0))
    # arith.cmpf/select take scalar conditions in xDSL 0.74: step each lane.
    one = Ty("f32")
    zero_s, one_s = em.const(one, 0.0), em.const(one, 1.0)
    lanes = [em.select(em.compare("<", em.extract(x, i), em.extract(edge, i), one), zero_s, one_s)
             for i in range(ty.lanes)]
    return em.build(lanes, ty)


def _smoothstep(em, vals, tys, elem):
    e0, e1, x = _coerced(em, vals, tys, elem)
    ty = Ty(elem)
    t = em.binary("/", em.binary("-", x, e0, ty), em.binary("-", e1, e0, ty), ty)
    t = em.binary("min", em.binary("max", t, em.const(ty, 0.0), ty), em.const(ty, 1.0), ty)
    three_minus = em.binary("-", em.const(ty, 3.0), em.binary("*", em.const(ty, 2.0), t, ty), ty)
    return em.binary("*", em.binary("*", t, t, ty), three_minus, ty)


def _fract(em, vals, tys, elem):
    (x,) = _coerced(em, vals, tys, elem)
    return em.binary("-", x, em.math("floor", x, Ty(elem)), Ty(elem))


def _dot_check(tys: Sequence[Ty], fail: Fail) -> str:
    elem = unify(tys, fail, force_float=True)
    if not all(t.is_vector for t in tys):
        raise fail(f"dot expects two vectors of the same size, got {tys[0].elem} and {tys[1].elem}")
    return elem


def _dot_vec(em: Emitter, a: SSAValue, b: SSAValue, elem: str) -> SSAValue:
    return em.reduce_add(em.binary("*", a, b, Ty(elem)))


def _dot(em, vals, tys, elem):
    a, b = _coerced(em, vals, tys, elem)
    return _dot_vec(em, a, b, elem)


def _length(em, vals, tys, elem):
    (a,) = _coerced(em, vals, tys, elem)
    if not Ty(elem).is_vector:
        return em.math("abs", a, Ty(elem))
    return em.math("sqrt", _dot_vec(em, a, a, elem), Ty("f32"))


def _select_check(tys: Sequence[Ty], fail: Fail) -> str:
    if tys[0].elem != "bool":
        raise fail(f"select expects a bool condition first, got {tys[0].elem}")
    if tys[1].elem == tys[2].elem:
        return tys[1].elem
    return unify(tys[1:], fail)


def _select(em, vals, tys, elem):
    a, b = _coerced(em, vals[1:], tys[1:], elem) if tys[1].elem != "bool" else vals[1:]
    return em.select(vals[0], a, b)


def _constructor(name: str) -> Builtin:
    scalar, lanes = VECTORS[name]

    def check(tys, fail):
        if len(tys) == 1 and not tys[0].is_vector:
            unify(tys, fail)
            return name
        total = sum(t.lanes for t in tys)
        if total != lanes:
            raise fail(f"{name} needs {lanes} components, got {total}")
        unify(tys, fail)
        return name

    def emit(em, vals, tys, elem):
        comps: list[SSAValue] = []
        for v, t in zip(vals, tys):
            v = em.convert(v, t, scalar)
            comps.extend([em.extract(v, i) for i in range(t.lanes)] if t.is_vector else [v])
        if len(comps) == 1:
            return em.splat(comps[0], Ty(name))
        return em.build(comps, Ty(name))
    return Builtin(tuple(range(1, lanes + 1)), check, emit, f"{name}(...): a vector from scalars and vectors")


def _cast(scalar: str) -> Builtin:
    def check(tys, fail):
        if tys[0].is_vector:
            raise fail(f"{scalar}() converts scalars, got {tys[0].elem}")
        return scalar

    def emit(em, vals, tys, elem):
        return em.convert(vals[0], tys[0], scalar)
    return Builtin((1,), check, emit, f"{scalar}(x): conversion")


BUILTINS: dict[str, Builtin] = {
    **{name: _math(name) for name in MATH_UNARY if name != "abs"},
    "abs": Builtin((1,), _numeric(False), _abs, "abs(x), lane-wise"),
    "min": _minmax("min"),
    "max": _minmax("max"),
    "pow": Builtin((2,), _numeric(True), _pow, "pow(a, b), lane-wise"),
    "clamp": Builtin((3,), _numeric(False), _clamp, "clamp(x, lo, hi) = min(max(x, lo), hi)"),
    "mix": Builtin((3,), _numeric(True), _mix, "mix(a, b, t) = a*(1-t) + b*t"),
    "step": Builtin((2,), _numeric(True), _step, "step(edge, x) = x < edge ? 0 : 1"),
    "smoothstep": Builtin((3,), _numeric(True), _smoothstep, "smoothstep(e0, e1, x): Hermite 0..1"),
    "fract": Builtin((1,), _numeric(True), _fract, "fract(x) = x - floor(x)"),
    "dot": Builtin((2,), _dot_check, _dot, "dot(a, b) of two vectors"),
    "length": Builtin((1,), _numeric(True), _length, "length(v) = sqrt(dot(v, v))"),
    "select": Builtin((3,), _select_check, _select, "select(cond, a, b) = cond ? a : b"),
    "f32": _cast("f32"),
    "i32": _cast("i32"),
    "f64": _cast("f64"),
    "i64": _cast("i64"),
    **{name: _constructor(name) for name in ("vec2", "vec3", "vec4")},
}


def result_elem(name: str, tys: Sequence[Ty], fail: Fail) -> str:
    """Check a call of builtin ``name`` and return its result element."""
    b = BUILTINS[name]
    if len(tys) not in b.arity:
        want = " or ".join(str(a) for a in b.arity)
        raise fail(f"{name} takes {want} argument{'s' if b.arity != (1,) else ''}, got {len(tys)}")
    elem = b.check(tys, fail)
    if name in ("dot", "length"):
        return "f32"
    return elem
