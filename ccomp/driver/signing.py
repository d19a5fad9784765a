"""``ccomp build --sign KEY`` and ``ccomp run --build DIR --verify KEY``: the command-line
face of build signatures (:mod:`ccomp.runtime.trust`), so a user can refuse build
folders they did not make. Errors are user errors (:class:`CompileError`), never
tracebacks: a missing or short key file, an unsigned or altered build."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ccomp.diagnostics import CompileError
from ccomp.runtime.trust import TrustError, read_key


def key_of(path: str | None) -> bytes | None:
    """The key in file ``path`` (None without one)."""
    if path is None:
        return None
    try:
        return read_key(path)
    except TrustError as exc:
        raise CompileError(str(exc)) from None


def check_flags(args: argparse.Namespace) -> None:
    """Refuse ``--sign`` where no build folder is written and ``--verify`` without ``--build``."""
    if getattr(args, "sign", None) and (getattr(args, "emit", None) or getattr(args, "print_pipeline", False)):
        raise CompileError("--sign signs the build folder, which --emit and --print-pipeline do not write; "
                           "drop one of them")
    if getattr(args, "verify", None) and not getattr(args, "build", None):
        raise CompileError("--verify checks the signature of a build folder: use it with --build DIR")


def load_verified(folder: str, keyfile: str, memory_budget: Any = None) -> Any:
    """A ``Program`` from ``folder``, refused unless ``keyfile``'s key signed it and no
    file changed since."""
    from ccomp.api import Program
    from ccomp.runtime.build import BuildError, read_build

    key = key_of(keyfile)
    try:
        return Program(read_build(Path(folder), verify_key=key), memory_budget=memory_budget)
    except BuildError as exc:
        raise CompileError(str(exc)) from None
