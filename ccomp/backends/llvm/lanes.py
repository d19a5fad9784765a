"""How a kernel-body value is laid out across the ``VF`` columns of a widened step.

``widen.py`` emits a body for ``VF`` consecutive columns at once; this module holds
the value representation it uses and the shuffles that convert between layouts.

A value is one of:

* **uniform** — the same for every column: a plain scalar or vector (row-invariant
  values, bindings);
* **affine** — an integer equal to ``base + p`` in column ``p`` (``kern.index 0``,
  ``x + c`` and casts of them); it keeps addresses contiguous;
* **varying** — one wide vector ``<VF*S x T>``, column ``p`` in lanes
  ``[p*S, p*S + S)``. ``n`` lanes of each column are meaningful:

  - a ``vector<N>`` value has ``n = N`` and stride ``S >= N``; ``S > N`` pads each
    column with don't-care lanes, so that a ``vector<3>`` taken from a ``vector<4>``
    (``.rgb``) keeps the 4-lane layout instead of being repacked across registers;
  - a scalar has ``n = 1`` and is either compact (``S = 1``) or *replicated*, ``S``
    copies per column: reductions and lane extracts produce it with in-register
    shuffles, and broadcasting it back to a ``vector<S>`` — the usual fate of a
    luminance or a mask — is free.
"""

from __future__ import annotations

from dataclasses import dataclass

from llvmlite import ir

from ccomp.backends.llvm.types import I32, element_of


@dataclass(frozen=True)
class W:
    """A body value over the columns of one widened step (see the module docstring)."""

    kind: str  # "uniform", "affine" or "varying"
    value: ir.Value
    lanes: int = 1  # stride S of a varying value
    n: int = 1  # meaningful lanes per column of a varying value


class Lanes:
    """Layout conversions for ``vf`` columns, emitted with ``builder``."""

    def __init__(self, builder: ir.IRBuilder, vf: int):
        self.b = builder
        self.vf = vf

    def shuffle(self, v: ir.Value, lanes: list[int], other: ir.Value | None = None) -> ir.Value:
        mask = ir.Constant(ir.VectorType(I32, len(lanes)), lanes)
        return self.b.shuffle_vector(v, other if other is not None else ir.Constant(v.type, ir.Undefined), mask)

    def splat(self, scalar: ir.Value, count: int) -> ir.Value:
        one = self.b.insert_element(ir.Constant(ir.VectorType(scalar.type, count), ir.Undefined), scalar,
                                    ir.Constant(I32, 0))
        return self.shuffle(one, [0] * count)

    def wide(self, w: W, lanes: int) -> ir.Value:
        """``w`` as a wide vector of stride ``lanes``: scalars are replicated over the
        stride, vectors padded or packed to it (a vector's stride is at least its size)."""
        vf, b = self.vf, self.b
        if w.kind == "affine":
            t = ir.VectorType(w.value.type, vf)
            v, have, n = b.add(self.splat(w.value, vf), ir.Constant(t, list(range(vf)))), 1, 1
        elif w.kind == "uniform" and isinstance(w.value.type, ir.VectorType):
            count = w.value.type.count
            return self.shuffle(w.value, [k if k < count else 0 for _ in range(vf) for k in range(lanes)])
        elif w.kind == "uniform":
            v, have, n = self.splat(w.value, vf), 1, 1
        else:
            v, have, n = w.value, w.lanes, w.n
        if have == lanes:
            return v
        if n == 1:  # a per-column scalar: compact <-> replicated
            return self.shuffle(v, [p * have for p in range(vf) for _ in range(lanes)])
        assert lanes >= n, "a vector's stride covers its lanes"
        return self.shuffle(v, [p * have + (k if k < n else 0) for p in range(vf) for k in range(lanes)])

    def column(self, w: W, p: int) -> ir.Value:
        """Column ``p``'s own value, as the one-column emitter has it."""
        if w.kind == "uniform":
            return w.value
        if w.kind == "affine":
            return self.b.add(w.value, ir.Constant(w.value.type, p))
        if w.n == 1:  # compact or replicated scalar
            return self.b.extract_element(w.value, ir.Constant(I32, p * w.lanes))
        return self.shuffle(w.value, [p * w.lanes + k for k in range(w.n)])

    def gather(self, per_column: list[ir.Value]) -> W:
        """A dense varying value from one value per column."""
        b, first = self.b, per_column[0].type
        n = first.count if isinstance(first, ir.VectorType) else 1
        out = ir.Constant(ir.VectorType(element_of(first), self.vf * n), ir.Undefined)
        for p, v in enumerate(per_column):
            for k in range(n):
                lane = b.extract_element(v, ir.Constant(I32, k)) if n > 1 else v
                out = b.insert_element(out, lane, ir.Constant(I32, p * n + k))
        return W("varying", out, n, n)
