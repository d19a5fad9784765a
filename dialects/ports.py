"""The ports of a program: what a caller calls its inputs and outputs.

A graph or tensor program is a ``func.func``. The frontend names its arguments and
results with the attributes declared here, every later stage keeps them, and the
runtime binds a caller's inputs and outputs by them. They belong to the ``graph``
dialect's namespace (``graph.name``...) but live in their own module because they are
attributes of a ``func.func``, not of a graph op: this module is the one place their
spellings and their readers/writers are declared, and :mod:`ccomp.dialects.contracts`
verifies them. The storage of sparse ports is in :mod:`ccomp.dialects.sparse_format`.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DenseArrayBase, DictionaryAttr, FloatAttr, IntegerAttr, StringAttr, i64
from xdsl.ir import Attribute

PORT_NAME = "graph.name"
"""Argument or result attribute: the name a caller uses for this input or output
(``StringAttr``). Several consecutive values share one name when one input spans
several buffers (a sparse matrix after ``sparse-lower``)."""

PORT_DEFAULT = "graph.default"
"""Argument attribute: the value of a scalar input the caller leaves out
(``FloatAttr``/``IntegerAttr`` of the argument's type)."""

PORT_SHAPE = "graph.shape"
"""Argument attribute: the static size an input is declared with, as the NumPy shape
of its array without vector lanes (``array<i64: 512, 640>`` for
``image<f32, 640x512>``, rows first; ``array<i64: -1, 4>`` for ``tensor<?x4xf32>``,
``-1`` where the size comes from the input). Only inputs with a static size carry it:
the L2 buffer types are all dynamic, so this is how the runtime learns what to check.
On a result, the size it always has (a tensor result's declared size, a histogram's
bins, an image computed over a static-size input's extent), so outputs print it."""

OUTPUTS = "graph.outputs"
"""Function attribute: the names of the program's outputs, in order (``ArrayAttr`` of
``StringAttr``), one per result until results carry a ``graph.name`` of their own."""


def port_attrs(name: str, default: Attribute | None = None,
               shape: Sequence[int] | None = None) -> dict[str, Attribute]:
    """The entries of an argument/result attribute dictionary naming a port."""
    attrs: dict[str, Attribute] = {PORT_NAME: StringAttr(name)}
    if default is not None:
        attrs[PORT_DEFAULT] = default
    if shape is not None and any(d >= 0 for d in shape):
        attrs[PORT_SHAPE] = DenseArrayBase.from_list(i64, list(shape))
    return attrs


def port_shape(attrs: DictionaryAttr | None) -> tuple[int, ...] | None:
    """The ``graph.shape`` in an argument attribute dictionary, if any (-1: dynamic)."""
    shape = attrs.data.get(PORT_SHAPE) if attrs is not None else None
    return tuple(int(d) for d in shape.get_values()) if isinstance(shape, DenseArrayBase) else None


def port_name(attrs: DictionaryAttr | None) -> str | None:
    """The ``graph.name`` in an argument/result attribute dictionary, if any."""
    name = attrs.data.get(PORT_NAME) if attrs is not None else None
    return name.data if isinstance(name, StringAttr) else None


def port_default(attrs: DictionaryAttr | None) -> int | float | None:
    """The ``graph.default`` value in an argument attribute dictionary, if any."""
    default = attrs.data.get(PORT_DEFAULT) if attrs is not None else None
    return default.value.data if isinstance(default, (FloatAttr, IntegerAttr)) else None


def arg_ports(fn: func.FuncOp) -> list[DictionaryAttr]:
    """One attribute dictionary per argument (empty where the function has none)."""
    n = len(fn.function_type.inputs)
    return list(fn.arg_attrs.data) if fn.arg_attrs is not None else [DictionaryAttr({})] * n


def result_ports(fn: func.FuncOp) -> list[DictionaryAttr]:
    """One attribute dictionary per result (empty where the function has none)."""
    n = len(fn.function_type.outputs)
    return list(fn.res_attrs.data) if fn.res_attrs is not None else [DictionaryAttr({})] * n


def output_names(fn: func.FuncOp) -> list[str] | None:
    """The ``graph.outputs`` of a function, if it has them."""
    names = fn.attributes.get(OUTPUTS)
    return [n.data for n in names.data] if isinstance(names, ArrayAttr) else None


def set_output_names(fn: func.FuncOp, names: Sequence[str]) -> None:
    fn.attributes[OUTPUTS] = ArrayAttr([StringAttr(n) for n in names])
