"""Every built-in node, compiled for every target, against the NumPy reference.

Each case is a one-line graph over a float image ``a`` (values in [-1, 2]), a
vec4 image ``c`` and a scalar ``k``; sizes are deliberately not multiples of any
workgroup size.
"""

from __future__ import annotations

import numpy as np
import pytest

from diffutil import TARGETS, assert_matches, reference

CASES = {
    "arith": "a * k + 0.5 - a / (k + 2.0)",
    "int_promote": "a + f32(x % 7) - f32(y / 3)",
    "neg": "-a",
    "blur1": "blur(a, 1)",
    "blur2": "blur(a * 2.0, 2)",
    "blur0": "blur(a, 0)",
    "mix": "mix(a, a * a, 0.25)",
    "clamp": "clamp(a, 0.0, 1.0)",
    "step": "step(0.5, a)",
    "smoothstep": "smoothstep(0.0, 1.0, a)",
    "dot": "dot(c.rgb, vec3(0.2, 0.3, 0.5))",
    "length": "length(c.xy)",
    "sqrt": "sqrt(abs(a))",
    "abs": "abs(a)",
    "min": "min(a, 0.5)",
    "max": "max(a, k)",
    "sin": "sin(a * 3.0)",
    "cos": "cos(a * 3.0)",
    "exp": "exp(a)",
    "pow": "pow(abs(a) + 0.1, 1.7)",
    "floor": "floor(a * 4.0)",
    "fract": "fract(a * 4.0)",
    "neighbours": "a[x + 1, y] - a[x - 1, y] + a[x, y + 2]",
    "corners": "a[x - 5, y - 5] + a[x + 9, y + 9]",
    "sample": "sample(a, uv + vec2(0.013, -0.021))",
    "uv": "uv.x * uv.y",
    "select": "select(a > 0.5, a, 1.0 - a)",
    "compare": "select(a < 0.0 || a > 1.5, 1.0, 0.0)",
    "swizzle": "c.b - c.r + c.gbar.w",
    "capture_stencil": "capture(a * 3.0)[x, y - 1]",
    "coords": "f32(x) * 0.01 + f32(y) * 0.001",
    "size": "f32(size(a).x) - f32(size(a).y) + a",
}

VECTOR_CASES = {
    "vec_mix": "mix(c, vec4(1.0, 0.0, 0.5, 1.0), a)",
    "vec_blur": "blur(c, 1) * k",
    "vec_step": "step(vec4(0.5), c)",
    "vec_construct": "vec4(c.rgb * 0.5, 1.0)",
    "vec_sample": "sample(c, uv)",
    "vec_clamp": "clamp(c * 2.0 - 0.5, 0.0, 1.0)",
}

REDUCTIONS = {"sum": "sum(a)", "mean": "mean(a * a)", "min": "min(a)", "max": "max(blur(a, 1))"}


def _inputs(rng, h=37, w=53):
    a = rng.uniform(-1.0, 2.0, (h, w)).astype(np.float32)
    c = rng.uniform(0.0, 1.0, (h, w, 4)).astype(np.float32)
    return a, c, np.float32(0.75)


def _program(expr: str, out: str) -> str:
    return (f"graph t(a: image<f32>, c: image<vec4>, k: f32) -> {out} {{\n"
            f"    return {expr}\n}}\n")


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", sorted(CASES) + sorted(VECTOR_CASES))
def test_builtin(name, target, compiled, rng):
    expr = CASES.get(name) or VECTOR_CASES[name]
    out = "image<vec4>" if name in VECTOR_CASES else "image<f32>"
    src = _program(expr, out)
    a, c, k = _inputs(rng)
    got = compiled(src, target)(a=a, c=c, k=k)
    want = reference(src, "t", [a, c, k])[0]
    assert_matches(got, want, atol=2e-5 if name in ("exp", "pow", "sin", "cos") else 1e-5)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction(name, target, compiled, rng):
    src = _program(REDUCTIONS[name], "f32")
    a, c, k = _inputs(rng, 61, 45)
    got = compiled(src, target)(a=a, c=c, k=k)
    want = reference(src, "t", [a, c, k])[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert isinstance(got, np.float32)


@pytest.mark.parametrize("target", TARGETS)
def test_one_pixel_image(target, compiled):
    src = _program("blur(a, 1) + a[x + 1, y - 1] + sample(a, uv)", "image<f32>")
    a = np.array([[0.25]], dtype=np.float32)
    c = np.zeros((1, 1, 4), dtype=np.float32)
    got = compiled(src, target)(a=a, c=c, k=1.0)
    assert_matches(got, reference(src, "t", [a, c, np.float32(1.0)])[0])
