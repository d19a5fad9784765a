#!/usr/bin/env python3
"""Cross-target differential fuzzing (issue 15): random well-typed programs
(``tools/fuzz_programs.py``) run on llvm, opencl and glsl and on the NumPy reference
evaluator, which is the specification; every output must agree.

    nice -n 19 python tools/fuzz_targets.py --seconds 1200 --seed 1 --out fuzz-targets/

Agreement (:func:`compare`) is the rule of ``tests/differential/test_edge_semantics.py``:
NaN exactly where the reference has NaN, otherwise the reference's value to a few ulps
(``rtol`` 4e-7, no absolute tolerance, so a flushed denormal is a mismatch) and the sign
of a zero. Integers are equal. A float sum (``sum``, ``mean``) is added in another order
on each target (docs/language.md, ``sum``), so it may differ by the rounding of the
additions: at most ``(terms + 2) * 2^-24`` times its scale output (the same sum of
absolute values, computed by the reference). Where that sum of absolute values is not
finite in f32, partial sums may overflow on one target and not on another, and a
``mean`` divides an overflowed sum (docs/language.md, "Known problems"), so only a NaN
of the reference is compared (the target's sum, in f32, may be NaN from inf - inf where
the reference's float64 sum is not). An i32 ``mean`` whose sum wraps is the other known problem: it is reported
apart (``KNOWN``), checked against the documented wrong answer.

A program that fails to compile or run on some target, or whose results disagree, is
written to ``--out`` as ``seed-N.cn`` with ``seed-N.txt`` (the inputs and the
differences); exit status 1 if anything was found. The bounded in-suite counterpart is
``tests/differential/test_random_programs.py``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzz_fn_programs import random_fn  # noqa: E402
from fuzz_programs import Output, RandomProgram, random_graph  # noqa: E402

log = logging.getLogger("fuzz_targets")
TARGETS = ("llvm", "opencl", "glsl")
RTOL = 4e-7
EPS32 = 2.0 ** -24
F32_MAX = float(np.finfo(np.float32).max)
KNOWN = "known problem:"


def generate(seed: int) -> RandomProgram:
    """The program of ``seed``: a ``fn`` for every fourth seed, else a graph."""
    return random_fn(seed) if seed % 4 == 3 else random_graph(seed)


def reference_outputs(prog: RandomProgram) -> list[np.ndarray]:
    from ccomp.diagnostics import Source
    from ccomp.frontend import lower_to_l1
    from ccomp.reference import evaluate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return [np.asarray(v) for v in evaluate(lower_to_l1(Source(prog.source, f"seed-{prog.seed}.cn")),
                                                prog.function, [prog.inputs[p] for p in prog.params])]


def target_outputs(prog: RandomProgram, target: str) -> list[np.ndarray]:
    import ccomp

    program = ccomp.compile_source(prog.source, f"seed-{prog.seed}.cn", target=target, function=prog.function,
                                   cache=False)
    got = program(**prog.inputs)
    got = list(got) if len(prog.outputs) > 1 else [got]
    return [np.asarray(v) for v in got]


def compare(out: Output, got: np.ndarray, want: np.ndarray, scale: np.ndarray | None) -> str | None:
    """None when ``got`` agrees with the reference's ``want``, else what differs."""
    if got.shape != want.shape or got.dtype != want.dtype:
        return f"{out.name}: shape/dtype {got.shape} {got.dtype}, want {want.shape} {want.dtype}"
    if want.dtype.kind != "f":
        bad = got != want
        if bad.any() and scale is not None and known_i32_mean(got, scale, out.terms):
            return f"{KNOWN} {out.name}: i32 mean {got!r} of the wrapped sum {scale!r}, reference {want!r}"
    else:
        nan = np.isnan(want)
        bad = np.isnan(got) != nan
        if scale is not None:
            s = np.asarray(scale, np.float64)
            tol = (out.terms + 2) * EPS32 * np.abs(s)
            # a mean divides the f32 sum on every target (docs/language.md, "Known
            # problems"): where the sum leaves f32's range, only a NaN is compared
            total = np.abs(s) * (out.terms if out.reduce == "mean" else 1)
            finite = np.isfinite(s) & (total <= F32_MAX)
            with np.errstate(invalid="ignore"):  # inf - inf where both are inf: equal, caught above
                diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
            close = (got == want) | (diff <= tol)
            bad |= finite & ~nan & ~close
            # where f32 terms or partial sums overflow, a target adding in f32 may get
            # inf - inf = NaN where the reference, adding in float64, does not
            bad &= finite | nan
        else:
            close = (got == want) | np.isclose(got, want, rtol=RTOL, atol=0)
            bad |= ~nan & ~close
            bad |= ~nan & (want == 0) & (got == 0) & (np.signbit(got) != np.signbit(want))
    if not bad.any():
        return None
    where = list(zip(*np.nonzero(np.atleast_1d(bad))))[:6]
    g, w = np.atleast_1d(got), np.atleast_1d(want)
    shown = "; ".join(f"{tuple(int(i) for i in p)}: got {g[p]!r} want {w[p]!r}" for p in where)
    return f"{out.name}: {int(bad.sum())} of {bad.size} differ: {shown}"


def known_i32_mean(got: np.ndarray, wrapped_sum: np.ndarray, count: int) -> bool:
    """True when ``got`` is an i32 mean computed as docs/language.md's "Known problems"
    says every target does: the sum wrapped to i32, divided toward zero by ``count``."""
    total = int(wrapped_sum)
    quotient = abs(total) // count * (1 if total >= 0 else -1)
    return int(got) == quotient


def check(prog: RandomProgram, targets: tuple[str, ...] = TARGETS) -> list[str]:
    """Every disagreement of ``prog`` between a target and the reference (empty: none);
    those docs/language.md lists under "Known problems" start with ``KNOWN``."""
    try:
        want = reference_outputs(prog)
    except Exception as exc:  # noqa: BLE001 -- a generator or reference bug is a finding too
        return [f"reference: {type(exc).__name__}: {exc}"]
    scales = {o.name: w for o, w in zip(prog.outputs, want)}
    problems = []
    for target in targets:
        try:
            got = target_outputs(prog, target)
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{target}: {type(exc).__name__}: {str(exc)[:2000]}")
            continue
        for out, g, w in zip(prog.outputs, got, want):
            diff = compare(out, g, w, scales.get(out.scale) if out.scale else None)
            if diff:
                problems.append(f"{target}: {diff}")
    return problems


def describe(prog: RandomProgram, problems: list[str]) -> str:
    with np.printoptions(threshold=200, linewidth=120):
        inputs = "\n".join(f"{k} = {v!r}" for k, v in prog.inputs.items())
    return f"seed {prog.seed}\n\n{prog.source}\n" + "\n".join(problems) + f"\n\ninputs:\n{inputs}\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0, help="first seed (programs are seed, seed+1, ...)")
    ap.add_argument("--count", type=int, default=None, help="number of programs (default: until --seconds)")
    ap.add_argument("--seconds", type=float, default=600.0, help="stop after this long")
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("--out", type=Path, default=Path("fuzz-targets"))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("ccomp").setLevel(logging.WARNING)
    targets = tuple(t for t in args.targets.split(",") if t)
    start, ran, failed, known = time.monotonic(), 0, 0, 0
    seed = args.seed
    while (args.count is None or ran < args.count) and time.monotonic() - start < args.seconds:
        prog = generate(seed)
        try:
            problems = check(prog, targets)
        except Exception:  # noqa: BLE001
            problems = [f"harness: {traceback.format_exc()}"]
        ran += 1
        if problems and all(p.startswith(KNOWN, p.index(":") + 2) for p in problems):
            known += 1
            problems = []
        if problems:
            failed += 1
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"seed-{seed}.cn").write_text(prog.source)
            (args.out / f"seed-{seed}.txt").write_text(describe(prog, problems))
            log.info("seed %d: %d problem(s): %s", seed, len(problems), problems[0][:300])
        if ran % 25 == 0:
            log.info("%d programs, %d with mismatches, %.0f s", ran, failed, time.monotonic() - start)
        seed += 1
    log.info("done: %d programs on %s, %d with mismatches or failures, %d showing only a known problem, %.0f s",
             ran, ",".join(targets), failed, known, time.monotonic() - start)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
