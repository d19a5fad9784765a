"""The code a target runs, as text: what ``ccomp build --emit llvm|opencl|glsl`` and
``ccomp-opt -t llvm|opencl|glsl`` print.

Backends take a ``kern`` module (L2); both commands print through here so that they
agree, and so that a module still at an earlier stage is refused with a message
saying how to get to ``kern`` rather than with a backend's traceback.
"""

from __future__ import annotations

from xdsl.dialects.builtin import ModuleOp

from ccomp.diagnostics import CompileError

CODE_TARGETS = ("llvm", "opencl", "glsl")
"""Targets whose code prints as text: LLVM IR, OpenCL C, GLSL compute shaders."""

_EARLIER = ("graph.", "sparse.", "loop.")


def check_kern(module: ModuleOp, target: str) -> None:
    """Refuse a module that still holds L1 ops (``graph``, ``sparse``, ``loop``): the
    backends only know ``kern`` and the standard dialects."""
    from ccomp.driver.pipeline import pipeline_spec

    for op in module.walk():
        if op.name.startswith(_EARLIER):
            raise CompileError(f"the {target} target prints the kernels of a kern-level module, but this "
                               f"one still has {op.name}; lower it first: -p '{pipeline_spec(target)}'")


def emit_code(module: ModuleOp, target: str) -> str:
    """The code of every kernel of the ``kern`` module: unoptimised LLVM IR (llvm), or
    each kernel's OpenCL C / GLSL source after a ``// kernel NAME`` line, generated with
    the backend's default limits (a device with smaller limits gets smaller workgroups)."""
    check_kern(module, target)
    if target == "llvm":
        from ccomp.backends.llvm.lower import emit_llvm_ir

        return emit_llvm_ir(module)
    from ccomp.api import generate

    sources = generate(module, target)
    return "".join(f"// kernel {name}\n{ks.source.rstrip()}\n\n"
                   for name, ks in sources.items())
