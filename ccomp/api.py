"""The Python face of ccomp: ``ccomp.compile(...)`` returns a callable :class:`Program`.

    prog = ccomp.compile("examples/tonemap.cn", target="llvm")
    out = prog(src=image, gain=1.2)

This module wires the stages together — frontend, passes, device — which is why it
(with the CLI and ``ccomp-opt``) is the only place that imports all of them.
"""

from __future__ import annotations

import logging
import time
from collections import namedtuple
from pathlib import Path
from typing import Any

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp

from ccomp.diagnostics import CompileError, Source, SourceLoc
from ccomp.frontend import lower_to_l1, parse
from ccomp.pipeline import PassCallback, PassTiming, lower
from ccomp.runtime.host import HostRunner
from ccomp.runtime.targets import TARGETS, TargetUnavailable, create_device
from ccomp.signature import Port, bind_inputs, signature_of

log = logging.getLogger(__name__)


def load_source(src_or_path: str | Path) -> Source:
    """A path (ending in ``.cn`` or naming a file) or program text."""
    text = str(src_or_path)
    if isinstance(src_or_path, Path) or ("\n" not in text and (text.endswith(".cn") or Path(text).is_file())):
        return Source.from_path(text)
    return Source(text, "<string>")


def check_target(target: str) -> str:
    if target == "auto":
        return "llvm"
    if target not in TARGETS:
        raise CompileError(f"unknown target '{target}'; choose one of {', '.join(TARGETS)} or auto")
    return target


class Program:
    """A compiled program bound to a device; call it with inputs by name or position."""

    def __init__(self, source: Source, module: ModuleOp, target: str, function: str | None,
                 param_locs: dict[str, SourceLoc], compile_seconds: float):
        self.source, self.module, self.target = source, module, target
        fns = [op for op in module.body.block.ops if isinstance(op, func.FuncOp)]
        if function is None:
            fn = fns[-1]
        else:
            matches = [f for f in fns if f.sym_name.data == function]
            if not matches:
                raise CompileError(f"no graph named '{function}'; the program has "
                                   f"{', '.join(f.sym_name.data for f in fns)}")
            fn = matches[0]
        self.name = fn.sym_name.data
        self.inputs, self.outputs = signature_of(fn, param_locs)
        self.compile_seconds = compile_seconds
        try:
            self.device = create_device(target)
            start = time.perf_counter()
            self.device.prepare(module)
            self.backend_seconds = time.perf_counter() - start
        except TargetUnavailable as exc:
            raise CompileError(str(exc)) from None
        self._runner = HostRunner(fn, self.device)
        names = [p.name for p in self.outputs]
        self._result_type = namedtuple(f"{self.name}_outputs", names, rename=True) if len(names) > 1 else None

    @property
    def timings(self) -> dict[str, float]:
        """Seconds spent in upload, run and download by the last call."""
        return dict(self._runner.timings)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        bound = bind_inputs(self.inputs, args, kwargs, self.source, f"'{self.name}'")
        outs = self._runner.run(bound)
        if self._result_type is None:
            return outs[0]
        return self._result_type(*outs)

    def __repr__(self) -> str:
        ins = ", ".join(f"{p.name}: {p.describe()}" for p in self.inputs)
        outs = ", ".join(f"{p.name}: {p.describe()}" for p in self.outputs)
        return f"<ccomp.Program {self.name}({ins}) -> ({outs}) on {self.target}>"


def param_locations(source: Source) -> dict[str, SourceLoc]:
    program = parse(source)
    return {p.name: SourceLoc(source.name, p.pos.line, p.pos.col) for d in program.decls for p in d.params}


def compile_to_kern(source: Source, after_pass: PassCallback | None = None,
                    timings: list[PassTiming] | None = None) -> ModuleOp:
    """Frontend plus passes: the L2 module a device prepares."""
    return lower(lower_to_l1(source), "kern", after_pass, timings)


def compile(src_or_path: str | Path, target: str = "llvm", function: str | None = None) -> Program:
    """Compile a ``.cn`` program (a path or its text) for ``target`` and return a
    callable :class:`Program`. Errors are :class:`ccomp.CompileError` with a located
    diagnostic as their message."""
    start = time.perf_counter()
    target = check_target(target)
    source = load_source(src_or_path)
    module = compile_to_kern(source)
    seconds = time.perf_counter() - start
    log.info("compiled %s to kern in %.3f s", source.name, seconds)
    return Program(source, module, target, function, param_locations(source), seconds)


__all__ = ["compile", "Program", "Port", "CompileError"]
