"""ccomp: a compiler for ComputeNodes (``.cn``) programs.

    import ccomp
    prog = ccomp.compile("examples/tonemap.cn", target="llvm")
    out = prog(src=image, gain=1.2)
"""

from ccomp.diagnostics import CompileError

__version__ = "0.1.0"


def compile(*args, **kwargs):  # noqa: A001 - the public name users expect
    """See :func:`ccomp.api.compile`."""
    from ccomp.api import compile as _compile

    return _compile(*args, **kwargs)


compile.__doc__ = "Compile a .cn program for a target; see ccomp.api.compile."

__all__ = ["compile", "CompileError", "__version__"]
