"""The backends' one dispatch style: a table keyed on op classes.

An emitter method that handles ops is marked ``@emits(arith.AddfOp, ...)``;
:func:`op_table` collects the marked methods of a class and of its bases, so a target
overrides the handler of one op by marking its own method (GLSL's ``arith.divsi``
over the C-style one). An op is looked up by ``type(op)``: one dict probe, no method
name built from ``op.name``, and a handler names the classes it takes, so a typo is
an import error rather than an op that silently falls through. An op without a
handler is reported by :func:`cannot_emit`, the same way in every backend.

xDSL's WGSL printer dispatches with ``functools.singledispatchmethod``; its registry
is shared by a class and all its subclasses, which does not let GLSL and OpenCL
override the same op of their common base differently, so ccomp uses tables.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from xdsl.ir import Operation

from ccomp.diagnostics import PassError
from ccomp.dialects.kern import KernelOp

F = TypeVar("F", bound=Callable[..., Any])
_MARK = "_ccomp_emits"


def emits(*op_types: type[Operation]) -> Callable[[F], F]:
    """Mark a method as the handler of ``op_types``."""

    def mark(fn: F) -> F:
        setattr(fn, _MARK, getattr(fn, _MARK, ()) + op_types)
        return fn

    return mark


@cache
def op_table(cls: type) -> dict[type[Operation], Callable[..., Any]]:
    """Op class -> handler (a function taking ``self`` first) for the marked methods of
    ``cls`` and its bases; a subclass's handler wins, and a method overridden by name
    in a subclass stays the handler of the ops its base marked it for."""
    names: dict[type[Operation], str] = {}
    for klass in reversed(cls.__mro__):
        for name, attr in vars(klass).items():
            for op_type in getattr(attr, _MARK, ()):
                names[op_type] = name
    return {op_type: getattr(cls, name) for op_type, name in names.items()}


def cannot_emit(op: Operation, target: str) -> PassError:
    """The error for an op that ``target``'s backend has no handler for: earlier stages
    should never hand it such an op, so it is an internal error, located at the op and
    naming its kernel (hand-written IR often has no location)."""
    kernel = op.parent_op()
    while kernel is not None and not isinstance(kernel, KernelOp):
        kernel = kernel.parent_op()
    notes = [f"in kern.kernel @{kernel.kernel_name}"] if kernel is not None else []
    return PassError(op, f"the {target} backend cannot emit '{op.name}'", internal=True, notes=notes)
