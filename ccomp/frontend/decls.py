"""Declaration-level checks: the types parameters and results are declared with, and
parameter defaults (literals of the parameter's type, kept as ``graph.default``).

Graphs take images and scalars, ``fn`` programs tensors and scalars: each is told
which family it is using, so a misplaced type is an error at the type, not later."""

from __future__ import annotations

import re
from collections.abc import Callable

from xdsl.dialects.builtin import FloatAttr, IntegerAttr, TensorType, f32, f64, i1, i32, i64
from xdsl.ir import Attribute

from ccomp.dialects.sparse_format import FormatAttr
from ccomp.frontend import ast
from ccomp.frontend.typecheck import did_you_mean
from ccomp.frontend.types import IMAGE, IMAGE_ELEMENTS, SCALARS, TENSOR, UNIFORM, Ty, fits_literal, tensor_type

Fail = Callable[[ast.Node, str], Exception]
# What a fn tensor may hold: dense tensors any number type, sparse ones floats.
TENSOR_ELEMENTS = ("f32", "f64", "i32", "i64")
SPARSE_ELEMENTS = ("f32", "f64")
_ALIASES = {"float": "f32", "double": "f64", "long": "i64", "int": "i32", "uint": "i32", "boolean": "bool", "texture": "image"}


# The storage formats a tensor type (and to()) names; bsr takes a block size, dense none.
FORMAT_NAMES = ("csr", "csc", "coo", "bsr", "auto", "dense")
_SHAPE = re.compile(r"((?:(?:\d+|\?)x)+)(\w+)")


def param_type(t: ast.TypeRef, fail: Fail, kind: str = "graph") -> Ty:
    """The language type a parameter or result of a ``graph`` is declared with."""
    if t.name == "tensor" and kind == "graph":
        raise fail(t, "tensor types belong to fn programs; a graph takes images and scalars")
    if t.name in SCALARS:
        if t.args:
            raise fail(t, f"{t.name} takes no type arguments")
        return Ty(t.name)
    if t.name in ("image", "volume"):
        return grid_type(t, fail)
    if t.name in ("vec2", "vec3", "vec4"):
        raise fail(t, f"{t.name} inputs and outputs are not supported yet by this version of ccomp; "
                      f"use image<{t.name}> or separate f32 values")
    if t.name in _ALIASES:
        raise fail(t, f"unknown type '{t.name}'; did you mean '{_ALIASES[t.name]}'?")
    family = "image" if kind == "graph" else "tensor"
    raise fail(t, f"unknown type '{t.name}'" + did_you_mean(t.name, [*SCALARS, family]))


def grid_type(t: ast.TypeRef, fail: Fail) -> Ty:
    """``image<T>``/``image<T, WxH>`` (2-D) or ``volume<T>``/``volume<T, WxHxD>`` (3-D)."""
    kind, rank = t.name, (3 if t.name == "volume" else 2)
    a_kind = "a volume" if rank == 3 else "an image"
    size_name, size_example, big = (("WIDTHxHEIGHTxDEPTH", "64x64x64", "64x64x64") if rank == 3
                                    else ("WIDTHxHEIGHT", "640x480", "512x512"))
    elems = [a for a in t.args if isinstance(a, ast.TypeRef)]
    if len(elems) != 1 or elems[0].args:
        raise fail(t, f"{kind} needs one element type, as in {kind}<f32> or {kind}<vec4>")
    if elems[0].name not in IMAGE_ELEMENTS:
        raise fail(elems[0], f"unknown {kind} element type '{elems[0].name}'; "
                             f"expected one of {', '.join(IMAGE_ELEMENTS)}")
    dims = [a for a in t.args if isinstance(a, ast.DimsArg)]
    if len(t.args) != len(elems) + len(dims) or len(dims) > 1 or (dims and t.args[0] is not elems[0]):
        raise fail(t, f"{a_kind} type is {kind}<T> or {kind}<T, {size_name}>, as in {kind}<f32, {big}>")
    if dims and (len(dims[0].dims) != rank or min(dims[0].dims) < 1):
        raise fail(dims[0], f"{a_kind} size is {size_name}, each at least 1, as in {kind}<f32, {size_example}>")
    return Ty(elems[0].name, IMAGE, dims=rank)


def static_shape(t: ast.TypeRef, ty: Ty | TensorType) -> tuple[int, ...] | None:
    """The static size a parameter is declared with, as the NumPy shape of its input
    without vector lanes (-1 where dynamic; ``graph.shape``): ``image<f32, 640x480>``
    is ``(480, 640)`` (rows first), ``tensor<?x4xf32>`` is ``(-1, 4)``. None: no static size."""
    if isinstance(ty, TensorType):
        dims = tuple(-1 if d < 0 else d for d in ty.get_shape())
        return dims if any(d >= 0 for d in dims) else None
    sizes = [a for a in t.args if isinstance(a, ast.DimsArg)]
    if ty.kind == IMAGE and sizes:
        return tuple(reversed(sizes[0].dims))  # (height, width) or (depth, height, width)
    return None


def graph_tensor_type(t: ast.TypeRef, fail: Fail) -> Ty:
    """A tensor result of a ``graph``: only what ``histogram()`` returns, ``tensor<Nxi32>``
    with a static length N."""
    shape = t.args[0] if t.args and isinstance(t.args[0], ast.ShapeArg) else None
    m = _SHAPE.fullmatch(shape.text) if shape is not None else None
    dims = m.group(1)[:-1].split("x") if m is not None else []
    if m is None or len(t.args) != 1 or len(dims) != 1 or not dims[0].isdigit() or m.group(2) != "i32":
        raise fail(t, "a graph returns a tensor only as a histogram: tensor<Nxi32> with N its bins, "
                      "as in tensor<16xi32>")
    return Ty("i32", TENSOR, int(dims[0]))


def fn_param_type(t: ast.TypeRef, fail: Fail) -> Ty | TensorType:
    """The type a parameter or result of a ``fn`` is declared with: a scalar (``Ty``)
    or an f32 tensor (the builtin ``TensorType`` the sparse dialect uses)."""
    if t.name == "tensor":
        return tensor_type_of(t, fail)
    if t.name == "image" or t.name in ("vec2", "vec3", "vec4"):
        raise fail(t, f"{t.name} values belong to graphs; a fn takes tensors and scalars")
    return param_type(t, fail, kind="fn")


def tensor_type_of(t: ast.TypeRef, fail: Fail) -> TensorType:
    """``tensor<?x?xf32, csr>``: a shape with its element type, then an optional format."""
    if not t.args or not isinstance(t.args[0], ast.ShapeArg):
        raise fail(t, "a tensor type needs a shape and element type, as in tensor<?xf32> or tensor<?x?xf32, csr>")
    shape, *rest = t.args
    m = _SHAPE.fullmatch(shape.text)
    if m is None:  # pragma: no cover - the SHAPE token has this form
        raise fail(shape, f"cannot read the tensor shape '{shape.text}'")
    dims = [-1 if d == "?" else int(d) for d in m.group(1)[:-1].split("x")]
    elem = m.group(2)
    if elem not in TENSOR_ELEMENTS:
        raise fail(shape, f"tensors hold {', '.join(TENSOR_ELEMENTS)}, not {elem}")
    if len(dims) > 2:
        raise fail(shape, f"only tensors of rank 1 or 2 are supported by this version of ccomp, got rank {len(dims)}")
    if len(rest) > 1:
        raise fail(rest[1], "a tensor type takes a shape and at most one storage format")
    fmt = format_attr(rest[0], fail) if rest else None
    if fmt is not None and len(dims) != 2:
        raise fail(rest[0], f"only rank-2 tensors (matrices) can be sparse; this one has rank {len(dims)}")
    if fmt is not None and elem not in SPARSE_ELEMENTS:
        raise fail(shape, f"sparse tensors hold {' or '.join(SPARSE_ELEMENTS)} values in this version of ccomp, "
                          f"not {elem}; declare it dense")
    return tensor_type(len(dims), fmt, dims, elem)


def format_attr(arg: ast.Node, fail: Fail) -> FormatAttr | None:
    """A storage format as written in a type or in ``to()``: ``csr``, ``bsr(4x4)``...
    (None: ``dense``)."""
    if isinstance(arg, ast.Format):
        if arg.name != "bsr":
            raise fail(arg, f"only bsr takes a block size, as in bsr(4x4); write '{arg.name}' alone"
                       if arg.name in FORMAT_NAMES else _unknown_format(arg.name))
        if len(arg.dims) != 2 or min(arg.dims) < 1:
            raise fail(arg, "a bsr block size is ROWSxCOLS, each at least 1, as in bsr(4x4)")
        return FormatAttr("bsr", (arg.dims[0], arg.dims[1]))
    if isinstance(arg, ast.Call) and arg.func == "bsr":  # bsr(4): DIMS needs both sizes
        raise fail(arg, "a bsr block size is ROWSxCOLS, each at least 1, as in bsr(4x4)")
    name = arg.name if isinstance(arg, (ast.TypeRef, ast.Name)) else None
    if name is None or (isinstance(arg, ast.TypeRef) and arg.args):
        raise fail(arg, f"expected a storage format: {', '.join(FORMAT_NAMES[:3])}, bsr(RxC), auto or dense")
    if name == "bsr":
        raise fail(arg, "bsr needs a block size, as in bsr(4x4)")
    if name not in FORMAT_NAMES:
        raise fail(arg, _unknown_format(name))
    return None if name == "dense" else FormatAttr(name)


def _unknown_format(name: str) -> str:
    listing = f"; expected one of {', '.join(FORMAT_NAMES[:3])}, bsr(RxC), auto or dense"
    return f"unknown tensor format '{name}'" + (did_you_mean(name, FORMAT_NAMES) or listing)


def result_names(decl: ast.GraphDecl, fail: Fail) -> list[str]:
    """The names of a declaration's results (``graph.outputs``): ``out`` for a single
    unnamed result, else the names given (``outN`` for unnamed ones)."""
    rs = decl.results
    if len(rs) == 1 and rs[0].name is None:
        return ["out"]
    names = [r.name or f"out{i}" for i, r in enumerate(rs)]
    for i, (r, n) in enumerate(zip(rs, names)):
        if n in names[:i]:
            raise fail(r, f"output '{n}' is declared twice")
    return names


def default_attr(p: ast.Param, ty: Ty | TensorType, fail: Fail, kind: str = "graph") -> Attribute:
    """The ``graph.default`` attribute of a parameter: a literal of its type."""
    e, sign = p.default, 1
    if isinstance(e, ast.Unary) and e.op == "-":
        e, sign = e.operand, -1
    if not isinstance(ty, Ty) or ty.kind != UNIFORM:  # an image or a tensor
        raise fail(p.default, "only scalar parameters can have a default")
    if isinstance(e, ast.Quantity):  # the message an expression with a unit gets (typecheck.quantity)
        programs = "graphs" if kind == "graph" else "fn programs"
        raise fail(p.default, f"quantities with units belong to networks, not {programs}; "
                              f"write the default of '{p.name}' as a plain number")
    if isinstance(e, ast.Number) and ty.is_float:
        if not fits_literal(e.value, ty.elem):
            largest = " (largest about 3.4e38)" if ty.elem == "f32" else ""
            raise fail(p.default, f"the default of '{p.name}' does not fit in {ty.elem}{largest}")
        return FloatAttr(sign * float(e.value), f32 if ty.elem == "f32" else f64)
    if isinstance(e, ast.Number) and ty.is_int and not e.is_float:
        if not fits_literal(sign * e.value, ty.elem):
            raise fail(p.default, f"the default of '{p.name}' does not fit in {ty.elem}")
        return IntegerAttr(sign * e.value, i32 if ty.elem == "i32" else i64)
    if isinstance(e, ast.Bool) and ty.elem == "bool":
        return IntegerAttr(int(e.value), i1)
    article = "a" if ty.elem == "bool" else "an"
    raise fail(p.default, f"the default of '{p.name}' must be {article} {ty.elem} literal")
