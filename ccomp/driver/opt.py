"""``ccomp-opt``: the ``mlir-opt``-style driver lit tests use.

It is xDSL's ``xDSLOptMain`` with ccomp's dialects, ccomp's passes before xDSL's
own, a frontend for ``.cn`` files (``ccomp-opt prog.cn -p graph-fuse`` parses the
language directly; ``-f cn`` for a program on stdin), and ccomp's own code targets:
``-t llvm|opencl|glsl`` print a ``kern`` module's LLVM IR, OpenCL C or GLSL (xDSL's
``llvm`` target only knows the ``llvm`` dialect).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import io
import re
from collections.abc import Callable, Sequence
from typing import IO, Any

from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import ArgSpecParseError, DiagnosticException, ParseError
from xdsl.xdsl_opt_main import xDSLOptMain

from ccomp.diagnostics import CompileError, PassError


class CcompOptMain(xDSLOptMain):
    def register_all_dialects(self) -> None:
        super().register_all_dialects()
        from ccomp.dialects.context import DIALECTS

        for d in DIALECTS:
            if d.name not in self.ctx.registered_dialect_names:
                self.ctx.register_dialect(d.name, lambda d=d: d)

    def setup_pipeline(self) -> None:
        """xDSL's pipeline verifies the module before the first pass and after each;
        ccomp's stage contracts are verified at the same points."""
        super().setup_pipeline()
        inner = self.pipeline.callback

        def callback(previous: ModulePass | None, module: ModuleOp, following: ModulePass | None) -> None:
            if inner is not None:
                inner(previous, module, following)
            if not self.args.disable_verify:
                from ccomp.dialects.contracts import verify_contracts

                verify_contracts(module)

        self.pipeline = dataclasses.replace(self.pipeline, callback=callback)

    def register_all_passes(self) -> None:
        """ccomp's passes first, so that ``--help`` lists them before xDSL's."""
        from ccomp.passes import get_all_passes

        ours = get_all_passes()
        for name, factory in ours.items():
            self.register_pass(name, factory)
        super().register_all_passes()
        for name, factory in ours.items():  # a name both define is ccomp's (keeps its place)
            self.register_pass(name, factory)

    def register_all_arguments(self, arg_parser: argparse.ArgumentParser) -> None:
        super().register_all_arguments(arg_parser)
        from ccomp.passes import get_all_passes

        ours = list(get_all_passes())
        theirs = [n for n in self.available_passes if n not in ours]
        for action in arg_parser._actions:
            if action.dest == "passes":
                action.help = (f"comma-separated passes (options in braces). ccomp's: {', '.join(ours)}. "
                               f"xDSL's: {', '.join(theirs)}")
            elif action.dest == "target":
                action.help = ("what to print: mlir (default); llvm, opencl, glsl: the code ccomp's "
                               "targets run, from a kern-level module; or one of xDSL's: "
                               + ", ".join(n for n in self.available_targets if n not in _CODE_TARGETS))

    def register_all_targets(self) -> None:
        """``mlir``, then ccomp's code targets in place of xDSL's ``llvm`` (which raises
        ``NotImplementedError`` on ``func``/``kern``), then xDSL's others."""
        super().register_all_targets()
        theirs = dict(self.available_targets)
        self.available_targets = {"mlir": theirs.pop("mlir")}
        for name in _CODE_TARGETS:
            theirs.pop(name, None)
            self.available_targets[name] = _code_target(name)
        self.available_targets.update(theirs)

    def register_all_frontends(self) -> None:
        super().register_all_frontends()

        def parse_cn(io: IO[bytes]):
            from ccomp.diagnostics import Source
            from ccomp.frontend import lower_to_l1

            data = io.read()
            text = data.decode("utf-8") if isinstance(data, bytes) else data
            return lower_to_l1(Source(text, self.get_input_name()))

        self.available_frontends["cn"] = parse_cn
        parse_mlir = self.available_frontends["mlir"]

        def parse_mlir_or_hint(stream: IO[bytes]):
            """A ``.cn`` program piped in without ``-f cn`` fails as MLIR: say so."""
            data = stream.read()
            try:
                return parse_mlir(io.BytesIO(data) if isinstance(data, bytes) else io.StringIO(data))
            except ParseError as exc:
                text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
                if _LOOKS_LIKE_CN.search(text):
                    exc.add_note("note: this looks like a ComputeNodes program, not MLIR; "
                                 "read it with -f cn (ccomp-opt -f cn ...), or pass the .cn file by name")
                raise

        self.available_frontends["mlir"] = parse_mlir_or_hint


_LOOKS_LIKE_CN = re.compile(r"^\s*(graph|fn)\s+[A-Za-z_]\w*\s*\(", re.M)
_CODE_TARGETS = ("llvm", "opencl", "glsl")


def _code_target(name: str):
    def emit(module: ModuleOp, output: IO[str]) -> None:
        from ccomp.driver.emit import emit_code

        output.write(emit_code(module, name))

    return emit


def _notes(exc: BaseException) -> list[str]:
    return list(getattr(exc, "__notes__", []))


# What each error of the user's IR, program or pipeline reads as; the first match wins.
_MESSAGES: tuple[tuple[type[BaseException], Callable[[Any], str]], ...] = (
    (CompileError, str),
    (PassError, lambda e: str(e.to_compile_error())),  # a pass rejected the IR: located at the op it names
    (ParseError, lambda e: "\n".join([str(e).rstrip(), *_notes(e)])),  # xDSL's message quotes the text
    (DiagnosticException, lambda e: "\n".join([f"error: {e}", *_notes(e)]).rstrip()),  # xDSL marks the op
    (ArgSpecParseError, lambda e: f"error: {e}"),  # a malformed -p spec (xDSL derives it from BaseException)
    (FileNotFoundError, lambda e: f"error: no such file: '{e.filename}'"),
    (ValueError, lambda e: f"error: {e}"),  # xDSL reports unknown passes and bad pass options this way
    (NotImplementedError, lambda e: f"error: the chosen -t target cannot print this IR: {e}"),
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ccomp-opt``; every error in the user's IR, program or pipeline is a message
    and exit code 1, never a traceback."""
    try:
        CcompOptMain(description="ccomp's IR optimizer driver (xdsl-opt with ccomp's dialects and passes)",
                     args=argv).run()
    except tuple(kind for kind, _ in _MESSAGES) as exc:
        render = next(render for kind, render in _MESSAGES if isinstance(exc, kind))
        sys.stderr.write(render(exc) + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
