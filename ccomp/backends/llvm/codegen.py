"""The code the LLVM device loads: LLVM IR text of every kernel, and of each kernel's
may-alias variant (``ccomp.runtime.devices.llvm_abi.LLVMCode``).

The kernels are lowered once. Their bodies promise ``noalias`` on buffer parameters,
which is what lets LLVM vectorise, but a launch may bind one buffer twice (in-place
updates); the device then calls a variant without that promise. The variant is the
same lowered functions with the attribute dropped, printed as a module of its own per
kernel, so the device JIT-compiles it only for a kernel that needs it, and a build
folder holds everything the device needs without the compiler.
"""

from __future__ import annotations

from llvmlite import ir
from xdsl.dialects.builtin import ModuleOp

from ccomp.backends.llvm.lower import lower_module
from ccomp.runtime.devices.llvm_abi import LLVMCode


def emit_llvm_code(module: ModuleOp, widen: bool = True) -> LLVMCode:
    """Lower the kernels of ``module`` once and print the device's code: the module of all
    kernels, then per kernel its may-alias variant. ``widen=False`` turns off x-widening
    (see ``widen.py``; for comparison and tests)."""
    lowered = lower_module(module, widen=widen)
    out = lowered.module
    text = str(out)
    may_alias: dict[str, str] = {}
    for name, abi in lowered.kernels.items():
        body, entry = out.get_global(abi.symbol + ".body"), out.get_global(abi.symbol)
        for arg in body.args:
            arg.attributes.discard("noalias")
        may_alias[name] = _module_text(out, keep=(body, entry))
    return LLVMCode(text, may_alias)


def _module_text(module: ir.Module, keep: tuple[ir.Function, ...]) -> str:
    """``module`` printed with only the function definitions in ``keep`` (declarations,
    global variables and metadata are kept whole: unused ones cost nothing)."""
    lines = ['; ModuleID = "%s"' % module.name, ""]
    lines += [t.get_declaration() for t in module.get_identified_types().values()]
    lines += [str(g) for g in module.globals.values()
              if not isinstance(g, ir.Function) or g.is_declaration or g in keep]
    lines += module._get_metadata_lines()  # noqa: SLF001 - llvmlite prints metadata only here
    return "\n".join(lines)
