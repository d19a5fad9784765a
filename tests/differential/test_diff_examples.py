"""Every example program, on every target, against the NumPy reference (L1 IR)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from diffutil import TARGETS, assert_matches, reference

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("target", TARGETS)
def test_tonemap(target, compiled, rng):
    text = (EXAMPLES / "tonemap.cn").read_text()
    src = rng.random((70, 90, 4), dtype=np.float32)
    prog = compiled(text, target)
    for gain in (1.5, 0.8):
        got = prog(src=src, gain=gain)
        want = reference(text, "tonemap", [src, np.float32(gain)])[0]
        assert_matches(got, want)
    assert_matches(prog(src=src), reference(text, "tonemap", [src, np.float32(1.5)])[0])


@pytest.mark.parametrize("target", TARGETS)
def test_edges(target, compiled, rng):
    text = (EXAMPLES / "edges.cn").read_text()
    src = rng.random((83, 64), dtype=np.float32)
    mag, mean_mag = compiled(text, target)(src=src)
    want_mag, want_mean = reference(text, "edges", [src])
    assert_matches(mag, want_mag)
    np.testing.assert_allclose(mean_mag, want_mean, rtol=1e-5)
    # the named tuple reads by name too
    out = compiled(text, target)(src)
    assert_matches(out.mag, want_mag)


NINE = "graph nine(" + ", ".join(f"i{k}: image<f32>" for k in range(9)) + ") -> (s: image<f32>, m: f32) {\n" \
    "    let t = " + " + ".join(f"i{k} * {k + 1}.0" for k in range(9)) + "\n    return t, mean(t)\n}\n"


@pytest.mark.parametrize("target", TARGETS)
def test_more_images_than_bindings(target, compiled, rng):
    """Nine inputs and an output exceed GLSL's 8 buffers a shader: graph-schedule splits."""
    images = [rng.random((19, 23), dtype=np.float32) for _ in range(9)]
    prog = compiled(NINE, target)
    s, m = prog(*images)
    want_s, want_m = reference(NINE, "nine", images)
    assert_matches(s, want_s)
    np.testing.assert_allclose(m, want_m, rtol=1e-5)
    if target == "glsl":
        assert len(prog.launches) > 1


DIVISION = "graph g(a: image<i32>, d: i32) -> (q: image<i32>, r: image<i32>) {\n    return a / d, a % d\n}\n"


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("d", [0, -1, 2, -3, 7])
def test_integer_division_never_traps(target, d, compiled):
    """Truncating division with ccomp's definitions where C has none: x / 0 = 0,
    x % 0 = 0, INT_MIN / -1 wraps; the same on every target, and no SIGFPE."""
    a = np.array([[7, -7, -2147483648, 5, 2147483647, 0]], dtype=np.int32)
    q, r = compiled(DIVISION, target)(a=a, d=d)
    want_q, want_r = reference(DIVISION, "g", [a, d])
    assert_matches(q, want_q)
    assert_matches(r, want_r)


def _terrain(size: int, rng) -> np.ndarray:
    """A voxel terrain for erosion.cn: density 1 below a rough height field, 0 above."""
    zz, yy, xx = np.meshgrid(*(np.arange(size),) * 3, indexing="ij")
    height = size * (0.3 + 0.2 * np.sin(xx / 9.0) * np.cos(yy / 7.0)) + rng.uniform(0, 6, (size,) * 3)
    return np.clip(height - zz, 0, 1).astype(np.float32)


@pytest.mark.parametrize("target", TARGETS)
def test_erosion(target, compiled, rng):
    """The 64^3 erosion zone (10 of its 200 default steps: the reference takes ~35 ms a
    step) matches the reference, moves material and keeps its mass."""
    text = (EXAMPLES / "erosion.cn").read_text()
    terrain = _terrain(64, rng)
    got = compiled(text, target)(terrain, steps=10)
    want_eroded, want_mass = reference(text, "erosion", [terrain, 10, np.float32(0.25), np.float32(0.05)])
    assert_matches(got.eroded, want_eroded)
    np.testing.assert_allclose(got.mass, want_mass, rtol=1e-6)
    assert np.abs(got.eroded - terrain).max() > 0.1  # the zone ran
    np.testing.assert_allclose(got.mass, terrain.sum(dtype=np.float64), rtol=1e-5)
