"""LLVM's O3 pipeline run in a helper process, so its leak stays out of this one.

Each run of llvmlite 0.50's pass pipeline leaks native memory that nothing in Python
can free: ``LLVMPY_CreatePassBuilder`` allocates a ``PassInstrumentationCallbacks`` that
the ``PassBuilder`` does not own, ``LLVMPY_RunNewModulePassManager`` registers a
stack-allocated ``StandardInstrumentations`` on it at every run, and what the passes
allocate through them is never released. Measured here (RSS after ``malloc_trim``, 40-60
runs after a warm-up): parsing and verifying leak nothing, an O0 run nothing, building the
O3 pipeline alone 0.03 MB, an O1 run 0.06 MB, an O3 run 0.12-0.13 MB, the same with one
``PassBuilder`` reused (and reusing a built pass manager aborts). So a process that
compiles many different programs grew ~0.14 MB per program.

The fix is to run the pipeline where the leak does not matter: a helper process (this
file run as a script; it imports only llvmlite) reads IR text, optimises it with the
same target machine options and tuning as :class:`ccomp.runtime.devices.jit.Jit`, and
writes the optimised text back. It is started on the first program that needs it, used
under a lock, and replaced after ``MAX_RUNS`` programs so its own growth stays bounded;
it ends when this process closes its pipe. LLVM's optimisation is deterministic for one
text, level, CPU and feature string, so the result is the text the in-process pipeline
would give (``tests/runtime/test_program_memory.py`` compares them).

``Jit`` optimises its first ``IN_PROCESS`` distinct programs itself (a one-off tool does
not pay for a second process; at most a fixed ~0.5 MB leaks) and hands the rest to the
helper. ``CCOMP_JIT_WORKER=0`` keeps every run in-process; a helper that cannot start or
dies is logged and the program is optimised in-process instead.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import subprocess
import sys
import threading

log = logging.getLogger(__name__)

IN_PROCESS = 4
MAX_RUNS = 200
ENV = "CCOMP_JIT_WORKER"
_HEADER = struct.Struct("<Q")


def _send(stream, payload: bytes) -> None:
    stream.write(_HEADER.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def _receive(stream) -> bytes | None:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    size = _HEADER.unpack(head)[0]
    data = stream.read(size)
    if len(data) < size:
        return None
    return data


def optimise_text(llvm, target_machine, text: str, opt_level: int) -> str:
    """``text`` parsed in a fresh context, verified and optimised: the pipeline of
    ``Jit.optimise``, shared by the helper and the in-process path."""
    context = llvm.create_context()
    module = llvm.parse_assembly(text, context)
    module.triple = target_machine.triple
    module.data_layout = str(target_machine.target_data)
    module.verify()
    tuning = llvm.create_pipeline_tuning_options(speed_level=opt_level)
    tuning.loop_vectorization = True
    tuning.slp_vectorization = True
    builder = llvm.create_pass_builder(target_machine, tuning)
    builder.getModulePassManager().run(module, builder)
    return str(module)


class Worker:
    """The client side: one helper process, restarted every ``MAX_RUNS`` programs."""

    def __init__(self, max_runs: int = MAX_RUNS) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._runs = 0
        self._key: tuple[str, str, int] | None = None
        self.max_runs = max_runs
        self.started = 0  # helper processes started, for tests and logs
        self.disabled = os.environ.get(ENV, "1").strip() == "0"

    def _start(self, cpu: str, features: str, opt_level: int) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-I", __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, close_fds=True)
        assert proc.stdin is not None
        _send(proc.stdin, json.dumps({"cpu": cpu, "features": features, "opt": opt_level}).encode())
        return proc

    def close(self) -> None:
        """End the helper (a later :meth:`optimise` starts a new one)."""
        with self._lock:
            self._stop()

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.stdin.close()  # the helper ends at end of input
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()

    def optimise(self, text: str, cpu: str, features: str, opt_level: int) -> str | None:
        """The optimised text, or None when the helper is off or failed (the caller
        then optimises in-process)."""
        if self.disabled:
            return None
        with self._lock:
            try:
                if self._proc is None or self._runs >= self.max_runs or self._proc.poll() is not None:
                    self._stop()
                    self._proc, self._runs = self._start(cpu, features, opt_level), 0
                    self._key = (cpu, features, opt_level)
                    self.started += 1
                if self._key != (cpu, features, opt_level):
                    return None
                _send(self._proc.stdin, text.encode())
                reply = _receive(self._proc.stdout)
            except OSError as exc:
                log.warning("llvm: the optimiser process failed (%s); optimising in this process", exc)
                self._stop()
                return None
            if reply is None or reply[:1] != b"+":
                log.warning("llvm: the optimiser process gave no result%s; optimising in this process",
                            f" ({reply[1:200].decode(errors='replace')})" if reply else "")
                self._stop()
                return None
            self._runs += 1
            return reply[1:].decode()


WORKER = Worker()


def _serve() -> None:
    """The helper's loop: a JSON header (cpu, features, opt), then texts until EOF."""
    import llvmlite.binding as llvm

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    header = _receive(stdin)
    if header is None:
        return
    options = json.loads(header)
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    machine = llvm.Target.from_default_triple().create_target_machine(
        cpu=options["cpu"], features=options["features"], opt=options["opt"], jit=True)
    while (request := _receive(stdin)) is not None:
        try:
            _send(stdout, b"+" + optimise_text(llvm, machine, request.decode(), options["opt"]).encode())
        except Exception as exc:  # noqa: BLE001 -- reported to the client, which falls back
            _send(stdout, b"-" + f"{type(exc).__name__}: {exc}".encode())


if __name__ == "__main__":
    _serve()
