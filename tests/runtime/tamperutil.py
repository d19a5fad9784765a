"""Helpers of the tamper tests: real build folders, edited the way an attacker would
(a file changed and its SHA-256 recomputed in the manifest, host.mlir rewritten as IR)."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ccomp.api
from ccomp.diagnostics import Source
from ccomp.runtime.build import BuildError, module_text, read_build, write_build

# a direct read of a (at the launch point) and a clamped neighbour read of b
TWO_INPUTS = "graph g(a: image<f32>, b: image<f32>) -> image<f32> {\n    return a * 2.0 + b[x + 1, y]\n}\n"
# a vec4 input and an f32 output: swapping them changes a binding's type
VEC4_TO_F32 = "graph g(a: image<vec4>) -> image<f32> {\n    return a.x + a.w\n}\n"

_BUILDS: dict[tuple[str, str], Any] = {}


def make_build(folder: Path, text: str, target: str, sign_key: bytes | None = None) -> dict[str, Any]:
    """Compile ``text`` for ``target`` (once per session) and write it to ``folder``."""
    if (text, target) not in _BUILDS:
        _BUILDS[text, target] = ccomp.api.build_program(Source(text, "t.cn"), target)
    return write_build(_BUILDS[text, target], folder, sign_key=sign_key)


def manifest_of(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text())


def write_manifest(folder: Path, manifest: Any) -> None:
    (folder / "manifest.json").write_text(json.dumps(manifest))


def reseal(folder: Path, *rels: str) -> None:
    """Recompute the manifest's SHA-256 of ``rels`` after they were edited (what an attacker
    who can write the folder does): only a signature can tell."""
    manifest = manifest_of(folder)
    for rel in rels:
        manifest["files"][rel] = hashlib.sha256((folder / rel).read_bytes()).hexdigest()
    write_manifest(folder, manifest)


def edit(folder: Path, rel: str, change: Callable[[str], str]) -> None:
    """Change the text of ``rel`` and reseal the manifest."""
    path = folder / rel
    before = path.read_text()
    after = change(before)
    assert after != before, f"the edit of {rel} changed nothing"
    path.write_text(after)
    reseal(folder, rel)


def edit_host(folder: Path, change: Callable[[Any], None]) -> None:
    """Rewrite ``host.mlir`` through its IR (``change`` gets the parsed module) and reseal."""
    from ccomp.dialects.context import parse_module

    module = parse_module((folder / "host.mlir").read_text())
    change(module)
    (folder / "host.mlir").write_text(module_text(module))
    reseal(folder, "host.mlir")


def fresh_copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def refused(folder: Path, *fragments: str, key: bytes | None = None) -> str:
    """Loading ``folder`` raises ``BuildError`` (nothing else) naming ``fragments``."""
    with pytest.raises(BuildError) as info:
        read_build(folder, verify_key=key)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    return message
