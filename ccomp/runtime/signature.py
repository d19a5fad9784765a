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
from xdsl.dialects.builtin import MemRefType

from ccomp.diagnostics import CompileError, Source, SourceLoc
from ccomp.dialects import sparse_format
from ccomp.dialects.ports import arg_ports, output_names, port_default, port_name, result_ports
from ccomp.runtime.devices.base import array_shape, element_layout, scalar_dtype


@dataclass(frozen=True)
class Port:
    """One input or output: its name, MLIR type and (inputs) default value."""

    name: str
    type: Any
    default: Any = None
    loc: SourceLoc | None = None
    tensor: str | None = None  # tensors: "dense", or a sparse format ("csr", "bsr(4x4)", "auto")
    arity: int = 1  # host-function arguments (or results) the port covers

    @property
    def is_buffer(self) -> bool:
        return isinstance(self.type, MemRefType)

    @property
    def is_sparse(self) -> bool:
        return self.tensor not in (None, "dense")

    def describe(self) -> str:
        if self.is_sparse:
            return f"sparse matrix ({self.tensor})"
        if self.tensor == "dense":
            return "tensor (n,)" if self.type.get_num_dims() == 1 else "tensor (rows, cols)"
        if not self.is_buffer:
            return str(self.type)
        lanes = element_layout(self.type.element_type).lanes
        return "image (height, width" + (f", {lanes}" if lanes > 1 else "") + ")"


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
        arity = 1
        if sparse_format.part_of(attrs[k]) is not None:
            while k + arity < len(types) and port_name(attrs[k + arity]) == name and \
                    sparse_format.part_of(attrs[k + arity]) is not None:
                arity += 1
        ports.append(Port(name, types[k], port_default(attrs[k]), locs.get(name), tensor, arity))
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
    """The value converted to what the runtime expects, or a located error."""
    if port.is_sparse:
        from ccomp.runtime.tensor_ports import check_sparse

        return check_sparse(port, value, lambda message: _error(port, message, source))
    if not port.is_buffer:
        dtype = scalar_dtype(port.type)
        if isinstance(value, np.ndarray) and value.shape == ():
            value = value[()]
        if not isinstance(value, (int, float, bool, np.number, np.bool_)):
            raise _error(port, f"input '{port.name}' must be a {port.type} scalar, got {type(value).__name__}", source)
        if dtype.kind in "iu" and isinstance(value, (float, np.floating)) and not float(value).is_integer():
            raise _error(port, f"input '{port.name}' must be an integer, got {value}", source)
        if dtype.kind in "iu" and not isinstance(value, (bool, np.bool_)):
            info = np.iinfo(dtype)
            if not info.min <= int(value) <= info.max:
                raise _error(port, f"input '{port.name}' must fit in {port.type} "
                                   f"({info.min} to {info.max}), got {int(value)}", source)
        return dtype.type(value)
    if not isinstance(value, np.ndarray):
        raise _error(port, f"input '{port.name}' must be a NumPy array ({port.describe()}), "
                           f"got {type(value).__name__}", source)
    layout = element_layout(port.type.element_type)
    rank = port.type.get_num_dims()
    want_ndim = rank + (1 if layout.lanes > 1 else 0)
    if value.ndim != want_ndim or (layout.lanes > 1 and value.shape[-1] != layout.lanes):
        shape = port.describe().removeprefix("image ").removeprefix("tensor ")
        raise _error(port, f"input '{port.name}' must have shape {shape}, got {tuple(value.shape)}", source)
    if any(d == 0 for d in value.shape):
        raise _error(port, f"input '{port.name}' is empty (shape {tuple(value.shape)})", source)
    if value.dtype != layout.dtype:
        raise _error(port, f"input '{port.name}' must have dtype {layout.dtype}, got {value.dtype}; "
                           f"convert it with .astype(np.{layout.dtype})", source)
    expected = array_shape(port.type, value.shape[:rank])
    assert tuple(value.shape) == expected
    return np.ascontiguousarray(value)
