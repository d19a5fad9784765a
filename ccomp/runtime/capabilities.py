"""Element types a device cannot run, and where a program first uses one.

A build is made once for a target and may run on any device of it (it is cached and
written to build folders), but a device may lack a type the build uses: a GL driver
without ``GL_ARB_gpu_shader_int64`` cannot compile ``int64_t``. The device says which
types it lacks (``Device.missing_types``); :func:`check_types` then reports the first
use of one in the program's text, before any kernel reaches the driver, so the user
gets a located error that names the target, the type and what to do, never a driver
log about a shader they did not write."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from xdsl.dialects.builtin import FileLineColLoc, MemRefType, ModuleOp, VectorType
from xdsl.ir import Attribute

from ccomp.diagnostics import CompileError, Source, SourceLoc

_WHAT = {"f64": "64-bit floats (f64)", "i64": "64-bit integers (i64)"}


def element_name(t: Attribute) -> str:
    """The scalar element of a value type as printed (``memref<?x?xf64>`` -> ``f64``)."""
    while isinstance(t, (MemRefType, VectorType)):
        t = t.element_type
    return str(t)


def _uses(module: ModuleOp, source_name: str, elems: Mapping[str, str]) -> Iterator[tuple[int, int, str]]:
    """(line, col, elem) of every located op that computes or reads an ``elems`` value."""
    for op in module.walk():
        loc = op.location
        if not isinstance(loc, FileLineColLoc) or loc.filename.data != source_name:
            continue
        for v in (*op.operands, *op.results):
            elem = element_name(v.type)
            if elem in elems:
                yield loc.line.data, loc.column.data, elem


def check_types(module: ModuleOp, source: Source, params: Mapping[str, tuple[SourceLoc | None, Attribute]],
                target: str, missing: Mapping[str, str]) -> None:
    """Raise a located :class:`CompileError` at the first use (parameter or operation,
    earliest in the text) of a type in ``missing`` (element name -> why the device
    lacks it); ``params`` maps each input to its location and type."""
    if not missing:
        return
    found = [(loc.line, loc.col, element_name(t)) for loc, t in params.values()
             if loc is not None and element_name(t) in missing]
    found += list(_uses(module, source.name, missing))
    if not found:
        return
    line, col, elem = min(found)
    what = _WHAT.get(elem, elem)
    raise CompileError(f"the {target} target has no {what} on this driver ({missing[elem]}); "
                       f"use -t llvm or -t opencl", SourceLoc(source.name, line, col), source)
