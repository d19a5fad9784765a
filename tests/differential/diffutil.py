"""Helpers for the differential tests: compile a program for a target, run
it, and compare with the NumPy reference evaluator on the same L1 IR."""

from __future__ import annotations

import numpy as np

from ccomp.diagnostics import Source
from ccomp.frontend import lower_to_l1
from ccomp.reference import evaluate

TARGETS = ("llvm", "opencl", "glsl")


def reference(src: str, function: str, args: list) -> list:
    return evaluate(lower_to_l1(Source(src, "<test>")), function, args)


def assert_matches(got, want, atol: float = 1e-5) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    if got.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=0, atol=atol)
    else:
        np.testing.assert_array_equal(got, want)


