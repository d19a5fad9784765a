"""A compiled program's interface — its inputs, defaults and outputs — and the
checking of the values a caller passes in.

Input errors are reported at the parameter's declaration in the ``.cn`` file and
name the input, e.g. ``tonemap.cn:2:15: error: input 'src' must have shape
(height, width, 4), got (64, 64)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import MemRefType, i1

from ccomp.diagnostics import CompileError, Source, SourceLoc
from ccomp.dialects import sparse_format
from ccomp.dialects.snn import WEIGHTS_FILE
from ccomp.runtime.weights import load_weights
from ccomp.dialects.ports import arg_ports, output_names, port_default, port_name, port_shape, result_ports
from ccomp.runtime.devices.base import array_shape, element_layout, scalar_dtype


@dataclass(frozen=True, repr=False)
class Port:
    """One input or output: its name, MLIR type and (inputs) default value.

    It prints as the language writes it (``src: image<vec4>``, ``k: f32 = 1.5``), since
    a user reads ``prog.inputs``; the IR type stays in ``type`` for the runtime."""

    name: str
    type: Any
    default: Any = None
    loc: SourceLoc | None = None
    tensor: str | None = None  # tensors: "dense", or a sparse format ("csr", "bsr(4x4)", "auto")
    arity: int = 1  # host-function arguments (or results) the port covers
    shape: tuple[int, ...] | None = None  # the declared static size (graph.shape; -1: dynamic)
    values_type: Any = None  # sparse: the type of the part holding the values (its element: f32 or f64)

    @property
    def is_buffer(self) -> bool:
        return isinstance(self.type, MemRefType)

    @property
    def is_sparse(self) -> bool:
        return self.tensor not in (None, "dense")

    @property
    def language_type(self) -> str:
        """The type as a ``.cn`` program writes it: ``image<vec4>``, ``image<f32, 640x480>``,
        ``volume<f32, 64x64x64>``,
        ``f32``, ``bool``, ``tensor<?x4xf32>``, ``tensor<?x?xf32, csr>``."""
        if self.tensor is not None:
            rank = 2 if self.is_sparse else self.type.get_num_dims()
            dims = self.shape or (-1,) * rank
            text = "x".join("?" if d < 0 else str(d) for d in dims)
            t = self.values_type if self.is_sparse and self.values_type is not None else self.type
            elem = _element_name(element_layout(t.element_type)) if isinstance(t, MemRefType) else "f32"
            return f"tensor<{text}x{elem}" + (f", {self.tensor}>" if self.is_sparse else ">")
        if not self.is_buffer:
            return _element_name(element_layout(self.type))
        elem = _element_name(element_layout(self.type.element_type))
        kind = "volume" if self.type.get_num_dims() == 3 else "image"
        if self.shape is not None:
            return f"{kind}<{elem}, {'x'.join(map(str, reversed(self.shape)))}>"
        return f"{kind}<{elem}>"

    def describe(self) -> str:
        """The NumPy shape an array for this port has (``image (height, width, 4)``)."""
        if self.is_sparse:
            return f"sparse matrix ({self.tensor})"
        if self.tensor == "dense":
            return "tensor " + self._shape_text(("n",) if self.type.get_num_dims() == 1 else ("rows", "cols"))
        if not self.is_buffer:
            return self.language_type
        if self.type.get_num_dims() == 3:
            return "volume " + self._shape_text(("depth", "height", "width"))
        return "image " + self._shape_text(("height", "width"))

    def _shape_text(self, names: Sequence[str]) -> str:
        dims = [str(d) if self.shape is not None and d >= 0 else n
                for n, d in zip(names, self.shape or (-1,) * len(names))]
        lanes = element_layout(self.type.element_type).lanes
        return "(" + ", ".join(dims + ([str(lanes)] if lanes > 1 else [])) + ")"

    def __str__(self) -> str:
        default = "" if self.default is None else f" = {_literal(self.default, self.type)}"
        return f"{self.name}: {self.language_type}{default}"

    def __repr__(self) -> str:
        return f"Port({self})"


def _element_name(layout: Any) -> str:
    """The language's name of a stored element: ``f32``, ``i32``, ``bool``, ``vec4``..."""
    kind = layout.dtype.kind
    scalar = "bool" if kind == "b" else f"{'f' if kind == 'f' else 'i'}{layout.dtype.itemsize * 8}"
    if layout.lanes == 1:
        return scalar
    return f"vec{layout.lanes}" if scalar == "f32" else f"{scalar[0]}vec{layout.lanes}"


def _literal(value: Any, t: Any) -> str:
    if hasattr(value, "shape"):  # weights read from a file (ccomp.runtime.weights)
        return f"<weights {'x'.join(map(str, value.shape))}>"
    if element_layout(t).dtype.kind == "b":
        return "true" if value else "false"
    return repr(value)


def _a(type_name: str) -> str:
    """``type_name`` with its article: an f32, an i32, a bool, an image<vec4>."""
    return ("an " if type_name[0] in "aeifo" else "a ") + type_name


def _ports(types: Sequence[Any], attrs: Sequence[Any], names: Sequence[str],
           locs: Mapping[str, SourceLoc]) -> list[Port]:
    """Ports of a host function's arguments or results. A tensor program's sparse matrix
    spans several consecutive values (its storage and sizes, tagged ``sparse.part`` by
    ``sparse-lower``): they make one port."""
    ports: list[Port] = []
    k = 0
    while k < len(types):
        name = port_name(attrs[k]) or names[len(ports)]
        tensor = "auto" if sparse_format.auto_of(attrs[k]) is not None else sparse_format.storage_of(attrs[k])
        if tensor is None and isinstance(types[k], MemRefType) and types[k].get_num_dims() == 1:
            tensor = "dense"  # images have two dimensions: a vector is a graph's tensor result (a histogram)
        arity = 1
        if sparse_format.part_of(attrs[k]) is not None:
            while k + arity < len(types) and port_name(attrs[k + arity]) == name and \
                    sparse_format.part_of(attrs[k + arity]) is not None:
                arity += 1
        default = port_default(attrs[k])
        if WEIGHTS_FILE in attrs[k].data:  # weights a network read from a file
            default = load_weights(attrs[k].data[WEIGHTS_FILE].data, tensor not in (None, "dense"))
        if default is not None and types[k] == i1:  # an i1 literal is 0 or 1; the language's is a bool
            default = bool(default)
        values = next((types[j] for j in range(k, k + arity) if sparse_format.part_of(attrs[j]) in ("data", "values")),
                      None)
        ports.append(Port(name, types[k], default, locs.get(name), tensor, arity, port_shape(attrs[k]), values))
        k += arity
    return ports


def signature_of(fn: func.FuncOp, locs: Mapping[str, SourceLoc]) -> tuple[list[Port], list[Port]]:
    """Inputs and outputs of a host function produced by ``graph-to-kern``/``sparse-lower``."""
    n_in, n_out = len(fn.body.block.args), len(fn.function_type.outputs)
    names = output_names(fn) or [f"out{i}" for i in range(n_out)]
    inputs = _ports([a.type for a in fn.body.block.args], arg_ports(fn), [f"arg{i}" for i in range(n_in)], locs)
    outputs = _ports(list(fn.function_type.outputs), result_ports(fn), names + [f"out{i}" for i in range(n_out)], {})
    return inputs, outputs


def _error(port: Port, message: str, source: Source | None) -> CompileError:
    return CompileError(message, port.loc, source if port.loc is not None else None)


def bind_inputs(inputs: Sequence[Port], args: Sequence[Any], kwargs: Mapping[str, Any],
                source: Source | None, program: str) -> list[Any]:
    """Match positional and keyword arguments to inputs, fill defaults, check values."""
    if len(args) > len(inputs):
        raise CompileError(f"{program} takes {len(inputs)} inputs, got {len(args)} positional arguments")
    values: dict[str, Any] = {p.name: a for p, a in zip(inputs, args)}
    known = {p.name for p in inputs}
    for name, value in kwargs.items():
        if name not in known:
            raise CompileError(f"{program} has no input '{name}'; its inputs are {', '.join(sorted(known))}")
        if name in values:
            raise CompileError(f"input '{name}' is given twice")
        values[name] = value
    bound = []
    for port in inputs:
        if port.name not in values:
            if port.default is None:
                raise _error(port, f"input '{port.name}' is missing", source)
            values[port.name] = port.default
        bound.append(check_value(port, values[port.name], source))
    return bound


def check_value(port: Port, value: Any, source: Source | None) -> Any:
    """The value converted to what the runtime expects, or a located error. Messages
    name the language's types (``bool``, ``image<vec4>``), never the IR's."""
    fail = lambda message: _error(port, message, source)  # noqa: E731
    if port.is_sparse:
        from ccomp.runtime.tensor_ports import check_sparse

        checked = check_sparse(port, value, fail)
        _check_static(port, tuple(checked.shape), fail)
        return checked
    if not port.is_buffer:
        return _check_scalar(port, value, fail)
    if not isinstance(value, np.ndarray):
        shape = port.describe().split(" ", 1)[1]
        raise fail(f"input '{port.name}' ({port.language_type}) must be a NumPy array of shape {shape}, "
                   f"got {type(value).__name__}")
    layout = element_layout(port.type.element_type)
    rank = port.type.get_num_dims()
    want_ndim = rank + (1 if layout.lanes > 1 else 0)
    if value.ndim != want_ndim or (layout.lanes > 1 and value.shape[-1] != layout.lanes):
        shape = port.describe().split(" ", 1)[1] if port.is_buffer else port.describe()
        raise fail(f"input '{port.name}' must have shape {shape}, got {tuple(value.shape)}")
    if any(d == 0 for d in value.shape):
        raise fail(f"input '{port.name}' is empty (shape {tuple(value.shape)})")
    _check_static(port, tuple(value.shape[:rank]), fail)
    if value.dtype != layout.dtype:
        raise fail(f"input '{port.name}' must have dtype {layout.dtype}, got {value.dtype}; "
                   f"convert it with .astype(np.{layout.dtype})")
    expected = array_shape(port.type, value.shape[:rank])
    assert tuple(value.shape) == expected
    return np.ascontiguousarray(value)


def _check_static(port: Port, shape: tuple[int, ...], fail: Any) -> None:
    """A declared static size (``image<f32, 512x512>``, ``tensor<?x4xf32>``) must match."""
    if port.shape is None or all(d < 0 or d == got for d, got in zip(port.shape, shape)):
        return
    order = "depth, height, width: slices first" if port.type.get_num_dims() == 3 else "height, width: rows first"
    want = port.describe().split(" ", 1)[1] + (f" ({order})" if port.tensor is None else "")
    raise fail(f"input '{port.name}' is declared {port.language_type}: its shape must be {want}, "
               f"got {tuple(int(d) for d in shape)}")


def _check_scalar(port: Port, value: Any, fail: Any) -> Any:
    dtype = scalar_dtype(port.type)
    name = port.language_type
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if not isinstance(value, (int, float, bool, np.number, np.bool_)):
        raise fail(f"input '{port.name}' must be {_a(name)} scalar, got {type(value).__name__}")
    if dtype.kind == "b":  # 2 or 0.5 as a bool is almost always a mistake: refuse it
        if not isinstance(value, (bool, np.bool_)):
            raise fail(f"input '{port.name}' is a bool: give True or False, got {value!r}")
        return dtype.type(value)
    if dtype.kind in "iu" and isinstance(value, (float, np.floating)) and not float(value).is_integer():
        raise fail(f"input '{port.name}' must be an integer ({name}), got {value}")
    if dtype.kind in "iu" and not isinstance(value, (bool, np.bool_)):
        info = np.iinfo(dtype)
        if not info.min <= int(value) <= info.max:
            raise fail(f"input '{port.name}' must fit in {name} ({info.min} to {info.max}), got {int(value)}")
    return dtype.type(value)
