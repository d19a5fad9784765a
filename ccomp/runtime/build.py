"""Build folders: a compiled program written to disk, and read back without the compiler.

A build holds the kernel-level module (``host.mlir``: kernels plus the host
schedule, which ccomp's runtime runs), each generated kernel's source
(``kernels/*.comp`` or ``kernels/*.cl``; ``kernels.ll`` and each kernel's may-alias
variant ``kernels/*.may_alias.ll`` for LLVM), a copy of the
program (so input errors can still quote it) and ``manifest.json``
(:mod:`ccomp.runtime.manifest`), which lists every file with its SHA-256: a build whose
files do not match is refused, never trusted.

Everything a device runs is generated code, so reading a build back needs the runtime
alone: the IR is parsed (for the host schedule and the kernels' ABI), never lowered.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.printer import Printer

from ccomp import __version__
from ccomp.diagnostics import CompileError, Source, SourceLoc
from ccomp.dialects import sparse_format
from ccomp.runtime.devices.llvm_abi import LLVMCode
from ccomp.runtime.manifest import MANIFEST_FORMAT, MANIFEST_VERSION, kernel_from_json, kernel_json, port_json, schedule_json
from ccomp.runtime.signature import Port, signature_of

SUFFIX = {"glsl": ".comp", "opencl": ".cl"}


class BuildError(Exception):
    """A build folder is missing, from an incompatible version, or corrupted."""


@dataclass
class Build:
    """Everything needed to run a program on one target."""

    source: Source
    target: str
    module: ModuleOp
    function: str
    param_locs: dict[str, SourceLoc]
    sources: dict[str, Any] = field(default_factory=dict)  # kernel name -> KernelSource (C-style targets)
    llvm: LLVMCode | None = None  # the LLVM target's code

    @property
    def code(self) -> Any:
        """What the target's device loads (``Device.load``)."""
        return self.llvm if self.target == "llvm" else self.sources

    @property
    def host(self) -> func.FuncOp:
        """The host function (for a program with ``auto`` formats: its first variant)."""
        for op in self.module.body.block.ops:
            if isinstance(op, func.FuncOp) and op.sym_name.data == self.function:
                return op
        for op in self.module.body.block.ops:
            if isinstance(op, func.FuncOp) and sparse_format.variant_of(op) == self.function:
                return op
        raise BuildError(f"the build has no graph '{self.function}'")

    def ports(self) -> tuple[list[Port], list[Port]]:
        return signature_of(self.host, self.param_locs)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def module_text(module: ModuleOp) -> str:
    import io

    out = io.StringIO()
    Printer(stream=out, print_debuginfo=True).print_op(module)  # run-time checks report .cn locations
    return out.getvalue() + "\n"


def write_build(build: Build, out: Path) -> dict[str, Any]:
    """Write ``build`` into folder ``out`` (created if needed); returns the manifest."""
    try:
        (out / "kernels").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CompileError(f"cannot create output folder '{out}': {exc}") from None
    files: dict[str, bytes] = {"program.cn": build.source.text.encode(), "host.mlir": module_text(build.module).encode()}
    kernels = []
    for name, ks in build.sources.items():
        rel = f"kernels/{name}{SUFFIX[build.target]}"
        files[rel] = ks.source.encode()
        variant = None
        if ks.ssbo_only is not None:
            variant = f"kernels/{name}.ssbo{SUFFIX[build.target]}"
            files[variant] = ks.ssbo_only.source.encode()
        kernels.append(kernel_json(ks, rel, variant))
    llvm = None
    if build.llvm is not None:
        files["kernels.ll"] = build.llvm.module.encode()
        llvm = {"module": "kernels.ll", "may_alias": {}}
        for name, text in build.llvm.may_alias.items():
            llvm["may_alias"][name] = rel = f"kernels/{name}.may_alias.ll"
            files[rel] = text.encode()
    for rel, data in files.items():
        (out / rel).write_bytes(data)
    inputs, outputs = build.ports()
    manifest = {
        "format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "ccomp": __version__,
        "target": build.target, "graph": build.function, "source": build.source.name,
        "inputs": [port_json(p) for p in inputs], "outputs": [port_json(p) for p in outputs],
        "kernels": kernels, **({"llvm": llvm} if llvm is not None else {}),
        "schedule": schedule_json(build.host, inputs),
        "files": {rel: _sha(data) for rel, data in sorted(files.items())},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def read_build(folder: Path) -> Build:
    """Load a build folder, checking its format version and every file's checksum."""
    from ccomp.dialects.context import parse_module

    path = folder / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise BuildError(f"'{folder}' is not a build folder: it has no manifest.json") from None
    except (OSError, ValueError) as exc:
        raise BuildError(f"'{path}' is unreadable: {exc}") from None
    if manifest.get("format") != MANIFEST_FORMAT or manifest.get("version") != MANIFEST_VERSION:
        raise BuildError(f"'{folder}' was written by an incompatible ccomp "
                         f"(format {manifest.get('format')!r} version {manifest.get('version')!r})")
    data: dict[str, bytes] = {}
    for rel, digest in manifest["files"].items():
        try:
            data[rel] = (folder / rel).read_bytes()
        except OSError:
            raise BuildError(f"build '{folder}' is missing {rel}") from None
        if _sha(data[rel]) != digest:
            raise BuildError(f"build '{folder}' is corrupted: {rel} does not match its checksum")
    source = Source(data["program.cn"].decode(), manifest["source"])
    try:
        module = parse_module(data["host.mlir"].decode(), str(folder / "host.mlir"))
    except Exception as exc:
        raise BuildError(f"build '{folder}' has an invalid host.mlir: {exc}") from None
    try:
        sources = {k["name"]: kernel_from_json(k, lambda rel: data[rel].decode()) for k in manifest["kernels"]}
        llvm = None
        if "llvm" in manifest:
            entry = manifest["llvm"]
            llvm = LLVMCode(data[entry["module"]].decode(),
                            {name: data[rel].decode() for name, rel in entry["may_alias"].items()})
    except (KeyError, TypeError, ValueError) as exc:
        raise BuildError(f"build '{folder}' has an invalid manifest: {type(exc).__name__}: {exc}") from None
    if manifest["target"] == "llvm" and llvm is None:
        raise BuildError(f"build '{folder}' is an llvm build without kernels.ll")
    locs = {p["name"]: SourceLoc(source.name, p["line"], p["col"]) for p in manifest["inputs"] if "line" in p}
    return Build(source, manifest["target"], module, manifest["graph"], locs, sources, llvm)
