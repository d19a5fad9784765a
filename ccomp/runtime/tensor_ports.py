"""Tensor inputs and outputs of a compiled program: sparse matrices and format variants.

A sparse parameter spans several host-function arguments (its storage arrays and
its sizes; see :mod:`ccomp.passes.sparse_lower`). This module converts what a caller
passes — any ``scipy.sparse`` matrix, a dense NumPy array, a matrix read from a
``.npz`` file — into exactly those arguments, and turns sparse results back into
``scipy.sparse`` matrices.

A parameter declared ``auto`` was compiled once per candidate format
(``sparse-select-format``). :class:`Variants` measures the input when the program
runs (:func:`ccomp.runtime.sparse.select.choose`), converts it to the chosen format
and says which variant runs; :attr:`Variants.explanation` is the sentence
``--explain`` prints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp

from ccomp.diagnostics import CompileError
from ccomp.dialects import sparse_format
from ccomp.dialects.ports import arg_ports, port_name
from ccomp.runtime.sparse.formats import Format, SparseArrays, SparseInputError, from_value, to_scipy
from ccomp.runtime.signature import Port

Fail = Callable[[str], Exception]


def check_sparse(port: Port, value: Any, fail: Fail) -> Any:
    """A sparse input in its declared format (``auto`` inputs are converted later, once
    the format is chosen)."""
    if port.tensor == "auto":
        shape = getattr(value, "shape", None)
        if shape is None or len(shape) != 2:
            raise fail(f"input '{port.name}' must be a matrix (a scipy.sparse matrix or a 2-D NumPy array), "
                       f"got {type(value).__name__}" + (f" of shape {tuple(shape)}" if shape is not None else ""))
        return value
    return convert(port, value, Format.parse(port.tensor), fail)


def convert(port: Port, value: Any, fmt: Format, fail: Fail) -> SparseArrays:
    try:
        arrays = from_value(value, fmt, values_dtype(port))
    except SparseInputError as exc:
        raise fail(f"input '{port.name}': {exc}") from None
    if min(arrays.shape) < 1:
        raise fail(f"input '{port.name}' is empty (shape {arrays.shape})")
    return arrays


def values_dtype(port: Port) -> Any:
    """The NumPy dtype a sparse port's values have in the program (float32 or float64)."""
    t = port.values_type if port.values_type is not None else port.type  # auto: the dense variant's matrix
    return np.dtype(np.float64) if str(getattr(t, "element_type", "")) == "f64" else np.dtype(np.float32)


def stored(arrays: SparseArrays) -> int:
    """The entry count the kernels bound their loops with (blocks for bsr)."""
    if arrays.format.kind in ("csr", "csc", "bsr"):
        return int(arrays.parts["indptr"][-1])
    return arrays.nnz


def flatten(values: Sequence[Any]) -> list[Any]:
    """Host-function arguments: a sparse matrix becomes its parts, rows, cols, count."""
    args: list[Any] = []
    for v in values:
        if not isinstance(v, SparseArrays):
            args.append(v)
        elif v.format.kind == "dense":
            args.append(v.parts["values"])
        else:
            args += [v.parts[p] for p in v.format.parts]
            args += [np.int32(v.shape[0]), np.int32(v.shape[1]), np.int32(stored(v))]
    return args


def regroup(outputs: Sequence[Port], values: Sequence[Any]) -> list[Any]:
    """Results by port: sparse results as ``scipy.sparse`` matrices (in their format; a bsr
    whose shape is no block multiple, which scipy cannot hold, as csr), sharing the kernels'
    buffers. Results are validated like inputs, so a kernel that wrote a malformed matrix
    is reported as an internal error, never handed on or ended in a traceback."""
    out, k = [], 0
    for port in outputs:
        chunk = values[k: k + port.arity]
        k += port.arity
        if not port.is_sparse:
            out.append(chunk[0])
            continue
        fmt = Format.parse(port.tensor)
        *parts, rows, cols, count = chunk
        if fmt.kind == "coo":  # buffers are at least one element long; the count says what is used
            parts = [p[: int(count)] if int(count) else np.zeros(1, p.dtype) for p in parts]
        arrays = SparseArrays(fmt, (int(rows), int(cols)), dict(zip(fmt.parts, parts)))
        try:
            out.append(to_scipy(arrays))
        except SparseInputError as exc:
            raise CompileError(f"internal error: result '{port.name}' ({fmt}) came back malformed: {exc}") from None
    return out


@dataclass(frozen=True)
class Variant:
    fn: func.FuncOp
    formats: dict[str, str]  # auto parameter -> the format this variant was compiled for


class Variants:
    """The host functions compiled for one program: one, or one per format choice."""

    def __init__(self, module: ModuleOp, function: str):
        fns = [op for op in module.body.block.ops if isinstance(op, func.FuncOp)]
        exact = [f for f in fns if f.sym_name.data == function]
        if exact:
            self.variants = [Variant(exact[0], {})]
        else:
            self.variants = [Variant(f, _auto_formats(f)) for f in fns if sparse_format.variant_of(f) == function]
        self.explanation: list[str] = []

    def candidates(self, name: str) -> list[Format]:
        return [Format.parse(v.formats[name]) for v in self.variants if name in v.formats]

    def select(self, ports: Sequence[Port], bound: list[Any], fail: Callable[[Port, str], Exception]
               ) -> tuple[int, list[Any]]:
        """The variant to run for these inputs, and the inputs in its formats."""
        if len(self.variants) == 1 and not self.variants[0].formats:
            self.explanation = []
            return 0, bound
        from ccomp.runtime.sparse.select import choose

        chosen, explanation, values = {}, [], list(bound)
        for k, port in enumerate(ports):
            if port.tensor != "auto":
                continue
            try:
                choice = choose(values[k], tuple(dict.fromkeys(self.candidates(port.name))))
            except SparseInputError as exc:
                raise fail(port, f"input '{port.name}': {exc}") from None
            chosen[port.name] = str(choice.format).replace("(", "").replace(")", "")
            explanation.append(f"{port.name}: {choice.format} — {choice.reason}")
            values[k] = convert(port, values[k], choice.format, lambda m, p=port: fail(p, m))
        for index, v in enumerate(self.variants):
            if v.formats == chosen:
                self.explanation = explanation
                return index, values
        raise AssertionError(f"no variant compiled for {chosen}")


def _auto_formats(fn: func.FuncOp) -> dict[str, str]:
    formats = {}
    for attrs in arg_ports(fn):
        if (tag := sparse_format.auto_of(attrs)) is not None:
            formats[port_name(attrs)] = tag
    return formats
