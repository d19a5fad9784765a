"""Which part of ccomp may import which (DESIGN.md, "Which part may import which").

Imports run one way, down the flow: the IR knows nothing of the language, the passes,
the targets or execution; a host that loads a build needs no compiler. This reads the
imports of every module of ``ccomp/``, ``dialects/`` and ``passes/`` with ``ast`` —
function-local and ``TYPE_CHECKING`` imports included, since they run too — and fails
on any edge a part's allow-list does not name, giving the module, line and edge.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"ccomp": "ccomp", "dialects": "ccomp.dialects", "passes": "ccomp.passes"}

# The parts a part may import, besides itself. The face (``ccomp.api``) and the driver
# wire the stages together and may import anything.
ALLOWED: dict[str, set[str]] = {
    "dialects": set(),  # the IR: nothing else of ccomp
    "diagnostics": set(),  # shared by every part: a leaf
    "semantics": {"dialects"},  # NumPy meaning of arith/math/vector, shared by reference and runtime
    "frontend": {"dialects", "diagnostics"},  # never the passes, backends or runtime
    "passes": {"dialects", "diagnostics"},  # never the runtime, backends or frontend
    "backends": {"dialects", "diagnostics", "runtime"},  # the runtime holds the ABI both sides share
    "runtime": {"dialects", "diagnostics", "semantics", "package"},  # no compiler: runs builds alone
    "reference": {"dialects", "diagnostics", "semantics"},  # the oracle stays independent of what it checks
    "driver": {"*"},
    "face": {"*"},
    "package": {"diagnostics", "face"},  # ccomp/__init__, which every import runs: the API only lazily
}


def part_of(module: str) -> str:
    """The part a ``ccomp.*`` module belongs to: ``package`` for ``ccomp`` itself (its
    ``__version__``), ``face`` for the API, else the sub-package it lives in."""
    parts = module.split(".")
    if module == "ccomp":
        return "package"
    if parts[1] in ("api", "actors", "program") and len(parts) == 2:  # ccomp.actors: the actors' face
        return "face"
    return parts[1]


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = [FOLDERS[rel.parts[0]], *rel.parts[1:]]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def library_modules() -> dict[str, Path]:
    return {module_name(f): f for folder in FOLDERS for f in sorted((ROOT / folder).rglob("*.py"))}


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    line: int

    def describe(self, where: str) -> str:
        return (f"{where}:{self.line}: {part_of(self.importer)} -> {part_of(self.imported)} "
                f"({self.importer} imports {self.imported})")


def imports_of(source: str, module: str, is_package: bool, known: set[str]) -> list[Edge]:
    """The ``ccomp.*`` modules ``source`` (the text of ``module``) imports, anywhere in it.
    ``from A import b`` counts as importing ``A.b`` when that is a module of ``known``."""
    edges = []
    for node in ast.walk(ast.parse(source)):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        edges += [Edge(module, t, node.lineno) for t in dict.fromkeys(targets) if t.split(".")[0] == "ccomp"]
    return edges


def forbidden(edge: Edge) -> bool:
    mine, theirs = part_of(edge.importer), part_of(edge.imported)
    allowed = ALLOWED[mine]
    return mine != theirs and "*" not in allowed and theirs not in allowed


def violations() -> list[str]:
    modules = library_modules()
    known = set(modules)
    out = []
    for name, path in modules.items():
        for edge in imports_of(path.read_text(), name, path.name == "__init__.py", known):
            if forbidden(edge):
                out.append(edge.describe(str(path.relative_to(ROOT))))
    return out


def test_every_module_belongs_to_a_part_with_rules():
    unknown = sorted({part_of(m) for m in library_modules()} - set(ALLOWED))
    assert not unknown, f"parts without import rules (add them to ALLOWED): {unknown}"


def test_no_module_imports_across_a_forbidden_edge():
    bad = violations()
    assert not bad, "forbidden imports:\n" + "\n".join(bad)


def test_the_check_sees_local_relative_and_from_imports():
    known = {"ccomp.backends.llvm.lower", "ccomp.runtime.devices.llvm", "ccomp.runtime.devices"}
    source = ("import numpy\n"
              "from . import llvm\n"
              "def prepare(m):\n"
              "    from ccomp.backends.llvm import lower\n"
              "    import ccomp.frontend.parser\n")
    edges = imports_of(source, "ccomp.runtime.devices", True, known)
    found = {(e.imported, e.line) for e in edges}
    assert found == {("ccomp.runtime.devices.llvm", 2), ("ccomp.backends.llvm.lower", 4), ("ccomp.frontend.parser", 5)}
    assert [forbidden(e) for e in edges] == [False, True, True]
    assert "runtime -> backends" in edges[1].describe("ccomp/runtime/devices/__init__.py")
    # dialects import nothing else of ccomp, diagnostics included
    assert forbidden(Edge("ccomp.dialects.kern", "ccomp.diagnostics", 1))
    assert not forbidden(Edge("ccomp.dialects.kern", "ccomp.dialects.graph", 1))
