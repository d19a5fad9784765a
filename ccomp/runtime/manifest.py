"""The ``manifest.json`` of a build folder: what a host program needs to run ccomp's
kernels without ccomp — inputs, outputs, each kernel's bindings, uniforms,
workgroup size and dispatch rule, and the host schedule as a list of steps.

The schema is documented in ``docs/manifest.md``; ``MANIFEST_VERSION`` changes
whenever a field changes meaning.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from xdsl.dialects import arith, func, memref, scf
from xdsl.dialects.builtin import FloatAttr, IntegerAttr
from xdsl.ir import Block, SSAValue

from ccomp.dialects import kern
from ccomp.runtime.abi import Binding, KernelSource
from ccomp.runtime.devices.base import element_layout, scalar_dtype
from ccomp.runtime.signature import Port

MANIFEST_FORMAT = "ccomp-build"
MANIFEST_VERSION = 2  # 2: kernels carry their ssbo_only variant; llvm builds their may-alias modules


def port_json(port: Port) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": port.name, "type": str(port.type)}
    if port.is_buffer:
        layout = element_layout(port.type.element_type)
        entry.update(kind="image", dtype=layout.dtype.name, lanes=layout.lanes,
                     shape="(height, width" + (f", {layout.lanes})" if layout.lanes > 1 else ")"))
    else:
        entry.update(kind="scalar", dtype=scalar_dtype(port.type).name)
    if port.default is not None and not hasattr(port.default, "shape"):  # weights files stay in the IR
        entry["default"] = port.default
    if port.loc is not None:
        entry["line"], entry["col"] = port.loc.line, port.loc.col
    return entry


def kernel_json(ks: KernelSource, file: str, ssbo_file: str | None = None) -> dict[str, Any]:
    """The manifest entry of an emitted kernel whose source is ``file`` (and whose
    all-SSBO variant, if it has one, is ``ssbo_file``)."""
    entry = _source_json(ks, file)
    entry["dispatch"] = "groups[d] = ceil(grid[d] / local_size[d]) (the last dimension's span is " \
                        "local_size * coarsen); a reduce kernel writes one partial per workgroup"
    if ks.ssbo_only is not None:
        assert ssbo_file is not None
        entry["ssbo_only"] = _source_json(ks.ssbo_only, ssbo_file)
    return entry


def _source_json(ks: KernelSource, file: str) -> dict[str, Any]:
    entry = dataclasses.asdict(ks)
    del entry["source"], entry["ssbo_only"]
    entry["file"] = file
    return entry


def kernel_from_json(entry: dict[str, Any], read: Callable[[str], str]) -> KernelSource:
    """The ``KernelSource`` of a manifest entry; ``read`` gives the text of a file of the build."""
    def binding(b: dict[str, Any]) -> Binding:
        return Binding(**{**b, "dims": tuple(b["dims"]), "dim_slots": tuple(b["dim_slots"])})

    fields = {f.name for f in dataclasses.fields(KernelSource)}
    data = {k: v for k, v in entry.items() if k in fields}
    data.update(source=read(entry["file"]), local_size=tuple(entry["local_size"]),
                bindings=tuple(binding(b) for b in entry["bindings"]),
                extents=tuple(entry["extents"]), extent_slots=tuple(entry["extent_slots"]),
                bases=tuple(entry.get("bases", ())),
                partials=binding(entry["partials"]) if entry.get("partials") else None,
                ssbo_only=kernel_from_json(entry["ssbo_only"], read) if entry.get("ssbo_only") else None)
    return KernelSource(**data)


class _Names:
    """Stable names for SSA values in the schedule: inputs by name, others v0, v1..."""

    def __init__(self, fn: func.FuncOp, inputs: list[Port]):
        self.names: dict[SSAValue, str] = {a: p.name for a, p in zip(fn.body.block.args, inputs)}

    def __call__(self, v: SSAValue) -> str:
        if v not in self.names:
            self.names[v] = f"v{len(self.names)}"
        return self.names[v]


def schedule_json(fn: func.FuncOp, inputs: list[Port]) -> list[dict[str, Any]]:
    """The host function as a list of steps a host program can follow."""
    return _block_json(fn.body.block, _Names(fn, inputs))


def _block_json(block: Block, name: _Names) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for op in block.ops:
        if isinstance(op, kern.LaunchOp):
            steps.append({"op": "launch", "kernel": op.kernel_name, "grid": [name(g) for g in op.grid],
                          "args": [name(a) for a in op.args], "result": name(op.res[0]) if op.res else None})
            steps.append({"op": "barrier"})
        elif isinstance(op, memref.AllocOp):
            layout = element_layout(op.memref.type.element_type)
            steps.append({"op": "alloc", "result": name(op.memref), "shape": [name(d) for d in op.dynamic_sizes],
                          "dtype": layout.dtype.name, "lanes": layout.lanes})
        elif isinstance(op, memref.DimOp):
            steps.append({"op": "dim", "result": name(op.result), "buffer": name(op.source), "axis": name(op.index)})
        elif isinstance(op, memref.DeallocOp):
            steps.append({"op": "free", "buffer": name(op.memref)})
        elif isinstance(op, arith.ConstantOp) and isinstance(op.value, (IntegerAttr, FloatAttr)):
            steps.append({"op": "constant", "result": name(op.result), "value": op.value.value.data,
                          "type": str(op.result.type)})
        elif isinstance(op, scf.ForOp):
            body = op.body.block
            steps.append({"op": "for", "lower": name(op.lb), "upper": name(op.ub), "step": name(op.step),
                          "index": name(body.args[0]), "init": [name(v) for v in op.iter_args],
                          "carried": [name(a) for a in body.args[1:]], "body": _block_json(body, name),
                          "results": [name(r) for r in op.results]})
        elif isinstance(op, (scf.YieldOp, func.ReturnOp)):
            steps.append({"op": "yield" if isinstance(op, scf.YieldOp) else "return",
                          "values": [name(v) for v in op.operands]})
        else:
            steps.append({"op": "scalar", "name": op.name, "args": [name(v) for v in op.operands],
                          "results": [name(r) for r in op.results], "types": [str(r.type) for r in op.results],
                          "attributes": {k: str(v) for k, v in op.properties.items()}})
    return steps
