"""``canonicalize`` folds float constants in the program's float type (passes/canonicalize.py):
xDSL's own fold computed in doubles and raised ``OverflowError`` when the result left
f32's range, so ``a + 1e30 * 1e30`` was a traceback. Found by tools/fuzz_targets.py."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.dialects import arith

import ccomp
from ccomp.driver.pipeline import lower
from ccomp.frontend import lower_to_l1
from ccomp.diagnostics import Source
from refutil import reference

CASES = {
    "overflow": ("a + 1e30 * 1e30", np.inf),
    "overflow_in_mod": ("a + 1e30 % 1e-40", -np.inf),  # a - b * trunc(a / b), a / b = inf
    "zero_over_zero": ("a + 0.0 / 0.0", np.nan),
    "neg_overflow": ("a + (-3.4028235e38 - 3.4028235e38)", -np.inf),
    "rounds_in_f32": ("a + (0.1 + 0.2)", np.float32(0.1) + np.float32(0.2)),
    "denormal": ("a + 1e-38 * 0.001", np.float32(1e-38) * np.float32(0.001)),
}


def _source(expr: str) -> str:
    return f"graph t(a: image<f32>) -> image<f32> {{\n    return {expr}\n}}\n"


@pytest.mark.parametrize("name", sorted(CASES))
def test_constant_float_arithmetic_folds_as_f32(name):
    expr, want = CASES[name]
    kern = lower(lower_to_l1(Source(_source(expr), "<t>")), "kern", None, None, "llvm")
    folded = [op for op in kern.walk() if isinstance(op, (arith.AddfOp, arith.MulfOp, arith.DivfOp, arith.SubfOp))
              and all(isinstance(o.owner, arith.ConstantOp) for o in op.operands)]
    assert not folded, "two constants are left unfolded"
    got = ccomp.compile(_source(expr), target="llvm", cache=False)(a=np.zeros((1, 2), np.float32))
    np.testing.assert_array_equal(got, np.full((1, 2), want, np.float32))
    np.testing.assert_array_equal(got, reference(_source(expr), "t", [np.zeros((1, 2), np.float32)])[0])


def test_the_pipeline_uses_this_canonicalize():
    from ccomp.driver.pipeline import available_passes
    from ccomp.passes.canonicalize import CanonicalizePass

    assert available_passes()["canonicalize"]() is CanonicalizePass
