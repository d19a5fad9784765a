"""Random well-typed ``graph`` and ``fn`` programs with their inputs, for the cross-target
differential fuzzer (``tools/fuzz_targets.py``, ``tests/differential/test_random_programs.py``).

One seed gives one program, always the same (``random.Random(seed)``), so a mismatch is
reproduced by its seed alone. The programs use only operations that every target
computes exactly as the reference does (docs/language.md, "Numeric semantics"): IEEE
``+ - * /`` and ``sqrt``, which round once, ``%``, ``floor``/``fract``/``abs``/``step``,
NaN-propagating ``min``/``max``/``clamp``, ``select`` over comparisons, wrapping i32
arithmetic, defined i32 division, conversions, neighbour reads (clamped, with offsets up
to ``2147483647`` and data-dependent gathers), captures, let-bound fields read at a
neighbour (recomputed), repeat zones, and the exact reductions (``min``/``max`` of
floats, everything on i32) anywhere in an expression. Transcendentals (``sin``, ``exp``,
``pow``...) are left out: the language promises them to a few ulps, not bit for bit.

Float sums (``sum``, ``mean``, ``A @ v``, ``A @ B``) are added in a different order on
each target, so they appear only as outputs, each with a *scale* output beside it (the
same sum over absolute values) that bounds the rounding difference; see
``fuzz_targets.compare``. Inputs mix ordinary values with the edge values: NaN, +-inf,
+-0, denormals, the largest f32, and i32's extremes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

F32_MAX = float(np.finfo(np.float32).max)
F32_EDGES = (float("nan"), float("inf"), float("-inf"), 0.0, -0.0, 1e-40, -1e-40, 1e-38, F32_MAX, -F32_MAX,
             1.0, -1.0, 0.5, 3.0, -2.5, 7.0)
I32_EDGES = (-2**31, 2**31 - 1, -1, 0, 1, 2, 7, -7, 46341, 65536, -65536, 1 << 30, 2**31 - 2, -2**31 + 1)
F32_LITERALS = ("0.0", "1.0", "0.5", "2.0", "3.0", "0.25", "1e-30", "1e-40", "1e30", "3.4028235e38", "7.5")
I32_LITERALS = ("0", "1", "2", "3", "7", "46341", "65536", "2147483647", "(-2147483647 - 1)", "1073741824")
OFFSETS = ("x", "x + 1", "x - 1", "x + 2", "x - 2", "x * 3", "x + 2147483647", "x * 1073741824", "-x")


@dataclass
class Output:
    """A result: its name, type, and for a float sum the name of its scale output (for
    an i32 mean, of the i32 sum, which the known problem divides)."""

    name: str
    type: str
    scale: str | None = None
    terms: int = 1
    reduce: str = ""  # "sum" or "mean" for a float sum and its scale


@dataclass
class RandomProgram:
    seed: int
    kind: str  # "graph" or "fn"
    source: str
    function: str
    params: list[str]
    inputs: dict[str, Any]
    outputs: list[Output] = field(default_factory=list)


def f32_values(rng: random.Random, shape: tuple[int, ...], edges: float) -> np.ndarray:
    """Ordinary values (small multiples of 1/4, so many ops are exact) with a fraction
    ``edges`` of edge values and some random magnitudes."""
    n = int(np.prod(shape))
    vals = []
    for _ in range(n):
        r = rng.random()
        if r < edges:
            vals.append(rng.choice(F32_EDGES))
        elif r < edges + 0.2:
            vals.append(rng.uniform(-1, 1) * 10.0 ** rng.randint(-6, 6))
        else:
            vals.append(rng.randint(-16, 16) / 4)
    return np.array(vals, dtype=np.float32).reshape(shape)


def i32_values(rng: random.Random, shape: tuple[int, ...], edges: float) -> np.ndarray:
    vals = [rng.choice(I32_EDGES) if rng.random() < edges else rng.randint(-20, 20) for _ in range(int(np.prod(shape)))]
    return np.array(vals, dtype=np.int64).astype(np.int32).reshape(shape)


class _Graph:
    """Builds one graph's body: ``expr`` returns the text of an expression of a type
    (``f32``, ``i32``, ``bool``) and kind (``field`` must read a field, ``uniform`` must
    not, ``any`` may)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.images = {"f32": ["a", "b"], "i32": ["n", "m"]}
        self.fields: dict[str, list[str]] = {"f32": [], "i32": []}
        self.uniforms = {"f32": ["k"], "i32": ["j"]}
        self.lets: list[str] = []
        self.names = 0

    def fresh(self, stem: str) -> str:
        self.names += 1
        return f"{stem}{self.names}"

    def expr(self, ty: str, kind: str, depth: int) -> str:
        if ty == "bool":
            return self.cond(kind, depth)
        rng = self.rng
        if depth <= 0 or rng.random() < 0.25:
            return self.leaf(ty, kind, depth)
        other = "any" if kind == "field" else kind
        sub = lambda k=other: self.expr(ty, k, depth - 1)  # noqa: E731
        choice = rng.randrange(10)
        if choice < 4:
            op = rng.choice("+-*/%")
            left, right = (self.expr(ty, kind, depth - 1), sub()) if rng.random() < 0.5 else (sub(), self.expr(ty, kind, depth - 1))
            return f"({left} {op} {right})"
        if choice == 4:
            return f"-{self.expr(ty, kind, depth - 1)}" if rng.random() < 0.5 else f"abs({self.expr(ty, kind, depth - 1)})"
        if choice == 5:
            return f"{rng.choice(('min', 'max'))}({self.expr(ty, kind, depth - 1)}, {sub()})"
        if choice == 6:
            return f"clamp({self.expr(ty, kind, depth - 1)}, {sub()}, {sub()})"
        if choice == 7:
            return f"select({self.cond(other, depth - 1)}, {self.expr(ty, kind, depth - 1)}, {sub()})"
        if choice == 8:  # a conversion from the other number type
            src = "i32" if ty == "f32" else "f32"
            return f"{ty}({self.expr(src, kind, depth - 1)})"
        if ty == "f32":
            fn = rng.choice(("sqrt", "floor", "fract", "step"))
            if fn == "step":
                return f"step({sub()}, {self.expr(ty, kind, depth - 1)})"
            return f"{fn}({self.expr(ty, kind, depth - 1)})"
        return f"({self.expr(ty, kind, depth - 1)} {rng.choice('+-*')} {self.leaf(ty, 'any', 0)})"

    def cond(self, kind: str, depth: int) -> str:
        rng = self.rng
        if depth > 1 and rng.random() < 0.25:
            if rng.random() < 0.3:
                return f"!({self.cond(kind, depth - 1)})"
            return f"({self.cond(kind, depth - 1)} {rng.choice(('&&', '||'))} {self.cond('any', depth - 1)})"
        ty = rng.choice(("f32", "i32"))
        op = rng.choice(("<", "<=", ">", ">=", "==", "!="))
        return f"{self.expr(ty, kind, depth - 1)} {op} {self.expr(ty, 'any' if kind != 'uniform' else kind, depth - 1)}"

    def leaf(self, ty: str, kind: str, depth: int) -> str:
        rng = self.rng
        if kind == "uniform" or (kind == "any" and rng.random() < 0.35):
            return self.uniform_leaf(ty, depth)
        r = rng.random()
        if r < 0.15:
            return "x" if ty == "i32" and rng.random() < 0.5 else ("y" if ty == "i32" else f"f32({rng.choice('xy')})")
        pool = self.images[ty] + self.fields[ty]
        name = rng.choice(pool)
        if r < 0.55:
            return name
        return f"{name}[{self.index('x', depth)}, {self.index('y', depth)}]"

    def index(self, axis: str, depth: int) -> str:
        rng = self.rng
        if rng.random() < 0.1 and depth > 0:
            return rng.choice(self.images["i32"])  # a gather: data-dependent, clamped
        return rng.choice(OFFSETS).replace("x", axis)

    def uniform_leaf(self, ty: str, depth: int) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.35:
            return rng.choice(self.uniforms[ty])
        if r < 0.75 or depth <= 0:
            return rng.choice(F32_LITERALS if ty == "f32" else I32_LITERALS)
        # exact reductions: float min/max, every i32 reduction
        red = rng.choice(("min", "max")) if ty == "f32" else rng.choice(("min", "max", "sum", "mean"))
        return f"{red}({self.expr(ty, 'field', min(depth - 1, 1))})"

    def statement(self, depth: int) -> None:
        rng = self.rng
        r = rng.random()
        if r < 0.35:
            name = self.fresh("c")
            self.lets.append(f"let {name} = capture({self.expr('f32', 'field', depth)})")
            self.images["f32"].append(name)
        elif r < 0.6:
            ty = rng.choice(("f32", "i32"))
            name = self.fresh("f")
            self.lets.append(f"let {name} = {self.expr(ty, 'field', depth)}")
            self.fields[ty].append(name)
        else:
            self.repeat(depth)

    def repeat(self, depth: int) -> None:
        rng = self.rng
        name, state = self.fresh("r"), self.fresh("s")
        init = self.expr("f32", "field", depth - 1)
        count = rng.choice(("0", "1", "2", "3"))
        self.images["f32"].append(state)
        self.uniforms["i32"].append("iteration")
        body = self.expr("f32", "field", depth)
        scalar = rng.random() < 0.4
        if scalar:  # a uniform state beside the image state
            acc = self.fresh("u")
            self.uniforms["f32"].append(acc)
            acc_next = f"{acc} + max({state})" if rng.random() < 0.5 else f"min({acc}, min({body}))"
            self.uniforms["f32"].remove(acc)
        self.images["f32"].remove(state)
        self.uniforms["i32"].remove("iteration")
        if scalar:
            self.lets.append(f"let {name} = repeat {count} ({state} = {init}, {acc} = {rng.choice(F32_LITERALS)}) "
                             f"{{\n        yield {body}, {acc_next}\n    }}")
            self.images["f32"].append(f"{name}.{state}")
            self.uniforms["f32"].append(f"{name}.{acc}")
        else:
            self.lets.append(f"let {name} = repeat {count} ({state} = {init}) {{\n        yield {body}\n    }}")
            self.images["f32"].append(name)


def random_graph(seed: int, depth: int = 3) -> RandomProgram:
    """A graph over f32 images ``a``, ``b``, i32 images ``n``, ``m`` (all one size) and
    uniforms ``k: f32``, ``j: i32``, with a few statements and 1-4 results."""
    rng = random.Random(seed)
    g = _Graph(rng)
    for _ in range(rng.randint(0, 3)):
        g.statement(depth - 1)
    outputs: list[Output] = []
    values: list[str] = []
    for i in range(rng.randint(1, 3)):
        ty = rng.choice(("f32", "f32", "i32"))
        outputs.append(Output(f"o{i}", f"image<{ty}>"))
        values.append(g.expr(ty, "field", depth))
    if rng.random() < 0.6:
        ty, red = rng.choice((("f32", "min"), ("f32", "max"), ("f32", "sum"), ("f32", "mean"), ("i32", "sum"),
                              ("i32", "mean"), ("i32", "max")))
        arg = g.expr(ty, "field", depth - 1)
        outputs.append(Output("s0", ty))
        values.append(f"{red}({arg})")
        if ty == "f32" and red in ("sum", "mean"):
            outputs[-1].scale, outputs[-1].reduce = "s0_scale", red
            outputs.append(Output("s0_scale", ty, scale="s0_scale", reduce=red))  # its own bound
            values.append(f"{red}(abs({arg}))")
        elif red == "mean":  # docs/language.md "Known problems": the i32 sum wraps before dividing
            outputs[-1].scale = "s0_sum"
            outputs.append(Output("s0_sum", ty))
            values.append(f"sum({arg})")
    h, w = rng.randint(1, 9), rng.randint(1, 9)
    edges = rng.choice((0.0, 0.1, 0.3))
    outputs[-1].terms = h * w
    for o in outputs:
        o.terms = h * w
    inputs = {"a": f32_values(rng, (h, w), edges), "b": f32_values(rng, (h, w), edges),
              "n": i32_values(rng, (h, w), edges), "m": i32_values(rng, (h, w), edges),
              "k": np.float32(rng.choice(F32_EDGES) if rng.random() < edges else rng.randint(-8, 8) / 2),
              "j": np.int32(rng.choice(I32_EDGES) if rng.random() < edges else rng.randint(-5, 5))}
    results = ", ".join(f"{o.name}: {o.type}" for o in outputs)
    body = "".join(f"    {s}\n" for s in g.lets)
    src = (f"graph t(a: image<f32>, b: image<f32>, n: image<i32>, m: image<i32>, k: f32, j: i32) -> ({results}) {{\n"
           f"{body}    return {', '.join(values)}\n}}\n")
    return RandomProgram(seed, "graph", src, "t", ["a", "b", "n", "m", "k", "j"], inputs, outputs)
