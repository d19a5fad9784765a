"""``ccomp-opt``: the ``mlir-opt``-style driver lit tests use.

It is xDSL's ``xDSLOptMain`` with ccomp's dialects, ccomp's passes next to xDSL's
own, and a frontend for ``.cn`` files, so ``ccomp-opt prog.cn -p graph-fuse``
parses the language directly.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from typing import IO

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
        super().register_all_passes()
        from ccomp.passes import get_all_passes

        for name, factory in get_all_passes().items():
            self.register_pass(name, factory)

    def register_all_frontends(self) -> None:
        super().register_all_frontends()

        def parse_cn(io: IO[bytes]):
            from ccomp.diagnostics import Source
            from ccomp.frontend import lower_to_l1

            data = io.read()
            text = data.decode("utf-8") if isinstance(data, bytes) else data
            return lower_to_l1(Source(text, self.get_input_name()))

        self.available_frontends["cn"] = parse_cn


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ccomp-opt``; every error in the user's IR, program or pipeline is a message
    and exit code 1, never a traceback."""
    try:
        CcompOptMain(description="ccomp's IR optimizer driver (xdsl-opt with ccomp's dialects and passes)",
                     args=argv).run()
    except CompileError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except PassError as exc:  # a pass rejected the IR: located at the op it names
        print(str(exc.to_compile_error()), file=sys.stderr)
        return 1
    except ParseError as exc:  # xDSL's message quotes the offending text
        print(str(exc).rstrip(), file=sys.stderr)
        return 1
    except DiagnosticException as exc:  # the IR does not verify; xDSL's note marks the op
        print("\n".join([f"error: {exc}", *getattr(exc, "__notes__", [])]).rstrip(), file=sys.stderr)
        return 1
    except ArgSpecParseError as exc:  # a malformed -p spec (xDSL derives it from BaseException)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"error: no such file: '{exc.filename}'", file=sys.stderr)
        return 1
    except ValueError as exc:  # xDSL reports unknown passes and bad pass options this way
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
