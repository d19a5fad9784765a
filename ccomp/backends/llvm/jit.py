"""Optimise lowered kernels at O3 and JIT-compile them with MCJIT for the host CPU.

One ``Jit`` owns one target machine (host CPU name and features, so AVX2/AVX-512 are
used where present) and one MCJIT engine; every module handed to it is optimised and
added to that engine, so a device pays LLVM's start-up cost once. The O3 pipeline of
llvmlite 0.50 vectorises only when the tuning options ask for it, which they do here.

Math intrinsics that LLVM turns into calls resolve against the C math library
(``sinf``, ``tanf``, ...) and the GCC runtime (``__powisf2`` for ``llvm.powi``), both
loaded into the JIT's symbol space once per process: MCJIT would otherwise jump to
address 0 instead of reporting the missing symbol. Functions the IR declares are
checked before compiling for the same reason.
"""

from __future__ import annotations

import ctypes.util
import logging
import threading
import time

import llvmlite.binding as llvm

from ccomp.backends.llvm.lower import LoweredModule

log = logging.getLogger(__name__)

_init_lock = threading.Lock()
_initialised = False


def _initialise_llvm() -> None:
    """Native target, assembly printer and libm: once per process."""
    global _initialised
    with _init_lock:
        if _initialised:
            return
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        for lib in ("m", "gcc_s"):
            path = ctypes.util.find_library(lib)
            if path is not None:
                llvm.load_library_permanently(path)
        _initialised = True


class Jit:
    """A host target machine plus an MCJIT engine that accumulates optimised modules."""

    def __init__(self, opt_level: int = 3):
        _initialise_llvm()
        target = llvm.Target.from_default_triple()
        self.opt_level = opt_level
        self.target_machine = target.create_target_machine(
            cpu=llvm.get_host_cpu_name(),
            features=llvm.get_host_cpu_features().flatten(),
            opt=opt_level,
            jit=True,
        )
        empty = llvm.parse_assembly("")
        self._prepare(empty)
        self.engine = llvm.create_mcjit_compiler(empty, self.target_machine)
        self._modules: list[llvm.ModuleRef] = []  # keep every added module alive

    def _prepare(self, module: llvm.ModuleRef) -> None:
        module.triple = self.target_machine.triple
        module.data_layout = str(self.target_machine.target_data)

    def optimise(self, text: str) -> llvm.ModuleRef:
        """Parse, verify and optimise LLVM IR text with the O3 pipeline, vectorisers on."""
        module = llvm.parse_assembly(text)
        self._prepare(module)
        module.verify()
        tuning = llvm.create_pipeline_tuning_options(speed_level=self.opt_level)
        tuning.loop_vectorization = True
        tuning.slp_vectorization = True
        builder = llvm.create_pass_builder(self.target_machine, tuning)
        builder.getModulePassManager().run(module, builder)
        return module

    def compile(self, lowered: LoweredModule) -> tuple[dict[str, int], str]:
        """Optimise and JIT ``lowered``; returns each kernel's entry address by kernel
        name, and the optimised IR text (for inspection and tests)."""
        start = time.perf_counter()
        module = self.optimise(str(lowered.module))
        missing = [f.name for f in module.functions if f.is_declaration and not f.name.startswith("llvm.")
                   and llvm.address_of_symbol(f.name) is None]
        if missing:
            raise RuntimeError(f"llvm: kernels call functions the JIT cannot find: {', '.join(missing)}")
        optimised = str(module)
        self.engine.add_module(module)
        self.engine.finalize_object()
        self._modules.append(module)
        addresses = {name: self.engine.get_function_address(abi.symbol) for name, abi in lowered.kernels.items()}
        log.info("llvm: compiled %d kernel(s) in %.1f ms", len(addresses), 1e3 * (time.perf_counter() - start))
        return addresses, optimised

    def assembly(self, text: str) -> str:
        """Native assembly of already-optimised IR text, to check what the CPU runs."""
        module = llvm.parse_assembly(text)
        self._prepare(module)
        return self.target_machine.emit_assembly(module)
