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

A build folder is untrusted input. Reading one checks, before anything runs: its
files confined to the folder, regular and bounded (:mod:`ccomp.runtime.trust`); the
manifest against its schema (:mod:`ccomp.runtime.manifest_schema`); the manifest's
kernels against ``host.mlir`` and their sources (:mod:`ccomp.runtime.build_check`);
and every launch of the schedule against the sizes of its buffers
(:mod:`ccomp.runtime.launch_guard`). With a key, the signature ``manifest.sig``
(``write_build(..., sign_key=)``) too. docs/manifest.md states the trust model.
"""

from __future__ import annotations

import hashlib
import json
import os
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
from ccomp.runtime.build_check import check_host, check_kernels, check_llvm
from ccomp.runtime.launch_guard import guard_launches
from ccomp.runtime.manifest import MANIFEST_FORMAT, MANIFEST_VERSION, kernel_from_json, kernel_json, port_json, schedule_json
from ccomp.runtime.manifest_schema import ManifestError, parse_manifest
from ccomp.runtime.signature import Port, signature_of
from ccomp.runtime.trust import (MAX_FILE_BYTES, MAX_MANIFEST_BYTES, SIGNATURE_FILE, TrustError, check_signature,
                                 read_confined, signature_text)

SUFFIX = {"glsl": ".comp", "opencl": ".cl"}


MAX_BUILD_BYTES = 1 << 30  # all files of one build together


class BuildError(Exception):
    """A build folder is missing, from an incompatible version, corrupted, malformed,
    unsigned when a signature is required, or inconsistent: the message says which."""


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


def file_stem(kernel: str) -> str:
    """A kernel's file name in ``kernels/``: its name, or for a name too long for a file
    system (graph names may be hundreds of characters) a prefix and 16 hex digits of its
    SHA-256. Readers go by the paths the manifest lists, never by the kernel's name."""
    if len(kernel) <= 96:
        return kernel
    return f"{kernel[:72]}_h{hashlib.sha256(kernel.encode()).hexdigest()[:16]}"


def write_build(build: Build, out: Path, sign_key: bytes | None = None,
                extra: dict[str, bytes] | None = None) -> dict[str, Any]:
    """Write ``build`` into folder ``out`` (created if needed); returns the manifest.
    With ``sign_key``, also ``manifest.sig`` (:mod:`ccomp.runtime.trust`); ``extra``
    files (the build cache's request record) are listed, and so signed, like the rest."""
    try:
        (out / "kernels").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CompileError(f"cannot create output folder '{out}': {exc}") from None
    files: dict[str, bytes] = {"program.cn": build.source.text.encode(),
                               "host.mlir": module_text(build.module).encode(), **(extra or {})}
    kernels = []
    for name, ks in build.sources.items():
        rel = f"kernels/{file_stem(name)}{SUFFIX[build.target]}"
        files[rel] = ks.source.encode()
        variant = None
        if ks.ssbo_only is not None:
            variant = f"kernels/{file_stem(name)}.ssbo{SUFFIX[build.target]}"
            files[variant] = ks.ssbo_only.source.encode()
        kernels.append(kernel_json(ks, rel, variant))
    llvm = None
    if build.llvm is not None:
        files["kernels.ll"] = build.llvm.module.encode()
        llvm = {"module": "kernels.ll", "may_alias": {}}
        for name, text in build.llvm.may_alias.items():
            llvm["may_alias"][name] = rel = f"kernels/{file_stem(name)}.may_alias.ll"
            files[rel] = text.encode()
    for rel, data in files.items():
        _replace(out / rel, data)
    inputs, outputs = build.ports()
    manifest = {
        "format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "ccomp": __version__,
        "target": build.target, "graph": build.function, "source": build.source.name,
        "inputs": [port_json(p) for p in inputs], "outputs": [port_json(p) for p in outputs],
        "kernels": kernels, **({"llvm": llvm} if llvm is not None else {}),
        "schedule": schedule_json(build.host, inputs),
        "files": {rel: _sha(data) for rel, data in sorted(files.items())},
    }
    text = (json.dumps(manifest, indent=2) + "\n").encode()
    _replace(out / "manifest.json", text)
    sig = out / SIGNATURE_FILE
    if sign_key is not None:
        _replace(sig, signature_text(sign_key, text).encode())
    elif sig.exists() or sig.is_symlink():
        sig.unlink()  # an old signature would no longer match: say "unsigned", not "tampered"
    return manifest


def _replace(path: Path, data: bytes) -> None:
    """Write ``path`` afresh: a symlink or FIFO planted there is replaced, never followed."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        path.unlink()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def read_build(folder: Path, verify_key: bytes | None = None) -> Build:
    """Load a build folder, refusing it unless every check of this module's docstring
    passes (and, with ``verify_key``, its signature)."""
    return load_build(folder, verify_key)[0]


def load_build(folder: Path, verify_key: bytes | None = None) -> tuple[Build, dict[str, bytes]]:
    """:func:`read_build`, also returning the verified bytes of every listed file."""
    try:
        return _load(folder, verify_key)
    except (TrustError, ManifestError) as exc:
        raise BuildError(f"build '{folder}' is refused: {exc}") from None
    except RecursionError:
        raise BuildError(f"build '{folder}' is refused: its host.mlir nests too deeply") from None


def _load(folder: Path, key: bytes | None) -> tuple[Build, dict[str, bytes]]:
    from ccomp.dialects.context import parse_module

    try:
        raw = read_confined(folder, "manifest.json", MAX_MANIFEST_BYTES)
    except TrustError as exc:
        if not folder.is_dir() or not (folder / "manifest.json").exists():
            raise BuildError(f"'{folder}' is not a build folder: it has no manifest.json") from None
        raise
    if key is not None:
        check_signature(folder, raw, key)
    manifest = parse_manifest(raw)
    listed = manifest["files"]
    needed = {"program.cn", "host.mlir", *(k["file"] for k in manifest["kernels"]),
              *(k["ssbo_only"]["file"] for k in manifest["kernels"] if k.get("ssbo_only"))}
    if "llvm" in manifest:
        needed |= {manifest["llvm"]["module"], *manifest["llvm"]["may_alias"].values()}
    if needed - set(listed):
        raise ManifestError(f"files: {sorted(needed - set(listed))[0]} is used but not listed with its checksum")
    data: dict[str, bytes] = {}
    total = 0
    for rel, digest in listed.items():
        data[rel] = read_confined(folder, rel, min(MAX_FILE_BYTES, MAX_BUILD_BYTES - total))
        total += len(data[rel])
        if _sha(data[rel]) != digest:
            raise BuildError(f"build '{folder}' is corrupted: {rel} does not match its checksum"
                             + (" (it changed after signing)" if key is not None else ""))
    text = {rel: _decode(rel, data[rel]) for rel in needed}
    source = Source(text["program.cn"], _printable(manifest["source"]))
    try:
        module = parse_module(text["host.mlir"], str(folder / "host.mlir"))
    except RecursionError:
        raise
    except Exception as exc:  # xDSL's parse and verify errors have no common base
        raise BuildError(f"build '{folder}' has an invalid host.mlir: {_printable(str(exc))[:2000]}") from None
    check_kernels(manifest, module, text.__getitem__)
    check_host(module)
    if manifest["target"] == "llvm":
        check_llvm(manifest, module, text.__getitem__)
    guard_launches(module)
    sources = {k["name"]: kernel_from_json(k, text.__getitem__) for k in manifest["kernels"]}
    llvm = None
    if "llvm" in manifest:
        entry = manifest["llvm"]
        llvm = LLVMCode(text[entry["module"]], {name: text[rel] for name, rel in entry["may_alias"].items()})
    lines = source.text.count("\n") + 1
    locs = {p["name"]: SourceLoc(source.name, p["line"], p["col"]) for p in manifest["inputs"]
            if "line" in p and "col" in p and p["line"] <= lines}
    build = Build(source, manifest["target"], module, manifest["graph"], locs, sources, llvm)
    build.host  # noqa: B018 — refuses a build without its graph now, not at the first call
    return build, data


def _decode(rel: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{rel} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _printable(text: str) -> str:
    """``text`` with control characters escaped, for names that end up in diagnostics."""
    return "".join(c if c.isprintable() or c in "\n\t" else repr(c)[1:-1] for c in text)
