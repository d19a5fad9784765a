"""Optimise LLVM IR text at O3 and JIT-compile it with MCJIT for the host CPU.

It takes text, not the backend's lowered module, and lives in the runtime: the LLVM
device compiles the code the backend generated (in memory, or read back from a build
folder's ``kernels.ll``) without importing the compiler.

One ``Jit`` owns one target machine (host CPU name and features, so AVX2/AVX-512 are
used where present) and one MCJIT engine; every module handed to it is optimised and
added to that engine, so a device pays LLVM's start-up cost once. Modules may define
the same symbols (two programs, a kernel and its may-alias variant): each compile
renames the functions it is asked for with a prefix of its own. The O3 pipeline of
llvmlite 0.50 vectorises only when the tuning options ask for it, which they do here.

A ``Jit`` owns its native code and frees it: its modules live in an LLVM context of
its own (types, constants and metadata of LLVM's global context are never freed), and
:meth:`Jit.close` — called when the ``Jit`` is dropped — disposes of the engine (its
code, its modules) and then drops that context, in that order: an engine must never
outlive the context its modules were parsed in. A program compiled and dropped in a
loop so leaves no native memory behind (``tests/runtime/test_jit_freed.py``).

Math intrinsics that LLVM turns into calls resolve against the C math library
(``sinf``, ``tanf``, ...) and the GCC runtime (``__powisf2`` for ``llvm.powi``), both
loaded into the JIT's symbol space once per process: MCJIT would otherwise jump to
address 0 instead of reporting the missing symbol. Functions the IR declares are
checked before compiling for the same reason.
"""

from __future__ import annotations

import ctypes.util
import hashlib
import logging
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Sequence

import llvmlite.binding as llvm

from ccomp.runtime.devices import jit_worker

log = logging.getLogger(__name__)

_init_lock = threading.Lock()
_initialised = False

# (opt level, SHA-256 of the IR text) -> the optimised IR text, most recent last. Each
# run of llvmlite 0.50's pass pipeline leaks ~0.12 MB of native memory (see
# jit_worker.py, which runs it in a helper process after the first few programs), so a
# program compiled again in this process — a dropped Program recompiled,
# ``cache=False`` — reuses the optimised text instead of running the pipeline again.
# The result is the same: LLVM's optimisation is deterministic for one text, level and
# host CPU.
# Texts are kept zlib-compressed (about 4x smaller), so the full memo holds well under
# a megabyte and does not read as growth per program.
MEMO_ENTRIES = 16
_optimised: OrderedDict[tuple[int, bytes], bytes] = OrderedDict()
_memo_lock = threading.Lock()
_distinct = 0  # programs optimised (not from the memo) in this process


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
        self.cpu, self.features = llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten()
        self.target_machine = target.create_target_machine(cpu=self.cpu, features=self.features, opt=opt_level, jit=True)
        self.context: llvm.ContextRef | None = llvm.create_context()
        empty = llvm.parse_assembly("", self.context)
        self._prepare(empty)
        self.engine: llvm.ExecutionEngine | None = llvm.create_mcjit_compiler(empty, self.target_machine)
        self._modules: list[llvm.ModuleRef] = []  # keep every added module alive
        self._compiled = 0

    def close(self) -> None:
        """Free the native code, the modules and the context (idempotent). Addresses
        :meth:`compile` returned are invalid afterwards: only the owner of the ``Jit``
        (a device, dropped with everything that calls its code) may close it."""
        engine, self.engine = self.engine, None
        if engine is None:
            return
        engine.close()  # disposes of the modules added to it, and of the target machine it owns
        self._modules.clear()
        # the context goes with its last reference: now, or when a module parsed in it
        # and never added (``optimise``'s result, kept by a caller) goes
        self.context = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # never raise from a finaliser (e.g. at interpreter exit)
            pass

    def _parse(self, text: str) -> llvm.ModuleRef:
        if self.engine is None:
            raise RuntimeError("llvm: this JIT was closed")
        return llvm.parse_assembly(text, self.context)

    def _prepare(self, module: llvm.ModuleRef) -> None:
        module.triple = self.target_machine.triple
        module.data_layout = str(self.target_machine.target_data)

    def optimise(self, text: str) -> llvm.ModuleRef:
        """Parse, verify and optimise LLVM IR text with the O3 pipeline, vectorisers on;
        text optimised before in this process (at this level) is parsed from the memo."""
        key = (self.opt_level, hashlib.sha256(text.encode()).digest())
        with _memo_lock:
            done = _optimised.get(key)
            if done is not None:
                _optimised.move_to_end(key)
        if done is not None:
            module = self._parse(zlib.decompress(done).decode())
            self._prepare(module)
            return module
        global _distinct
        with _memo_lock:
            _distinct += 1
            in_process = _distinct <= jit_worker.IN_PROCESS
        done = None if in_process else jit_worker.WORKER.optimise(text, self.cpu, self.features, self.opt_level)
        if done is None:  # the pipeline here: its leak is ours (see jit_worker)
            if self.engine is None:
                raise RuntimeError("llvm: this JIT was closed")
            done = jit_worker.optimise_text(llvm, self.target_machine, text, self.opt_level)
        module = self._parse(done)
        self._prepare(module)
        with _memo_lock:
            _optimised[key] = zlib.compress(done.encode(), 1)
            while len(_optimised) > MEMO_ENTRIES:
                _optimised.popitem(last=False)
        return module

    def compile(self, text: str, symbols: Sequence[str], optional: Sequence[str] = ()) -> tuple[dict[str, int], str]:
        """Optimise and JIT the LLVM IR ``text``; returns the entry address of each
        function named in ``symbols`` (and of those in ``optional`` that ``text``
        defines), and the optimised IR text (for inspection and tests)."""
        start = time.perf_counter()
        module = self.optimise(text)
        defined = {f.name for f in module.functions if not f.is_declaration}
        symbols = [*symbols, *(name for name in optional if name in defined)]
        missing = [f.name for f in module.functions if f.is_declaration and not f.name.startswith("llvm.")
                   and llvm.address_of_symbol(f.name) is None]
        if missing:
            raise RuntimeError(f"llvm: kernels call functions the JIT cannot find: {', '.join(missing)}")
        prefix = f"ccomp{self._compiled}_"
        self._compiled += 1
        for name in symbols:
            module.get_function(name).name = prefix + name
        optimised = str(module)
        assert self.engine is not None  # checked by _parse
        self.engine.add_module(module)
        self.engine.finalize_object()
        self._modules.append(module)
        addresses = {name: self.engine.get_function_address(prefix + name) for name in symbols}
        log.info("llvm: compiled %d kernel(s) in %.1f ms", len(addresses), 1e3 * (time.perf_counter() - start))
        return addresses, optimised

    def assembly(self, text: str) -> str:
        """Native assembly of already-optimised IR text, to check what the CPU runs."""
        module = self._parse(text)
        self._prepare(module)
        return self.target_machine.emit_assembly(module)
