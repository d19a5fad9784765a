"""Binding a call's inputs in a few microseconds when they are already right.

``signature.bind_inputs`` checks every value against its port and writes a located
error for each way it can be wrong; it asks the ports' xDSL types as it goes, and
hashing or printing an xDSL type costs microseconds — a trivial program's whole call
on the native host costs less. :class:`FastBinder` decides once per program what a
correct value looks like (dtype, ndim, lanes, static sizes, integer range) and
accepts a call only when every value already is one: a C-contiguous array of the
exact dtype and shape, a scalar of a fitting kind. Anything else — a missing input,
a list, a float64 image, a non-contiguous view, an out-of-range integer — returns
``None`` and the caller takes the full path, which converts what it may and reports
the rest. So the fast path changes no behaviour, only the cost of the common case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ccomp.runtime.devices.base import element_layout, scalar_dtype
from ccomp.runtime.signature import Port

_MISSING = object()


class FastBinder:
    """The dense ports of a program, as plain checks; see the module docstring."""

    def __init__(self, inputs: Sequence[Port]):
        self.index = {p.name: i for i, p in enumerate(inputs)}
        self.defaults = [p.default for p in inputs]
        self.specs: list[tuple[Any, ...]] = []
        for p in inputs:
            if p.is_sparse:
                raise ValueError(f"input '{p.name}' is sparse: bind it with bind_inputs")
            if p.is_buffer:
                layout = element_layout(p.type.element_type)
                rank = p.type.get_num_dims()
                static = None if p.shape is None else tuple(p.shape)
                self.specs.append((True, layout.dtype, rank + (layout.lanes > 1), layout.lanes, rank, static))
            else:
                dtype = scalar_dtype(p.type)  # a TypeError for a port no scalar dtype fits: no fast path
                bounds = (int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)) if dtype.kind in "iu" else None
                self.specs.append((False, dtype, dtype.kind, bounds))

    @classmethod
    def for_program(cls, inputs: Sequence[Port], outputs: Sequence[Port], variants: Sequence[Any]
                    ) -> FastBinder | None:
        """A binder for a program with one variant and dense ports only (the common
        case); ``None`` where the full path must run (sparse ports, ``auto`` inputs)."""
        if len(variants) != 1 or variants[0].formats or any(p.is_sparse for p in outputs):
            return None
        try:
            return cls(inputs)
        except (ValueError, TypeError):
            return None

    def bind(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> list[Any] | None:
        """The runtime's arguments, or ``None`` when any value needs the full path."""
        n = len(self.specs)
        values = list(args)
        if kwargs or len(values) != n:  # else every input is given, in order: the usual call
            if len(values) > n:
                return None
            values += [_MISSING] * (n - len(values))
            for name, value in kwargs.items():
                i = self.index.get(name)
                if i is None or values[i] is not _MISSING:
                    return None
                values[i] = value
        for i, spec in enumerate(self.specs):
            v = values[i]
            if v is _MISSING:
                v = self.defaults[i]
                if v is None:
                    return None
            if spec[0]:
                _, dtype, ndim, lanes, rank, static = spec
                if (type(v) is not np.ndarray or v.dtype != dtype or v.ndim != ndim or not v.flags.c_contiguous
                        or 0 in v.shape or (lanes > 1 and v.shape[-1] != lanes)):
                    return None
                if static is not None and any(d >= 0 and d != got for d, got in zip(static, v.shape[:rank])):
                    return None
                values[i] = v
                continue
            _, dtype, kind, bounds = spec
            if kind == "b":
                if type(v) is not bool and not isinstance(v, np.bool_):
                    return None
            elif bounds is not None:
                if type(v) is not int and not isinstance(v, np.integer):
                    return None
                if not bounds[0] <= v <= bounds[1]:
                    return None
            elif type(v) not in (float, int) and not isinstance(v, (np.floating, np.integer)):
                return None
            values[i] = dtype.type(v)
        return values
