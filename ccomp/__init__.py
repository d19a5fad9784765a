"""ccomp: a compiler for ComputeNodes (``.cn``) programs.

    import ccomp
    prog = ccomp.compile("examples/tonemap.cn", target="llvm")
    out = prog(src=image, gain=1.2)
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


def compile(*args, **kwargs):  # noqa: A001 - the public name users expect
    """See :func:`ccomp.api.compile`."""
    from ccomp.api import compile as _compile

    return _compile(*args, **kwargs)


compile.__doc__ = "Compile a .cn program for a target; see ccomp.api.compile."

__all__ = ["compile", "CompileError", "__version__"]
