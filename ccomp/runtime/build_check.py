"""Cross-checks between the parts of a build: the manifest's kernel entries, the
``kern.kernel`` ops of ``host.mlir`` and the kernel sources.

A device binds buffers and sizes where the manifest says (an OpenCL argument index, a
GLSL binding point or uniform name). If a tampered manifest moved a buffer's size to
another buffer's slot, the kernel would clamp its reads against the wrong size; if it
swapped two slots of different types, the driver would read a buffer as a scalar. So
before anything runs, every entry must agree with the kernel op it describes (count,
order, types, element layout, rank, reduction) and with the source it points at (the
OpenCL parameter list, the GLSL declarations). Failures are :class:`ManifestError`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from xdsl.dialects import arith, func, memref, scf
from xdsl.dialects.builtin import IntegerAttr, MemRefType, ModuleOp

from ccomp.dialects import kern
from ccomp.runtime.devices.base import element_layout
from ccomp.runtime.manifest_schema import ManifestError


def check_kernels(manifest: dict[str, Any], module: ModuleOp, read: Callable[[str], str]) -> None:
    """Refuse a manifest whose kernels disagree with ``module`` or with their sources."""
    ops = {op.kernel_name: op for op in module.body.block.ops if isinstance(op, kern.KernelOp)}
    entries = manifest["kernels"]
    if manifest["target"] == "llvm":
        if entries:
            raise ManifestError("kernels: an llvm build lists its kernels in 'llvm', not 'kernels'")
        if "llvm" not in manifest:
            raise ManifestError("an llvm build needs its 'llvm' entry (kernels.ll)")
        unknown = set(manifest["llvm"]["may_alias"]) - set(ops)
        if unknown:
            raise ManifestError(f"llvm.may_alias names kernels host.mlir does not define: {sorted(unknown)[:5]}")
        return
    if "llvm" in manifest:
        raise ManifestError(f"a {manifest['target']} build has an 'llvm' entry")
    names = [e["name"] for e in entries]
    if sorted(names) != sorted(ops) or len(set(names)) != len(names):
        raise ManifestError(f"kernels: the manifest lists {sorted(names)[:8]}, host.mlir defines {sorted(ops)[:8]}")
    for i, entry in enumerate(entries):
        _check_entry(f"kernels[{i}]", entry, ops[entry["name"]], manifest["target"], read)
        if entry.get("ssbo_only"):
            _check_entry(f"kernels[{i}].ssbo_only", entry["ssbo_only"], ops[entry["name"]], manifest["target"], read)


def check_host(module: ModuleOp) -> None:
    """Refuse host-schedule ops the runner would fail on with a Python exception rather
    than a diagnostic: a ``memref.dim`` axis that is not a constant in range, a loop step
    that is not a positive constant, a check message that does not format with its values."""
    for fn in module.body.block.ops:
        if not isinstance(fn, func.FuncOp):
            continue
        for op in fn.walk():
            if isinstance(op, memref.DimOp):
                axis = _constant(op.index)
                if axis is None or not 0 <= axis < op.source.type.get_num_dims():
                    raise ManifestError(f"host.mlir: memref.dim of a rank-{op.source.type.get_num_dims()} buffer "
                                        f"along axis {axis if axis is not None else '(not a constant)'}")
            elif isinstance(op, scf.ForOp):
                step = _constant(op.step)
                if step is None or step < 1:
                    raise ManifestError("host.mlir: a host loop's step must be a positive constant")
            elif isinstance(op, kern.CheckOp):
                try:
                    op.message.data.format(*range(len(op.values)))
                except (IndexError, KeyError, ValueError, AttributeError):
                    raise ManifestError(f"host.mlir: kern.check message {op.message.data[:80]!r} does not "
                                        f"format with its {len(op.values)} values") from None


def _constant(v: Any) -> int | None:
    op = v.owner
    if isinstance(op, arith.ConstantOp) and isinstance(op.value, IntegerAttr):
        return op.value.value.data
    return None


def check_llvm(manifest: dict[str, Any], module: ModuleOp, read: Callable[[str], str]) -> None:
    """Refuse LLVM modules that do not parse, or lack a kernel's exported function of the
    shape ``void NAME(i64* ctx, i64 begin, i64 end, ptr partial)`` (llvm_abi.py): the
    device would otherwise fail deep inside the JIT, or call the wrong thing."""
    import llvmlite.binding as llvm

    from ccomp.runtime.devices.jit import _initialise_llvm

    _initialise_llvm()  # libm and libgcc_s loaded, as the JIT will have them
    names = [op.kernel_name for op in module.body.block.ops if isinstance(op, kern.KernelOp)]
    entry = manifest["llvm"]
    for rel, symbols in [(entry["module"], names), *((r, [n]) for n, r in entry["may_alias"].items())]:
        try:
            mod = llvm.parse_assembly(read(rel))
            mod.verify()
        except RuntimeError as exc:
            raise ManifestError(f"{rel} is not valid LLVM IR: {str(exc).strip()[:500]}") from None
        unresolved = [f.name for f in mod.functions if f.is_declaration and not f.name.startswith("llvm.")
                      and llvm.address_of_symbol(f.name) is None]
        if unresolved:
            raise ManifestError(f"{rel} calls functions this process does not have: {', '.join(unresolved[:5])}")
        defined = {f.name: f for f in mod.functions if not f.is_declaration}
        for name in symbols:
            fn = defined.get(name)
            if fn is None or len(list(fn.arguments)) != 4:
                raise ManifestError(f"{rel} does not define kernel @{name} with the four-argument entry point")


def _check_entry(where: str, e: dict[str, Any], op: kern.KernelOp, target: str, read: Callable[[str], str]) -> None:
    def fail(message: str) -> ManifestError:
        return ManifestError(f"{where}: {message}")

    rank = op.rank.value.data
    if e["target"] != target or e["name"] != op.kernel_name:
        raise fail(f"describes a {e['target']} kernel @{e['name']} in a {target} build")
    if e["rank"] != rank or len(e["local_size"]) != rank or len(e["extents"]) != rank \
            or len(e["extent_slots"]) != rank or len(e.get("bases", [])) not in (0, rank):
        raise fail(f"its rank, local_size, extents or bases do not match @{op.kernel_name}'s rank {rank}")
    if math.prod(e["local_size"]) > 1024:
        raise fail(f"local_size {e['local_size']} has more than 1024 invocations")
    args = op.body.block.args
    if len(e["bindings"]) != len(args):
        raise fail(f"lists {len(e['bindings'])} bindings, @{op.kernel_name} has {len(args)}")
    for j, (b, arg) in enumerate(zip(e["bindings"], args)):
        _check_binding(f"{where}.bindings[{j}]", b, j, arg.type)
    reduce = op.reduce.data if op.reduce is not None else None
    if e.get("reduce") != reduce or (reduce is None) != (e.get("partials") is None):
        raise fail(f"its reduction does not match @{op.kernel_name} (reduce {reduce!r})")
    if reduce is not None:
        layout = element_layout(op.body.block.last_op.values[0].type)  # type: ignore[union-attr]
        p = e["partials"]
        if e.get("result_dtype") != layout.dtype.name or p["kind"] != "buffer" or p["arg"] != -1 or p["dims"]:
            raise fail("its result_dtype or partials binding does not match the reduction")
    _check_source(where, e, read(e["file"]), target)


def _check_binding(where: str, b: dict[str, Any], index: int, t: Any) -> None:
    if b["arg"] != index or b["type"] != str(t):
        raise ManifestError(f"{where}: binding {b['name']!r} says argument {b['arg']} of type {b['type'][:60]}, "
                            f"the kernel's argument {index} is {t}")
    if isinstance(t, MemRefType):
        layout, rank = element_layout(t.element_type), t.get_num_dims()
        ok = b["kind"] == "buffer" and b["dtype"] == layout.dtype.name and b["lanes"] == layout.lanes \
            and len(b["dims"]) == rank and len(b["dim_slots"]) == rank
    else:
        layout = element_layout(t)
        ok = b["kind"] == "uniform" and b["dtype"] == layout.dtype.name and b["lanes"] == layout.lanes \
            and not b["dims"]
    if not ok:
        raise ManifestError(f"{where}: binding {b['name']!r} does not match the kernel's argument of type {t}")


def _all_bindings(e: dict[str, Any]) -> list[dict[str, Any]]:
    return [*e["bindings"], *([e["partials"]] if e.get("partials") else [])]


def _check_source(where: str, e: dict[str, Any], source: str, target: str) -> None:
    if target == "opencl":
        _check_opencl(where, e, source)
    else:
        _check_glsl(where, e, source)


def _check_opencl(where: str, e: dict[str, Any], source: str) -> None:
    """Every argument index the manifest gives names the parameter of that name, and
    together they are the parameter list: nothing missing, nothing bound twice."""
    m = re.search(rf"\bvoid\s+{re.escape(e['entry'])}\s*\(([^)]*)\)", source)
    if m is None:
        raise ManifestError(f"{where}: {e['file']} defines no kernel {e['entry']!r}")
    params = [re.findall(r"\w+", p)[-1] if re.findall(r"\w+", p) else "" for p in m.group(1).split(",")]
    wanted: dict[int, str] = {}
    for b in _all_bindings(e):
        wanted[b["slot"]] = b["name"]
        wanted.update(zip(b["dim_slots"], b["dims"]))
    wanted.update(zip(e["extent_slots"], e["extents"]))
    given = sum(1 + len(b["dim_slots"]) for b in _all_bindings(e)) + len(e["extent_slots"])
    if len(wanted) != given or sorted(wanted) != list(range(len(params))):
        raise ManifestError(f"{where}: its argument indices do not cover the {len(params)} parameters of "
                            f"{e['entry']} once each")
    for slot, name in wanted.items():
        if params[slot] != name:
            raise ManifestError(f"{where}: argument {slot} of {e['entry']} is {params[slot]!r}, the manifest "
                                f"binds {name!r} there")


_GLSL_BUFFER = re.compile(r"layout\(\s*(?:std430\s*,\s*)?binding\s*=\s*(\d+)\s*\)[^;{]*?\b"
                          r"(samplerBuffer|isamplerBuffer|buffer)\s+(\w+)")


def _check_glsl(where: str, e: dict[str, Any], source: str) -> None:
    """Every buffer's binding point (or texture unit) declares that buffer, and every
    uniform the manifest names is declared: a moved slot or size is refused."""
    declared: dict[tuple[str, int], str] = {}
    for slot, kind, name in _GLSL_BUFFER.findall(source):
        key = ("ssbo" if kind == "buffer" else "texture", int(slot))
        if key in declared:
            raise ManifestError(f"{where}: {e['file']} binds two buffers at {key[0]} {slot}")
        declared[key] = name
    uniforms = set(re.findall(r"\buniform\s+\w+\s+(\w+)\s*;", source))
    for b in _all_bindings(e):
        if b["kind"] == "uniform":
            if b["slot"] != -1 or b["name"] not in uniforms:
                raise ManifestError(f"{where}: uniform {b['name']!r} is not declared in {e['file']}")
            continue
        key = ("texture", b["slot"]) if b.get("texture_format") else ("ssbo", b["slot"])
        expected = b["name"] if key[0] == "texture" else b["name"] + "_buf"
        if declared.get(key) != expected:
            raise ManifestError(f"{where}: {key[0]} {b['slot']} of {e['file']} is not buffer {b['name']!r}")
        if any(d not in uniforms for d in b["dims"]):
            raise ManifestError(f"{where}: the sizes of {b['name']!r} are not uniforms of {e['file']}")
    if any(x not in uniforms for x in [*e["extents"], *e.get("bases", [])]):
        raise ManifestError(f"{where}: its extents or bases are not uniforms of {e['file']}")
