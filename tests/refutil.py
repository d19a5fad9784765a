"""Shared by the differential and repeat-zone tests: the NumPy reference evaluator run
on the same L1 IR a program compiles from, and the comparison the tests apply."""

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
