"""The types a network's parameters and results are declared with.

Parameters: encoder inputs (``tensor<784xf32>``, a leading batch axis
``tensor<?x784xf32>``; a spike train ``tensor<TxNxf32>``), weights (``tensor<PxQxf32>``
dense or ``tensor<PxQxf32, csr>``), and scalars: ``steps: i32``, ``seed: i64``.
Results are tensors of f32 or i32 (``tensor<10xi32>``). Sizes are static where the
network needs them: the number of neurons is part of the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from xdsl.dialects.builtin import DYNAMIC_INDEX, NoneAttr, TensorType, f32, i32
from xdsl.ir import Attribute

from ccomp.frontend import ast, decls
from ccomp.frontend.types import Ty, mlir_type

Fail = Callable[[ast.Node, str], Exception]
_SHAPE = re.compile(r"((?:(?:\d+|\?)x)+)(\w+)")
SCALARS = ("i32", "i64", "f32")


def port_type(t: ast.TypeRef, fail: Fail) -> Ty | TensorType:
    if t.name in SCALARS:
        if t.args:
            raise fail(t, f"{t.name} takes no type arguments")
        return Ty(t.name)
    if t.name != "tensor":
        raise fail(t, f"a network takes tensors and scalars (i32, i64, f32), not {t.name}")
    if not t.args or not isinstance(t.args[0], ast.ShapeArg):
        raise fail(t, "a tensor type needs a shape and element type, as in tensor<784xf32>")
    shape, *rest = t.args
    m = _SHAPE.fullmatch(shape.text)
    if m is None:  # pragma: no cover - the SHAPE token has this form
        raise fail(shape, f"cannot read the tensor shape '{shape.text}'")
    dims = [DYNAMIC_INDEX if d == "?" else int(d) for d in m.group(1)[:-1].split("x")]
    if m.group(2) not in ("f32", "i32"):
        raise fail(shape, f"network tensors hold f32 or i32, not {m.group(2)}")
    if len(dims) > 3:
        raise fail(shape, f"network tensors have rank 1 to 3, got rank {len(dims)}")
    if len(rest) > 1:
        raise fail(rest[1], "a tensor type takes a shape and at most one storage format")
    fmt = decls.format_attr(rest[0], fail) if rest else None
    if fmt is not None and (len(dims) != 2 or fmt.kind.data != "csr"):
        raise fail(rest[0], "sparse weights of a network are a csr matrix, as in tensor<784x128xf32, csr>")
    return TensorType(mlir_type(m.group(2)), dims, fmt if fmt is not None else NoneAttr())


def ir_type(t: Ty | TensorType) -> Attribute:
    return t if isinstance(t, TensorType) else mlir_type(t.elem)


def show(t: Ty | TensorType | Attribute) -> str:
    if isinstance(t, TensorType):
        dims = "x".join("?" if d < 0 else str(d) for d in t.get_shape())
        elem = "f32" if t.element_type == f32 else "i32"
        fmt = "" if isinstance(t.encoding, NoneAttr) else f", {t.encoding.text()}"
        return f"tensor<{dims}x{elem}{fmt}>"
    return t.show() if isinstance(t, Ty) else str(t)


def tensor(elem: Attribute, dims: list[int]) -> TensorType:
    return TensorType(elem, [DYNAMIC_INDEX if d < 0 else d for d in dims])


__all__ = ["port_type", "ir_type", "show", "tensor", "f32", "i32"]
