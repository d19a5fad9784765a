"""Declaration-level checks: the types parameters and results are declared with, and
parameter defaults (literals of the parameter's type, kept as ``graph.default``)."""

from __future__ import annotations

from collections.abc import Callable

from xdsl.dialects.builtin import FloatAttr, IntegerAttr, f32, i1, i32
from xdsl.ir import Attribute

from ccomp.frontend import ast
from ccomp.frontend.typecheck import I32_MAX, did_you_mean
from ccomp.frontend.types import IMAGE, IMAGE_ELEMENTS, SCALARS, UNIFORM, Ty, fits_f32

Fail = Callable[[ast.Node, str], Exception]
_ALIASES = {"float": "f32", "double": "f32", "int": "i32", "uint": "i32", "boolean": "bool", "texture": "image"}


def param_type(t: ast.TypeRef, fail: Fail) -> Ty:
    """The language type a parameter or result is declared with."""
    if t.name in SCALARS:
        if t.args:
            raise fail(t, f"{t.name} takes no type arguments")
        return Ty(t.name)
    if t.name == "image":
        elems = [a for a in t.args if isinstance(a, ast.TypeRef)]
        if len(elems) != 1 or elems[0].args:
            raise fail(t, "image needs one element type, as in image<f32> or image<vec4>")
        if elems[0].name not in IMAGE_ELEMENTS:
            raise fail(elems[0], f"unknown image element type '{elems[0].name}'; "
                                 f"expected one of {', '.join(IMAGE_ELEMENTS)}")
        dims = [a for a in t.args if isinstance(a, ast.DimsArg)]
        if dims:  # refuse rather than silently ignore the size
            raise fail(dims[0], "static image sizes are not supported yet by this version of ccomp; "
                                "write image<T>: the size comes from the input")
        return Ty(elems[0].name, IMAGE)
    if t.name in ("volume", "tensor", "f64", "i64"):
        raise fail(t, f"{t.name} types are not supported yet by this version of ccomp")
    if t.name in ("vec2", "vec3", "vec4"):
        raise fail(t, f"{t.name} inputs and outputs are not supported yet by this version of ccomp; "
                      f"use image<{t.name}> or separate f32 values")
    if t.name in _ALIASES:
        raise fail(t, f"unknown type '{t.name}'; did you mean '{_ALIASES[t.name]}'?")
    raise fail(t, f"unknown type '{t.name}'" + did_you_mean(t.name, [*SCALARS, "image"]))


def default_attr(p: ast.Param, ty: Ty, fail: Fail) -> Attribute:
    """The ``graph.default`` attribute of a parameter: a literal of its type."""
    e, sign = p.default, 1
    if isinstance(e, ast.Unary) and e.op == "-":
        e, sign = e.operand, -1
    if ty.kind != UNIFORM:
        raise fail(p.default, "only scalar parameters can have a default")
    if isinstance(e, ast.Number) and ty.elem == "f32":
        if not fits_f32(float(e.value)):
            raise fail(p.default, f"the default of '{p.name}' does not fit in f32 (largest about 3.4e38)")
        return FloatAttr(sign * float(e.value), f32)
    if isinstance(e, ast.Number) and ty.elem == "i32" and not e.is_float:
        if not -I32_MAX - 1 <= sign * e.value <= I32_MAX:
            raise fail(p.default, f"the default of '{p.name}' does not fit in i32")
        return IntegerAttr(sign * e.value, i32)
    if isinstance(e, ast.Bool) and ty.elem == "bool":
        return IntegerAttr(int(e.value), i1)
    article = "a" if ty.elem == "bool" else "an"
    raise fail(p.default, f"the default of '{p.name}' must be {article} {ty.elem} literal")
