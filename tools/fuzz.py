#!/usr/bin/env python3
"""Long fuzzing runs of ccomp's frontend and passes (issue 15).

    python tools/fuzz.py --count 100000 --seed 1 --timeout 20 --out fuzz-out/

Mutates the shipped programs (``examples/*.cn`` and every ``.cn`` under ``tests/``) at
the token level — deletes, duplicates, swaps and replaces tokens, splices in tokens of
other programs, huge literals, Unicode and control characters — and compiles each
mutant in a worker process (frontend, then the passes up to ``--stage``). A mutant
may compile or raise ``ccomp.CompileError``; anything else is a *traceback*, a
worker that runs past ``--timeout`` seconds a *hang*, a worker that dies a *crash*.
Each distinct failure (by exception type and the innermost ccomp frame) is written
to ``--out`` as ``NAME.cn`` with ``NAME.txt`` beside it (the traceback), so
``ccomp build NAME.cn`` reproduces it. Exit status 1 if anything was found.

The in-suite, bounded counterpart is ``tests/frontend/test_fuzz.py`` (hypothesis).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import multiprocessing as mp
import random
import re
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("fuzz")

# Tokens as the mutator sees them: close enough to the grammar's, and total (any text splits).
TOKEN = re.compile(r"\d+(?:\.\d*)?(?:[eE][+-]?\d+)?[A-Za-z]*|[A-Za-z_]\w*|->|&&|\|\||[=!<>]=|\S")

HUGE = ("9" * 5000, "1" * 400, "2147483648", "9223372036854775808", "1e999", "0." + "0" * 400 + "1",
        "1" * 40000, "4294967296x4294967296", "100000x100000", "1" * 3000 + "ms", "?x" * 2000 + "f32")
STRANGE = ("\x00", "\x1b[31m", "\r", "\r\n", "\t", "\x0b", "\x0c", "\x7f", "\x85", "\ud800", "\udfff",
           "\u202e", "\u2066", "\u2028", "\ufeff", "\u00e9", "\u753b", "\U0001f600", "e\u0301", "\uffff")
KEYWORDS = ("graph", "fn", "let", "return", "yield", "repeat", "true", "false", "x", "y", "z", "bsr(64x64)",
            "bsr(100000x100000)", "image<f32>", "tensor<?x?xf32, csr>", "to", "blur", "resize", "fill",
            "sum", "histogram", "sample", "size", "(", ")", "{", "}", "[", "]", ",", "#", "\"", "@")


def seed_programs() -> dict[str, str]:
    """Every shipped program: the examples and the ``.cn`` inputs of the test suites."""
    files = sorted((ROOT / "examples").glob("*.cn")) + sorted((ROOT / "tests").rglob("*.cn"))
    return {str(f.relative_to(ROOT)): f.read_text(encoding="utf-8") for f in files}


def mutate(text: str, rng: random.Random, donors: list[str]) -> str:
    """One to four token-level edits of ``text``."""
    for _ in range(rng.randint(1, 4)):
        tokens = list(TOKEN.finditer(text)) or [re.match(r"", text)]
        t = rng.choice(tokens)
        a, b = t.start(), t.end()
        op = rng.randrange(8)
        if op == 0:  # delete
            text = text[:a] + text[b:]
        elif op == 1:  # duplicate
            text = text[:b] + " " + t.group() + text[b:]
        elif op == 2:  # swap with another token
            u = rng.choice(tokens)
            if u.start() > b:
                text = text[:a] + u.group() + text[b:u.start()] + t.group() + text[u.end():]
        elif op == 3:  # a token of another program
            donor = rng.choice(TOKEN.findall(rng.choice(donors)) or ["x"])
            text = text[:a] + donor + text[b:]
        elif op == 4:
            text = text[:a] + rng.choice(HUGE) + text[b:]
        elif op == 5:
            at = rng.randint(0, len(text))
            text = text[:at] + rng.choice(STRANGE) + text[at:]
        elif op == 6:
            text = text[:a] + rng.choice(KEYWORDS) + text[b:]
        else:  # repeat a span: deep nesting and long chains
            span = text[a:rng.randint(b, min(len(text), b + 40))]
            text = text[:a] + span * rng.randint(2, 200) + text[a:]
    return text


def _compile(text: str, stage: str) -> str:
    """``ok`` or ``error`` (a CompileError); anything else propagates to the worker."""
    from ccomp import CompileError
    from ccomp.diagnostics import Source

    try:
        from ccomp.frontend.text import check_text
        from ccomp.frontend import lower_to_l1

        source = Source(text, "fuzz.cn")
        check_text(source)
        module = lower_to_l1(source)
        if stage != "l1":
            from ccomp.driver.pipeline import lower

            lower(module, stage)
        str(module)  # printing the IR must work too
    except CompileError as exc:
        str(exc).encode("utf-8")  # a diagnostic must be printable
        return "error"
    return "ok"


def _worker(conn, stage: str) -> None:
    logging.disable(logging.WARNING)
    while True:
        try:
            text = conn.recv()
        except EOFError:  # the parent is gone
            return
        if text is None:
            return
        try:
            conn.send(("result", _compile(text, stage)))
        except BaseException as exc:  # the failures this tool exists to find
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if "ccomp" in f.filename
                      or "/passes/" in f.filename or "/dialects/" in f.filename]
            where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
            conn.send(("traceback", f"{type(exc).__name__}@{where}", traceback.format_exc()))


@dataclass
class Worker:
    """A compiling subprocess that can be killed and replaced when it hangs or dies."""

    stage: str
    proc: mp.Process | None = None
    conn: object = None

    def start(self) -> None:
        parent, child = mp.Pipe()
        self.proc = mp.Process(target=_worker, args=(child, self.stage), daemon=True)
        self.proc.start()
        self.conn = parent

    def run(self, text: str, timeout: float) -> tuple:
        if self.proc is None or not self.proc.is_alive():
            self.start()
        self.conn.send(text)
        if not self.conn.poll(timeout):
            self.proc.kill()
            self.proc.join()
            self.proc = None
            return ("hang", "hang", f"no result after {timeout} s")
        try:
            return self.conn.recv()
        except EOFError:
            self.proc.join(1)
            code = self.proc.exitcode
            self.proc = None
            return ("crash", f"crash:{code}", f"the worker died (exit code {code})")

    def stop(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.conn.send(None)
            self.proc.join(5)


@dataclass
class Tally:
    counts: dict[str, int] = field(default_factory=lambda: {"ok": 0, "error": 0, "traceback": 0,
                                                            "hang": 0, "crash": 0})
    found: dict[str, int] = field(default_factory=dict)


def record(out: Path, kind: str, signature: str, detail: str, text: str, name: str, tally: Tally) -> None:
    """Write a reproducer per distinct failure (and count every occurrence)."""
    first = signature not in tally.found
    tally.found[signature] = tally.found.get(signature, 0) + 1
    if not first:
        return
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{kind}-{hashlib.sha256(signature.encode()).hexdigest()[:10]}"
    (out / f"{stem}.cn").write_text(text, encoding="utf-8", errors="surrogatepass")
    (out / f"{stem}.txt").write_text(f"{signature}\nmutated from {name}\n\n{detail}", encoding="utf-8",
                                     errors="backslashreplace")
    log.warning("%s %s (from %s): %s", kind, signature, name, out / f"{stem}.cn")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--count", type=int, default=10000, help="how many mutants to compile (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="random seed; a run is reproducible from it")
    p.add_argument("--timeout", type=float, default=20.0, help="seconds a mutant may take before it is a hang")
    p.add_argument("--stage", choices=("l1", "fused", "kern"), default="kern", help="compile up to this IR stage")
    p.add_argument("--out", type=Path, default=Path("fuzz-out"), help="folder for reproducers")
    p.add_argument("--progress", type=int, default=500, help="print a progress line every N mutants")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)

    seeds = seed_programs()
    names, donors = sorted(seeds), list(seeds.values())
    rng = random.Random(args.seed)
    worker, tally, start = Worker(args.stage), Tally(), time.monotonic()
    log.info("fuzzing %d mutants of %d programs up to '%s' (seed %d, timeout %.0f s)",
             args.count, len(names), args.stage, args.seed, args.timeout)
    try:
        for i in range(1, args.count + 1):
            name = rng.choice(names)
            text = mutate(seeds[name], rng, donors)
            kind, *rest = worker.run(text, args.timeout)
            if kind == "result":
                tally.counts[rest[0]] += 1
            else:
                tally.counts[kind] += 1
                record(args.out, kind, rest[0], rest[1], text, name, tally)
            if i % args.progress == 0 or i == args.count:
                c = tally.counts
                log.info("%d/%d in %.0f s: %d compiled, %d compile errors, %d tracebacks, %d hangs, %d crashes",
                         i, args.count, time.monotonic() - start, c["ok"], c["error"], c["traceback"],
                         c["hang"], c["crash"])
    except KeyboardInterrupt:
        log.info("interrupted")
    finally:
        worker.stop()
    for signature, n in sorted(tally.found.items()):
        log.info("  %6d x %s", n, signature)
    bad = tally.counts["traceback"] + tally.counts["hang"] + tally.counts["crash"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
