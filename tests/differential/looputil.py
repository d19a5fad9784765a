"""Helpers for the repeat-zone tests: one compiled program per (source, target) for the
whole session, and the NumPy reference evaluator run on the same L1 IR.

The reference and the comparison come from ``tests/refutil.py``."""

from __future__ import annotations

import os


import ccomp
from refutil import TARGETS, assert_matches, reference  # noqa: F401  (re-exported for the tests)


_programs: dict[tuple[str, str], ccomp.api.Program] = {}
_last_glsl: list[str] = []


def program(src: str, target: str) -> ccomp.api.Program:
    """Compiling is the slow part of a test; the programs are called many times.

    A glsl program is remade (from the build cache: tens of ms) whenever another glsl
    program was made after it: each one owns a GL context and the device never makes
    its own current, so only the newest computes correctly (see
    ``test_glsl_programs_side_by_side``)."""
    key = (src, target)
    if key not in _programs or (target == "glsl" and _last_glsl != [src]):
        _programs[key] = ccomp.compile(src, target=target)
        if target == "glsl":
            _last_glsl[:] = [src]
    return _programs[key]


def fresh(src: str, target: str) -> ccomp.api.Program:
    """A new program with its own buffer pool (for the memory tests)."""
    prog = ccomp.compile(src, target=target)
    if target == "glsl":
        _last_glsl[:] = [src]
        _programs[(src, target)] = prog
    return prog


def check(src: str, target: str, args: list, atol: float = 1e-5) -> ccomp.api.Program:
    """Run ``src``'s graph on ``target`` and compare every output with the reference;
    returns the program so the caller can look at its launches and pool."""
    name = src.split("graph ", 1)[1].split("(", 1)[0].strip()
    prog = program(src, target)
    got = prog(*args)
    got = list(got) if isinstance(got, tuple) else [got]
    want = reference(src, name, args)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_matches(g, w, atol)
    return prog


def grids(prog: ccomp.api.Program) -> list[tuple[int, ...]]:
    """The grids (width, height) the last call dispatched, in order."""
    return [grid for _, grid in prog.launches]


def rss_bytes() -> int:
    """Resident set size of this process (second field of /proc/self/statm, in pages)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
