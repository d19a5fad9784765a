"""Helpers shared by the frontend tests of graph and fn programs: compiling to L1,
catching the located error, reading the IR, and the fuzz loop that checks that no
user input raises anything but a located ``CompileError``."""

from __future__ import annotations

import io
import random
import re
from collections.abc import Callable, Mapping

import pytest
from xdsl.dialects.builtin import ModuleOp
from xdsl.printer import Printer

from ccomp import CompileError
from ccomp.diagnostics import Source
from ccomp.frontend import lower_to_l1

LOCATED = re.compile(r"^(?P<file>[^\n]+):(?P<line>\d+):(?P<col>\d+): error: ")


def compile_l1(text: str, name: str = "t.cn") -> ModuleOp:
    module = lower_to_l1(Source(text, name))
    module.verify()
    return module


def compile_error(text: str, name: str = "t.cn") -> CompileError:
    with pytest.raises(CompileError) as info:
        lower_to_l1(Source(text, name))
    return info.value


def printed(module: ModuleOp, generic: bool = False, debuginfo: bool = False) -> str:
    out = io.StringIO()
    Printer(stream=out, print_generic_format=generic, print_debuginfo=debuginfo).print_op(module)
    return out.getvalue()


def ops_named(module: ModuleOp, name: str) -> list:
    return [op for op in module.walk() if op.name == name]


def mutate(text: str, rng: random.Random, token: re.Pattern[str]) -> str:
    """Delete, duplicate or replace one to three tokens."""
    for _ in range(rng.randint(1, 3)):
        tokens = list(token.finditer(text))
        t = rng.choice(tokens)
        r = rng.random()
        if r < 0.4:
            text = text[: t.start()] + text[t.end():]
        elif r < 0.7:
            text = text[: t.end()] + " " + t.group() + text[t.end():]
        else:
            text = text[: t.start()] + rng.choice(tokens).group() + text[t.end():]
    return text


def fuzz(seeds: Mapping[str, str], seed: int, runs: int, token: re.Pattern[str],
         check: Callable[[ModuleOp], object]) -> dict[str, int]:
    """Compile ``runs`` mutations of the seed programs: each must lower (then pass
    ``check``) or raise a ``CompileError`` located in its file. Returns the counts."""
    rng = random.Random(seed)
    names = sorted(seeds)
    outcomes = {"ok": 0, "error": 0}
    for i in range(runs):
        name = names[i % len(names)]
        text = mutate(seeds[name], rng, token)
        try:
            module = lower_to_l1(Source(text, f"{name}.cn"))
        except CompileError as exc:
            m = LOCATED.match(str(exc))
            assert m and m["file"] == f"{name}.cn", f"unlocated error {str(exc)!r} for\n{text}"
            outcomes["error"] += 1
            continue
        except Exception as exc:  # pragma: no cover - the failure report
            pytest.fail(f"{type(exc).__name__}: {exc} for\n{text}")
        check(module)
        outcomes["ok"] += 1
    return outcomes
