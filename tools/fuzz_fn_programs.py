"""Random well-typed ``fn`` (tensor) programs for the cross-target fuzzer: elementwise
trees over a matrix ``A`` (n x n), vectors ``v``, ``w`` (n) and scalars ``k: f32``,
``j: i32`` — the operators, broadcasting of a vector over a matrix's rows, ``fill``,
``min``/``max``/``clamp``/``abs``/``floor``/``fract``/``sqrt``/``step``, exact ``min``/``max``
reductions inside expressions, repeat zones with a vector state — and as outputs float
sums (``sum``, ``mean``) and products (``A @ x`` dense or through ``to(A, csr)``), each with
its scale output (the same over absolute values). The rules are those of
``fuzz_programs``: only operations every target computes exactly as the reference does.
"""

from __future__ import annotations

import random

import numpy as np

from fuzz_programs import F32_EDGES, F32_LITERALS, Output, RandomProgram, f32_values

_LITERALS = tuple(lit for lit in F32_LITERALS if lit != "1e-40")


class _Fn:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.leaves = {"vec": ["v", "w"], "mat": ["A"]}
        self.lets: list[str] = []
        self.names = 0

    def scalar(self, depth: int) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.3:
            return rng.choice(("k", "j", "k"))
        if r < 0.7 or depth <= 0:
            return rng.choice(_LITERALS)
        if r < 0.85:
            return f"{rng.choice(('min', 'max'))}({self.tensor(rng.choice(('vec', 'mat')), depth - 1)})"
        return f"({self.scalar(depth - 1)} {rng.choice('+-*/')} {self.scalar(depth - 1)})"

    def tensor(self, kind: str, depth: int) -> str:
        """An expression of ``kind`` (``vec`` or ``mat``) that reads a tensor."""
        rng = self.rng
        if depth <= 0 or rng.random() < 0.25:
            if rng.random() < 0.1:
                return f"fill(rows(A), {self.scalar(0)})" if kind == "vec" else f"fill(rows(A), cols(A), {self.scalar(0)})"
            return rng.choice(self.leaves[kind])
        sub = self.tensor(kind, depth - 1)
        choice = rng.randrange(7)
        if choice < 3:
            other = self.scalar(depth - 1) if rng.random() < 0.4 else self.tensor(
                "vec" if kind == "vec" or rng.random() < 0.3 else "mat", depth - 1)
            left, right = (sub, other) if rng.random() < 0.5 else (other, sub)
            return f"({left} {rng.choice('+-*/%')} {right})"
        if choice == 3:
            return f"{rng.choice(('min', 'max'))}({sub}, {self.scalar(depth - 1)})"
        if choice == 4:
            return f"clamp({sub}, {self.scalar(depth - 1)}, {self.scalar(depth - 1)})"
        if choice == 5:
            return f"step({self.scalar(depth - 1)}, {sub})"
        return f"{rng.choice(('abs', 'floor', 'fract', 'sqrt', '-'))}({sub})"

    def repeat(self, depth: int) -> None:
        rng = self.rng
        self.names += 1
        name, state = f"r{self.names}", f"s{self.names}"
        init = self.tensor("vec", depth - 1)
        self.leaves["vec"].append(state)
        body = self.tensor("vec", depth)
        self.leaves["vec"].remove(state)
        self.lets.append(f"let {name} = repeat {rng.choice('0123')} ({state} = {init}) {{\n        yield {body}\n    }}")
        self.leaves["vec"].append(name)


def random_fn(seed: int, depth: int = 3) -> RandomProgram:
    rng = random.Random(seed)
    g = _Fn(rng)
    for _ in range(rng.randint(0, 2)):
        g.repeat(depth - 1)
    n = rng.randint(1, 7)
    outputs = [Output("o0", "tensor<?xf32>"), Output("o1", "tensor<?x?xf32>")]
    values = [g.tensor("vec", depth), g.tensor("mat", depth)]
    extra = rng.choice(("sum", "mean", "min", "max", "matvec", "csr", "matmul"))
    if extra in ("min", "max"):
        outputs.append(Output("s0", "f32"))
        values.append(f"{extra}({g.tensor('mat', depth - 1)})")
    elif extra in ("sum", "mean"):
        arg = g.tensor(rng.choice(("vec", "mat")), depth - 1)
        outputs += [Output("s0", "f32", scale="s0_scale", reduce=extra),
                    Output("s0_scale", "f32", scale="s0_scale", reduce=extra)]
        values += [f"{extra}({arg})", f"{extra}(abs({arg}))"]
    else:
        right = g.tensor("vec" if extra != "matmul" else "mat", depth - 1)
        left, left_abs = ("to(A, csr)", "to(abs(A), csr)") if extra == "csr" else ("A", "abs(A)")
        kind = "tensor<?x?xf32>" if extra == "matmul" else "tensor<?xf32>"
        outputs += [Output("p0", kind, scale="p0_scale"), Output("p0_scale", kind, scale="p0_scale")]
        values += [f"{left} @ {right}", f"{left_abs} @ abs({right})"]
    terms = n * n if extra != "matvec" and extra != "csr" and extra != "matmul" else n
    for o in outputs:
        o.terms = terms
    edges = rng.choice((0.0, 0.1, 0.3))
    inputs = {"A": f32_values(rng, (n, n), edges), "v": f32_values(rng, (n,), edges), "w": f32_values(rng, (n,), edges),
              "k": np.float32(rng.choice(F32_EDGES) if rng.random() < edges else rng.randint(-8, 8) / 2),
              "j": np.int32(rng.randint(-5, 5))}
    results = ", ".join(f"{o.name}: {o.type}" for o in outputs)
    body = "".join(f"    {s}\n" for s in g.lets)
    src = (f"fn t(A: tensor<?x?xf32>, v: tensor<?xf32>, w: tensor<?xf32>, k: f32, j: i32) -> ({results}) {{\n"
           f"{body}    return {', '.join(values)}\n}}\n")
    return RandomProgram(seed, "fn", src, "t", ["A", "v", "w", "k", "j"], inputs, outputs)
