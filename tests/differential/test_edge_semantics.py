"""Edge-case numerics on every target against the reference evaluator, which is the
specification (docs/language.md, "Numeric semantics"): NaN, +-inf, signed zeros,
denormals, i32/i64 overflow, float-to-int conversion out of range, and issue 15's
clamped neighbour read ``a[x, y + 2147483647]``, which read outside its buffer on
OpenCL while the emitted index arithmetic relied on undefined signed overflow.

Float inputs are a 16x16 grid holding every pair of 16 special values, so one launch
checks every combination. Floats compare NaN-aware: the same elements are NaN, the rest
agree to a few ulps with no absolute tolerance (a denormal flushed to zero is a
mismatch). Where GLSL cannot match (llvmpipe flushes denormals), the test asserts the
difference the language reference documents, computed from the reference's answer.
Targets missing on this machine are skipped by the drivers' own probes.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from diffutil import TARGETS, reference
from ccomp.runtime.devices import gl, opencl

_PROBES = {"opencl": opencl.probe, "glsl": gl.probe}


def _target_params():
    for t in TARGETS:
        ok, why = _PROBES[t]() if t in _PROBES else (True, "")
        yield pytest.param(t, marks=pytest.mark.skipif(not ok, reason=why))


ON_TARGETS = pytest.mark.parametrize("target", list(_target_params()))

F32_MAX, I32_MIN, I32_MAX = np.finfo(np.float32).max, -2**31, 2**31 - 1
SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e-40, 1e-38, 1.0, -1.0,
                     0.5, -2.5, 3.0, 7.0, F32_MAX, -F32_MAX], dtype=np.float32)
GRID_A = np.tile(SPECIALS, (16, 1))  # a[i, j] = SPECIALS[j], b[i, j] = SPECIALS[i]
GRID_B = GRID_A.T.copy()

FLOAT_CASES = {
    "add": "a + b", "sub": "a - b", "mul": "a * b", "div": "a / b", "mod": "a % b",
    "div_zero": "a / k", "mul_zero": "a * k",
    # a literal zero and a value twice: what GLSL compilers fold unless told not to
    "div_literal_zero": "a / 0.0", "mul_literal_zero": "a * 0.0", "mod_literal_zero": "a % 0.0",
    "self_sub": "a - a", "reassociate": "a * 1e-30 * 1e-10",
    "min": "min(a, b)", "max": "max(a, b)", "clamp": "clamp(a, -1.0, b)",
    "smoothstep": "smoothstep(0.0, 1.0, a)", "smoothstep_edges": "smoothstep(b, 1.0, a)",
    "step": "step(0.5, a)", "select": "select(a < b, a, b)", "neg": "-a", "abs": "abs(a)",
    "sqrt": "sqrt(a)", "floor": "floor(a)", "fract": "fract(a)",
    "denormal_result": "a * 0.0001", "denormal_input": "a * 1e20",
}
MIN_MAX = ("min", "max", "clamp")  # where the sign of a zero result is specified too

I32 = np.array([I32_MIN, I32_MAX, -1, 0, 1, 2, 7, -7, 46341, 65536, -65536, 1 << 30,
                123456789, -123456789, I32_MIN + 1, I32_MAX - 1], dtype=np.int32)
INT_CASES = {
    "add": "n + m", "sub": "n - m", "mul": "n * m", "neg": "-n", "div": "n / m", "mod": "n % m",
    "abs": "abs(n)", "min_max": "min(n, m) - max(n, m)", "add_max": "n + 2147483647",
    "mul_big": "n * 65537", "to_f32": "i32(f32(n) * 0.5)",
}


def assert_same(got, want, zeros: bool = False, inputs=()) -> None:
    """NaN where the reference has NaN, the reference's value (a few ulps) elsewhere;
    with ``zeros``, the sign of each zero too. Lists the first differing elements."""
    got, want = np.atleast_1d(got), np.atleast_1d(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype, want.dtype)
    if want.dtype.kind != "f":
        bad = got != want
    else:
        nan = np.isnan(want)
        bad = (np.isnan(got) != nan) | (~nan & ~((got == want) | np.isclose(got, want, rtol=4e-7, atol=0)))
        if zeros:
            bad |= (want == 0) & (np.signbit(got) != np.signbit(want))
    where = list(zip(*np.nonzero(bad)))[:8]
    listing = "; ".join(f"{tuple(int(k) for k in p)}: inputs {[x[p] for x in inputs]} got {got[p]!r} "
                        f"want {want[p]!r}" for p in where)
    assert not bad.any(), f"{int(bad.sum())} of {bad.size} differ: {listing}"


def _float_program(expr: str, out: str = "image<f32>") -> str:
    return f"graph t(a: image<f32>, b: image<f32>, k: f32) -> {out} {{\n    return {expr}\n}}\n"


def _reference(src: str, args: list) -> list:
    with warnings.catch_warnings():  # NumPy warns about the very values under test
        warnings.simplefilter("ignore", RuntimeWarning)
        return reference(src, "t", args)


@ON_TARGETS
@pytest.mark.parametrize("name", sorted(FLOAT_CASES))
def test_float_specials(name, target, compiled):
    src = _float_program(FLOAT_CASES[name])
    got = compiled(src, target)(a=GRID_A, b=GRID_B, k=0.0)
    want = _reference(src, [GRID_A, GRID_B, np.float32(0.0)])[0]
    assert_same(got, want, zeros=name in MIN_MAX, inputs=(GRID_A, GRID_B))


@ON_TARGETS
@pytest.mark.parametrize("kind", ["min", "max", "sum"])
def test_reductions_keep_nan_and_inf(kind, target, compiled):
    """A NaN anywhere makes min/max/sum NaN; without NaN, -inf/+inf win min/max."""
    src = _float_program(f"{kind}(a)", "f32")
    with_nan = compiled(src, target)(a=GRID_A, b=GRID_B, k=0.0)
    assert np.isnan(with_nan) and np.isnan(_reference(src, [GRID_A, GRID_B, np.float32(0)])[0])
    finite = np.where(np.isnan(GRID_A), np.float32(0.25), GRID_A)
    got = compiled(src, target)(a=finite, b=GRID_B, k=0.0)
    want = _reference(src, [finite, GRID_B, np.float32(0)])[0]
    assert_same(np.float32(got), np.float32(want))
    if kind != "sum":
        assert want == (-np.inf if kind == "min" else np.inf)


@ON_TARGETS
@pytest.mark.parametrize("name", sorted(INT_CASES))
def test_i32_overflow(name, target, compiled):
    """i32 arithmetic wraps, and division follows ccomp's definitions, on every target."""
    src = f"graph t(n: image<i32>, m: image<i32>) -> image<i32> {{\n    return {INT_CASES[name]}\n}}\n"
    n = np.tile(I32, (16, 1))
    m = n.T.copy()
    got = compiled(src, target)(n=n, m=m)
    assert_same(got, _reference(src, [n, m])[0], inputs=(n, m))


@ON_TARGETS
def test_i64_wraps(target, compiled):
    src = ("graph t(n: image<i64>) -> image<i64> {\n"
           "    return n * 4611686018427387905 + (n - 9223372036854775807) - n\n}\n")
    n = np.array([[-2**63, 2**63 - 1, -1, 0, 3, -3, 2**62, 12345678901234]], dtype=np.int64)
    assert_same(compiled(src, target)(n=n), _reference(src, [n])[0], inputs=(n,))


@ON_TARGETS
def test_neighbour_read_past_i32_max_is_clamped(target, compiled):
    """Issue 15's reproducer: y + 2147483647 wraps for y >= 1, so row 0 is read there
    and row 2 (the clamped 2147483647) at y = 0 -- never memory outside the image."""
    src = "graph g(a: image<f32>) -> image<f32> { return a[x, y + 2147483647] }\n"
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    got = compiled(src, target)(a=a)
    np.testing.assert_array_equal(got, a[[2, 0, 0]])
    np.testing.assert_array_equal(got, reference(src, "g", [a])[0])


@ON_TARGETS
def test_wrapped_index_products_are_clamped(target, compiled):
    """x * 1073741824 is 0, 2^30, -2^31 and -2^30 for x = 0..3: columns 0, 3, 0, 0."""
    src = "graph g(a: image<f32>) -> image<f32> { return a[x * 1073741824, y - 2147483647] }\n"
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    got = compiled(src, target)(a=a)
    np.testing.assert_array_equal(got, a[np.ix_([0, 0, 0], [0, 3, 0, 0])])
    np.testing.assert_array_equal(got, reference(src, "g", [a])[0])


@ON_TARGETS
def test_float_to_int_out_of_range(target, compiled):
    """i32() of NaN, +-inf or a value beyond i32 gives -2147483648 (x86's answer, so the
    reference's and llvm's), not whatever an undefined conversion leaves; i64() -2^63."""
    src = "graph t(a: image<f32>) -> image<i32> { return i32(a) }\n"
    a = np.array([[np.nan, np.inf, -np.inf, 3e9, -3e9, 2147483520.0, -2147483648.0, -2.9]], np.float32)
    got = compiled(src, target)(a=a)
    assert got.tolist() == [[I32_MIN] * 5 + [2147483520, I32_MIN, -2]]
    assert_same(got, _reference(src, [a])[0])
    wide = "graph t(a: image<f32>) -> image<i64> { return i64(a) }\n"
    a = np.array([[np.nan, np.inf, -np.inf, 1e19, -1e19, 3e9, -2.9]], np.float32)
    got = compiled(wide, target)(a=a)
    assert got.tolist() == [[-2**63] * 5 + [3000000000, -2]]
    assert_same(got, _reference(wide, [a])[0])


@ON_TARGETS
def test_sample_at_nan_is_nan_not_a_stray_read(target, compiled):
    """A NaN coordinate gives the clamped corner index (see the conversion above), so
    the bilinear weights, not the address, carry the NaN."""
    src = "graph t(a: image<f32>, k: f32) -> image<f32> { return sample(a, uv * k) }\n"
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    got = compiled(src, target)(a=a, k=np.nan)
    assert np.isnan(got).all()
    assert_same(got, _reference(src, [a, np.float32(np.nan)])[0])
