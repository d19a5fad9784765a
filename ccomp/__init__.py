"""ccomp: a compiler for ComputeNodes (``.cn``) programs.

    import ccomp
    prog = ccomp.compile_file("examples/tonemap.cn", target="llvm")
    out = prog(src=image, gain=1.2)

``ccomp.compile`` takes a ``pathlib.Path`` (a file) or a ``str`` (program text, never
read as a path); ``compile_file`` and ``compile_source`` say which explicitly.
"""

from pathlib import Path as _Path

# DESIGN.md keeps dialects/ and passes/ as top-level folders that install as
# ccomp.dialects and ccomp.passes. When ccomp is imported straight from a source
# checkout (``python -m pytest`` puts the checkout first on sys.path, ahead of the
# installed package), let ``ccomp.dialects`` and ``ccomp.passes`` resolve to them too.
_root = _Path(__file__).resolve().parent.parent
if not (_Path(__file__).parent / "dialects").exists() and (_root / "dialects" / "graph.py").exists():
    __path__.append(str(_root))  # type: ignore[name-defined]

from ccomp.diagnostics import CompileError  # noqa: E402

__version__ = "0.1.0"


_LAZY = {"compile", "compile_file", "compile_source", "load", "Program", "map", "row_blocks"}
_NAMES = {"map": "map_program"}  # ccomp.map is api.map_program: a module-level map() would shadow the builtin there


def __getattr__(name: str):
    """``ccomp.compile`` (and ``compile_file``, ``compile_source``), ``ccomp.load`` and
    ``ccomp.Program`` are :mod:`ccomp.api`'s own
    objects — so ``help(ccomp.compile)`` and ``inspect.signature`` show the real
    parameters — imported on first use, keeping ``import ccomp`` cheap (PEP 562)."""
    if name in _LAZY:
        from ccomp import api

        value = getattr(api, _NAMES.get(name, name))
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ccomp' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["compile", "compile_file", "compile_source", "load", "Program", "CompileError", "__version__"]
