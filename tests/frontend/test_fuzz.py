"""Grammar-aware fuzzing with hypothesis (issue 15): compiling a random or mutated
program raises nothing but ``ccomp.CompileError`` and never hangs.

Three sources of programs: graphs and fn programs generated from the grammar (random
types, literals at and past their limits, built-ins with any arity, swizzles, neighbour
reads, repeat zones), and token-level mutations of every shipped ``.cn`` program
(deletions, duplications, swaps, huge literals, Unicode and control characters).
Each example is compiled through the frontend and the passes to the ``kern`` stage.

Bounded for CI: the ``ccomp-ci`` profile is derandomised (the same examples every
run) and sized to about a minute on the whole; ``CCOMP_FUZZ_PROFILE=ccomp-long``
draws ten times as many at random. Hangs: each example runs under
``faulthandler.dump_traceback_later(exit=True)``, a watchdog thread outside the
interpreter's lock, so even a regex stuck in C is stopped, its stack printed and the
run failed instead of hanging. ``tools/fuzz.py`` is the long-run counterpart.
"""

from __future__ import annotations

import faulthandler
import os
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccomp import CompileError
from ccomp.diagnostics import Source
from ccomp.driver.pipeline import lower
from ccomp.frontend import lower_to_l1

from frontendutil import LOCATED

ROOT = Path(__file__).resolve().parents[2]
PER_EXAMPLE_S = 60  # far beyond any real compile here (~0.1 s); only a hang reaches it

settings.register_profile("ccomp-ci", derandomize=True, deadline=None, database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("ccomp-long", parent=settings.get_profile("ccomp-ci"), derandomize=False)
PROFILE = settings.get_profile(os.environ.get("CCOMP_FUZZ_PROFILE", "ccomp-ci"))
SCALE = 10 if os.environ.get("CCOMP_FUZZ_PROFILE") == "ccomp-long" else 1


def compiles_or_fails_cleanly(text: str) -> None:
    """Frontend then passes: only a ``CompileError`` may come out, and one from the
    frontend is located in the program."""
    faulthandler.dump_traceback_later(PER_EXAMPLE_S, exit=True)
    try:
        try:
            module = lower_to_l1(Source(text, "fuzz.cn"))
        except CompileError as exc:
            m = LOCATED.match(str(exc))
            assert m and m["file"] == "fuzz.cn", f"unlocated error {str(exc)[:300]!r}"
            str(exc).encode("utf-8")  # printable: no lone surrogate in a diagnostic
            return
        try:
            lower(module, "kern")
        except CompileError as exc:
            str(exc).encode("utf-8")
    finally:
        faulthandler.cancel_dump_traceback_later()


# ----- programs from the grammar --------------------------------------------------

INT_EDGES = ["0", "1", "7", "2147483647", "2147483648", "4294967296", "9223372036854775807",
             "9223372036854775808", "1" * 400, "9" * 5000, "000000000000000000001"]
FLOAT_EDGES = ["0.0", ".5", "5.", "1e3", "1E-3", "2.5e+2", "3.4028235e38", "3.5e38", "1e39", "1e-50",
               "1e308", "1e309", "1" * 5000 + ".0", "1e" + "9" * 400, "0." + "0" * 400 + "1"]
OTHER_LITERALS = ["true", "false", "1ms", "100Hz", "2.5kHz", "\"text\"", "1" * 3000 + "s"]
literals = st.one_of(st.sampled_from(INT_EDGES + FLOAT_EDGES + OTHER_LITERALS),
                     st.integers(0, 2**66).map(str),
                     st.floats(min_value=0, allow_nan=False, allow_infinity=False).map(repr))

GRAPH_FUNCS = ["abs", "clamp", "mix", "min", "max", "step", "smoothstep", "sqrt", "sin", "exp", "pow", "dot",
               "length", "normalize", "select", "floor", "fract", "f32", "i32", "f64", "i64", "vec2", "vec3",
               "vec4", "blur", "capture", "size", "resize", "sample", "histogram", "sum", "mean", "uv", "nope"]
FN_FUNCS = ["rows", "cols", "nnz", "fill", "to", "to_dense", "sum", "min", "max", "mean", "sqrt", "abs",
            "exp", "transpose", "clamp"]
BINOPS = ["+", "-", "*", "/", "%", "@", "<", "<=", "==", "!=", ">", ">=", "&&", "||"]
SWIZZLES = ["x", "y", "z", "w", "rgb", "xy", "xyzw", "q", "xxxxx"]
FORMATS = ["csr", "csc", "coo", "dense", "auto", "bsr(4x4)", "bsr(3x2)", "bsr(64x64)", "bsr(0x4)", "bsr(9x99999999999)"]


def expressions(names: list[str], funcs: list[str]) -> st.SearchStrategy[str]:
    """Wild expressions: any leaf, operator, function and arity."""
    leaves = st.one_of(st.sampled_from(names + ["x", "y", "z", "undefined"]), literals,
                       st.sampled_from(FORMATS))

    def extend(sub: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(sub, st.sampled_from(BINOPS), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(st.sampled_from(["-", "!"]), sub).map("".join),
            st.tuples(st.sampled_from(funcs), st.lists(sub, max_size=4)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
            st.tuples(sub, st.sampled_from(SWIZZLES)).map(lambda t: f"({t[0]}).{t[1]}"),
            st.tuples(st.sampled_from(names), st.lists(sub, min_size=1, max_size=3)).map(
                lambda t: f"{t[0]}[{', '.join(t[1])}]"),
            st.tuples(st.sampled_from(["3", "0", "n", "(2 + 1)", "2147483648"]), sub, sub).map(
                lambda t: f"(repeat {t[0]} (s = {t[1]}) {{\n        yield {t[2]} + s * 0.5\n    }})"),
        )
    return st.recursive(leaves, extend, max_leaves=10)


# Tame expressions are mostly well typed, so checking, IR generation and the passes
# see them: f32 images and scalars in graphs, vectors and matrices in fn programs.
TAME_GRAPH_FUNCS = {"abs": 1, "sqrt": 1, "exp": 1, "floor": 1, "clamp": 3, "mix": 3, "min": 2, "max": 2,
                    "step": 2, "pow": 2, "smoothstep": 3}
TAME_FN_FUNCS = {"abs": 1, "sqrt": 1, "exp": 1, "clamp": 3, "min": 2, "max": 2}


def tame(kind: str, images: list[str], scalars: list[str]) -> st.SearchStrategy[str]:
    floats = st.sampled_from(["0.5", "2.0", "1.0", "0.0", "3.4e38", "1e-30", "100.0"])
    leaves = st.one_of(st.sampled_from(images + scalars), floats)
    funcs = TAME_GRAPH_FUNCS if kind == "graph" else TAME_FN_FUNCS

    def extend(sub: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        calls = st.sampled_from(sorted(funcs)).flatmap(
            lambda f: st.lists(sub, min_size=funcs[f], max_size=funcs[f]).map(lambda a: f"{f}({', '.join(a)})"))
        options = [st.tuples(sub, st.sampled_from(["+", "-", "*", "/"]), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
                   st.tuples(st.just("-"), sub).map("".join), calls]
        if kind == "graph":
            options += [
                st.tuples(st.sampled_from(images), st.sampled_from(["x - 1", "x + 2147483647", "x"]),
                          st.sampled_from(["y + 1", "y", "-y"])).map(lambda t: f"{t[0]}[{t[1]}, {t[2]}]"),
                st.tuples(st.sampled_from(images), st.sampled_from(["0", "1", "4", "17"])).map(
                    lambda t: f"blur({t[0]}, {t[1]})"),
                st.sampled_from(["sum", "mean", "min", "max"]).flatmap(
                    lambda f: st.sampled_from(images).map(lambda i: f"{f}({i})")),
                st.tuples(st.sampled_from(["3", "0", "(2 + 1)"]), sub).map(
                    lambda t: f"(repeat {t[0]} (s = {images[0]}) {{\n        yield {t[1]} * 0.5 + s * 0.5\n    }})"),
            ]
        else:
            options += [
                st.tuples(st.sampled_from(["A", "to(A, dense)", "to(A, coo)", "to(A, bsr(4x4))", "to(A, csc)"]),
                          sub).map(lambda t: f"({t[0]} @ {t[1]})"),
                st.sampled_from(["fill(rows(A), 1.0)", "fill(cols(A), 0.5)", "v * sum(v)", "v / f32(nnz(A))"]),
            ]
        return st.one_of(*options)
    return st.recursive(leaves, extend, max_leaves=8)


@st.composite
def tame_programs(draw: st.DrawFn, kind: str) -> str:
    if kind == "graph":
        params, images, scalars, result = "a: image<f32>, b: image<f32>, k: f32 = 2.0", ["a", "b"], ["k"], "image<f32>"
    else:
        params, images, scalars = "A: tensor<?x?xf32, csr>, v: tensor<?xf32>, k: f32 = 2.0", ["v"], ["k"]
        result = "tensor<?xf32>"
    names = list(images)
    body = []
    for j in range(draw(st.integers(0, 2))):
        body.append(f"    let t{j} = {draw(tame(kind, names, scalars))}\n")
        names.append(f"t{j}")
    return f"{kind} g({params}) -> {result} {{\n{''.join(body)}    return {draw(tame(kind, names, scalars))}\n}}\n"


GRAPH_PARAMS = ["image<f32>", "image<vec4>", "image<i32>", "image<vec2>", "image<f64>", "volume<f32>",
                "image<f32, 8x4>", "f32", "i32", "bool", "vec3", "f64", "i64", "tensor<?xf32>", "image<bool>"]
FN_PARAMS = ["tensor<?x?xf32, csr>", "tensor<?x?xf32, bsr(2x2)>", "tensor<?xf32>", "tensor<4x3xf32>",
             "tensor<?x?xf32, auto>", "tensor<?x?xf32>", "f32", "i32", "image<f32>"]
SCALARS = ("f32", "i32", "bool", "vec3", "f64", "i64")
GRAPH_RESULTS = ["image<f32>", "image<vec4>", "f32", "i32", "(o: image<f32>, s: f32)", "tensor<16xi32>",
                 "volume<f32>"]
FN_RESULTS = ["tensor<?xf32>", "tensor<?x?xf32, csr>", "tensor<?x?xf32, bsr(64x64)>", "f32",
              "tensor<?x?xf32>", "(t: tensor<?xf32>, n: i32)"]


@st.composite
def wild_programs(draw: st.DrawFn, kind: str) -> str:
    param_types, results, funcs = ((GRAPH_PARAMS, GRAPH_RESULTS, GRAPH_FUNCS) if kind == "graph"
                                   else (FN_PARAMS, FN_RESULTS, FN_FUNCS))
    params, names = [], []
    for i in range(draw(st.integers(1, 3))):
        t = draw(st.sampled_from(param_types))
        default = f" = {draw(literals)}" if t in SCALARS and draw(st.booleans()) else ""
        params.append(f"p{i}: {t}{default}")
        names.append(f"p{i}")
    body = []
    for j in range(draw(st.integers(0, 3))):
        body.append(f"    let v{j} = {draw(expressions(names, funcs))}\n")
        names.append(f"v{j}")
    returned = ", ".join(draw(st.lists(expressions(names, funcs), min_size=1, max_size=2)))
    return (f"{kind} g({', '.join(params)}) -> {draw(st.sampled_from(results))} {{\n"
            f"{''.join(body)}    return {returned}\n}}\n")


def programs(kind: str) -> st.SearchStrategy[str]:
    """Half tame (deep into the compiler), half wild (every error path)."""
    return st.one_of(tame_programs(kind), wild_programs(kind))


@settings(PROFILE, max_examples=120 * SCALE)
@given(programs("graph"))
def test_generated_graphs_compile_or_raise_compile_errors(text):
    compiles_or_fails_cleanly(text)


@settings(PROFILE, max_examples=80 * SCALE)
@given(programs("fn"))
def test_generated_fn_programs_compile_or_raise_compile_errors(text):
    compiles_or_fails_cleanly(text)


# ----- mutations of the shipped programs ------------------------------------------

SEEDS = {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
         for p in sorted((ROOT / "examples").glob("*.cn")) + sorted((ROOT / "tests").rglob("*.cn"))}
TOKEN = re.compile(r"\d+(?:\.\d*)?(?:[eE][+-]?\d+)?[A-Za-z]*|[A-Za-z_]\w*|->|&&|\|\||[=!<>]=|\S")
STRANGE = ["\x00", "\x1b[2J", "\r", "\r\n", "\t", "\x0b", "\x0c", "\x7f", "\x85", "\ud800", "\u202e", "\u2028",
           "\ufeff", "\u753b", "\U0001f600", "e\u0301", "#", "\"", "{", "}", "(", ")"]
payloads = st.one_of(st.sampled_from(STRANGE + INT_EDGES + FLOAT_EDGES + FORMATS), literals,
                     st.text(max_size=3))


@st.composite
def mutants(draw: st.DrawFn) -> str:
    text = SEEDS[draw(st.sampled_from(sorted(SEEDS)))]
    for _ in range(draw(st.integers(1, 4))):
        tokens = list(TOKEN.finditer(text))
        if not tokens:
            break
        t = tokens[draw(st.integers(0, len(tokens) - 1))]
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "replace", "insert", "repeat"]))
        a, b = t.start(), t.end()
        if op == "delete":
            text = text[:a] + text[b:]
        elif op == "duplicate":
            text = text[:b] + " " + t.group() + text[b:]
        elif op == "swap":
            u = tokens[draw(st.integers(0, len(tokens) - 1))]
            if u.start() >= b:
                text = text[:a] + u.group() + text[b:u.start()] + t.group() + text[u.end():]
        elif op == "replace":
            text = text[:a] + draw(payloads) + text[b:]
        elif op == "insert":
            text = text[:a] + draw(payloads) + text[a:]
        else:
            text = text[:a] + t.group() * draw(st.integers(2, 300)) + text[b:]
    return text


@settings(PROFILE, max_examples=300 * SCALE)
@given(mutants())
def test_mutated_programs_compile_or_raise_compile_errors(text):
    compiles_or_fails_cleanly(text)
