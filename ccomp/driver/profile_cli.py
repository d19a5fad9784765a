"""``ccomp run --profile [TRACE.json]``: run a program with the profiler attached and
print its per-kernel table (stdout), and optionally write a Chrome trace-event file.

After a profiled run of an ``-t auto`` program, ``--explain`` also prints the
placement's estimate beside what each kernel measured (``partition_explain``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ccomp.diagnostics import CompileError

STDOUT = "-"


class _Profiles(argparse.Action):
    """``--profiles FILE``: the device profiles ``-t auto`` places by, for this run
    (``CCOMP_DEVICE_PROFILES``, which the compile reads, set before it starts)."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        import os

        from ccomp.driver.devices_cli import ENV
        os.environ[ENV] = str(values)
        setattr(namespace, self.dest, values)


def add_flags(run_parser: argparse.ArgumentParser) -> None:
    """The ``run`` subcommand's profiling flags."""
    run_parser.add_argument("--profiles", action=_Profiles, metavar="FILE",
                            help="with -t auto: place kernels by the device profiles in FILE instead of this "
                                 "machine's measured ones ('ccomp devices --measure')")
    run_parser.add_argument(
        "--profile", nargs="?", const=STDOUT, default=None, metavar="TRACE.json",
        help="profile the run: print a per-kernel table (calls, time, bytes, GB/s, GFLOP/s, share); "
             "with a file name, also write a Chrome trace-event JSON there (open it in ui.perfetto.dev)")


def call(prog: Any, kwargs: dict[str, Any], args: argparse.Namespace, run: Callable[..., Any]) -> Any:
    """``run(prog, kwargs, args)``, profiled when ``--profile`` was given."""
    target = getattr(args, "profile", None)
    if target is None:
        result = run(prog, kwargs, args)
        _explain(prog, args, None)
        return result
    if target != STDOUT and Path(target).suffix.lower() != ".json":
        raise CompileError(f"--profile writes a Chrome trace as JSON; give a file ending in .json, not '{target}'")
    with prog.profile() as profile:
        result = run(prog, kwargs, args)
    print(profile.table())
    if target != STDOUT:
        try:
            profile.write_trace(target)
        except OSError as exc:
            raise CompileError(f"cannot write the trace to {target}: {exc.strerror}") from None
        print(f"trace: wrote {target} (open in https://ui.perfetto.dev)", file=sys.stderr)
    _explain(prog, args, profile)
    return result


def _explain(prog: Any, args: argparse.Namespace, profile: Any) -> None:
    """``--explain`` with ``-t auto``: the placement, and estimate against measurement."""
    if not getattr(args, "explain", False) or getattr(args, "target", None) != "auto":
        return
    from ccomp.driver.devices_cli import resolve
    from ccomp.driver.partition_explain import measured_lines, placement_lines

    lines = placement_lines(prog.build.module)
    if profile is not None:
        lines += measured_lines(prog.build.module, profile, resolve()[0])
    for line in lines:
        print(f"explain: {line}")


__all__ = ["add_flags", "call"]
