"""The code the LLVM device loads: LLVM IR text of every kernel, and of each kernel's
may-alias variant (``ccomp.runtime.devices.llvm_abi.LLVMCode``).

The kernels are lowered once. Their bodies promise ``noalias`` on buffer parameters,
which is what lets LLVM vectorise, but a launch may bind one buffer twice (in-place
updates); the device then calls a variant without that promise. The variant is the
same lowered functions with the attribute dropped, printed as a module of its own per
kernel, so the device JIT-compiles it only for a kernel that needs it, and a build
folder holds everything the device needs without the compiler.

The module also holds each host schedule (``func.func``) lowered to native code
(``host.py``), calling the kernels directly; a schedule using an op the native host
does not lower yet is left to the Python host (logged), so it still runs.
"""

from __future__ import annotations

import logging

from llvmlite import ir
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp

from ccomp.backends.llvm.builder import LoweringError
from ccomp.backends.llvm.host import lower_host
from ccomp.backends.llvm.host_launch import KernelInfo
from ccomp.backends.llvm.lower import lower_module
from ccomp.dialects.kern import KernelOp
from ccomp.runtime.devices.llvm_abi import LLVMCode, point_weight
from ccomp.runtime.devices.native_host_abi import host_symbol

log = logging.getLogger(__name__)


def emit_llvm_code(module: ModuleOp, widen: bool = True, native_host: bool = True) -> LLVMCode:
    """Lower the kernels of ``module`` once and print the device's code: the module of all
    kernels, then per kernel its may-alias variant. ``widen=False`` turns off x-widening
    (see ``widen.py``; for comparison and tests); ``native_host=False`` leaves the
    host schedules to the Python host."""
    lowered = lower_module(module, widen=widen)
    out = lowered.module
    if native_host:
        _lower_hosts(module, out, lowered.kernels)
    text = str(out)
    may_alias: dict[str, str] = {}
    for name, abi in lowered.kernels.items():
        body, entry = out.get_global(abi.symbol + ".body"), out.get_global(abi.symbol)
        for arg in body.args:
            arg.attributes.discard("noalias")
        may_alias[name] = _module_text(out, keep=(body, entry))
    return LLVMCode(text, may_alias)


def _lower_hosts(module: ModuleOp, out: ir.Module, kernels: dict) -> None:
    """Lower every host schedule of ``module`` into ``out`` next to its kernels."""
    ops = {op.kernel_name: op for op in module.walk() if isinstance(op, KernelOp)}
    infos = {name: KernelInfo(abi, out.get_global(abi.symbol), point_weight(ops[name])) for name, abi in kernels.items()}
    for fn in module.body.block.ops:
        if not isinstance(fn, func.FuncOp) or fn.is_declaration:
            continue
        try:
            lower_host(out, fn, infos)
        except (LoweringError, NotImplementedError, KeyError) as err:
            log.info("llvm: @%s stays on the Python host: %s", fn.sym_name.data, err)
            for name in (host_symbol(fn), host_symbol(fn) + ".abi"):  # the half-emitted function
                out.globals.pop(name, None)  # (helpers it declared stay, unused)


def _module_text(module: ir.Module, keep: tuple[ir.Function, ...]) -> str:
    """``module`` printed with only the function definitions in ``keep`` (declarations,
    global variables and metadata are kept whole: unused ones cost nothing)."""
    lines = ['; ModuleID = "%s"' % module.name, ""]
    lines += [t.get_declaration() for t in module.get_identified_types().values()]
    lines += [str(g) for g in module.globals.values()
              if not isinstance(g, ir.Function) or g.is_declaration or g in keep]
    lines += module._get_metadata_lines()  # noqa: SLF001 - llvmlite prints metadata only here
    return "\n".join(lines)
