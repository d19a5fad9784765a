"""Build folders: a compiled program written to disk, and read back without the compiler.

A build holds the kernel-level module (``host.mlir``: kernels plus the host
schedule, which ccomp's runtime runs), each generated kernel's source
(``kernels/*.comp`` or ``kernels/*.cl``; ``kernels.ll`` for LLVM), a copy of the
program (so input errors can still quote it) and ``manifest.json``
(:mod:`ccomp.runtime.manifest`), which lists every file with its SHA-256: a build whose
files do not match is refused, never trusted.
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
from ccomp.dialects import sparse
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
    sources: dict[str, Any] = field(default_factory=dict)  # kernel name -> KernelSource
    llvm_ir: str | None = None

    @property
    def host(self) -> func.FuncOp:
        """The host function (for a program with ``auto`` formats: its first variant)."""
        for op in self.module.body.block.ops:
            if isinstance(op, func.FuncOp) and op.sym_name.data == self.function:
                return op
        for op in self.module.body.block.ops:
            if isinstance(op, func.FuncOp) and sparse.variant_of(op) == self.function:
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
        kernels.append(kernel_json(ks, rel))
    if build.llvm_ir is not None:
        files["kernels.ll"] = build.llvm_ir.encode()
    for rel, data in files.items():
        (out / rel).write_bytes(data)
    inputs, outputs = build.ports()
    manifest = {
        "format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "ccomp": __version__,
        "target": build.target, "graph": build.function, "source": build.source.name,
        "inputs": [port_json(p) for p in inputs], "outputs": [port_json(p) for p in outputs],
        "kernels": kernels, "schedule": schedule_json(build.host, inputs),
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
    sources = {k["name"]: kernel_from_json(k, data[k["file"]].decode()) for k in manifest["kernels"]}
    locs = {p["name"]: SourceLoc(source.name, p["line"], p["col"]) for p in manifest["inputs"] if "line" in p}
    llvm_ir = data["kernels.ll"].decode() if "kernels.ll" in data else None
    return Build(source, manifest["target"], module, manifest["graph"], locs, sources, llvm_ir)
