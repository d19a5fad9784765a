"""temporal-block: stencil repeat zones run k steps per launch, bit-identical on llvm.

Each program is compiled twice on llvm, blocking forbidden (``k=0``) and forced with
small tiles (so even small images have many tiles, halos crossing tile and image
edges), and the two must agree bit for bit on every size and step count; both are
also checked against the NumPy reference. Forced tiles are tiny on purpose: images
not a multiple of the tile, 1xN and Nx1 images, images smaller than the halo. The
launches say the blocked kernel really ran (``_tb`` in its name) for the step counts
that reach k. OpenCL and GLSL keep blocking off by default; forced there, results
stay within the usual tolerance.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import ccomp

sys.path.insert(0, str(Path(__file__).parent))
from diffutil import assert_matches, reference  # noqa: E402

HEAT = (Path(__file__).resolve().parents[2] / "examples" / "heat.cn").read_text()

BLUR9 = """graph blur9(u0: image<f32>, n: i32) -> image<f32> {
    return repeat n (u = u0) {
        yield (u[x-1, y-1] + u[x, y-1] + u[x+1, y-1] + u[x-1, y] + u + u[x+1, y]
               + u[x-1, y+1] + u[x, y+1] + u[x+1, y+1]) / 9.0
    }
}"""

RADIUS2 = """graph wide(u0: image<f32>, n: i32) -> image<f32> {
    return repeat n (u = u0) {
        yield 0.6 * u + 0.1 * (u[x-2, y] + u[x+2, y] + u[x, y-2] + u[x, y+1])
    }
}"""

# the body also reads a loop-invariant image (the source term f)
RELAX = """graph relax(u0: image<f32>, f: image<f32>, n: i32) -> image<f32> {
    return repeat n (u = u0) {
        yield u + 0.1 * (f - u) + 0.2 * (u[x-1, y] + u[x+1, y] + u[x, y-1] + u[x, y+1] - 4.0 * u)
    }
}"""

STATIC = """graph ten(u0: image<f32>) -> image<f32> {
    return repeat 10 (u = u0) { yield 0.5 * u + 0.25 * (u[x-1, y] + u[x, y+1]) }
}"""

RGBA = """graph soften(u0: image<vec4>, n: i32) -> image<vec4> {
    return repeat n (u = u0) { yield 0.5 * u + 0.125 * (u[x-1, y] + u[x+1, y] + u[x, y-1] + u[x, y+1]) }
}"""

# two zones, the second holding a third: each stencil zone is blocked on its own
ZONES = """graph twice(u0: image<f32>, n: i32, m: i32) -> (a: image<f32>, b: image<f32>) {
    let a = repeat n (u = u0) { yield 0.5 * u + 0.25 * (u[x-1, y] + u[x, y+1]) }
    let b = repeat m (v = a) {
        let w = repeat 2 (s = v) { yield s + 0.1 * (s[x+1, y] - s) }
        yield w * 0.9 + 0.1 * v[x, y-1]
    }
    return a, b
}"""

FORCED = "k=3 tile=8"
SIZES = [(1, 9), (9, 1), (2, 3), (5, 5), (8, 8), (13, 21), (37, 45)]
STEPS = [0, 1, 2, 3, 4, 7]  # 0, 1, k-1, k, k+1, and several blocks plus a remainder


def compile_with(src: str, options: str, monkeypatch: pytest.MonkeyPatch, target: str = "llvm") -> ccomp.api.Program:
    """``src`` compiled with ``temporal-block{options}`` (the build cache keys not on it)."""
    monkeypatch.setenv("CCOMP_TEMPORAL_BLOCK", options)
    return ccomp.compile(src, target=target, cache=False)


def run(prog: ccomp.api.Program, *args) -> np.ndarray:
    return np.array(prog(*args))


def blocked(prog: ccomp.api.Program) -> bool:
    return any("_tb" in name for name, _ in prog.launches)


@pytest.fixture(scope="module")
def heat_pair() -> tuple[ccomp.api.Program, ccomp.api.Program]:
    with pytest.MonkeyPatch.context() as mp:
        return compile_with(HEAT, "k=0", mp), compile_with(HEAT, FORCED, mp)


@pytest.mark.parametrize("shape", SIZES)
def test_heat_bit_identical(heat_pair, shape) -> None:
    plain, fused = heat_pair
    u = np.random.default_rng(sum(shape)).random(shape, dtype=np.float32)
    for n in STEPS:
        want = run(plain, u, np.int32(n))
        got = run(fused, u, np.int32(n))
        assert blocked(fused) == (n >= 3)
        assert not blocked(plain)
        np.testing.assert_array_equal(got, want, err_msg=f"{shape}, {n} steps")
    assert_matches(got, reference(HEAT, "heat", [u, np.int32(STEPS[-1])])[0])


def test_heat_200_steps_run_time_count(heat_pair) -> None:
    plain, fused = heat_pair
    u = np.random.default_rng(7).random((50, 67), dtype=np.float32)
    for n in (200, 201):  # the count is a run-time argument: 66 or 67 blocks, then 2 single steps
        np.testing.assert_array_equal(run(fused, u, np.int32(n)), run(plain, u, np.int32(n)))
    assert sum("_tb" in name for name, _ in fused.launches) == 67
    assert sum(name == "heat_0" for name, _ in fused.launches) == 0
    assert_matches(run(fused, u, np.int32(200)), reference(HEAT, "heat", [u, np.int32(200)])[0], atol=1e-4)


@pytest.mark.parametrize("options", ["k=2 tile=4", "k=5 tile=16", "k=4 tile=256", "k=3 tile=4 tile-x=16",
                                     "k=4 tile=16 tile-x=5"])
def test_heat_other_blockings(options, monkeypatch) -> None:
    plain, fused = compile_with(HEAT, "k=0", monkeypatch), compile_with(HEAT, options, monkeypatch)
    u = np.random.default_rng(3).random((31, 70), dtype=np.float32)
    for n in (5, 11):
        np.testing.assert_array_equal(run(fused, u, np.int32(n)), run(plain, u, np.int32(n)))
        assert blocked(fused)


@pytest.mark.parametrize("src,name", [(BLUR9, "blur9"), (RADIUS2, "wide"), (RGBA, "soften")])
def test_other_stencils_bit_identical(src, name, monkeypatch) -> None:
    plain, fused = compile_with(src, "k=0", monkeypatch), compile_with(src, FORCED, monkeypatch)
    rng = np.random.default_rng(11)
    for shape in [(1, 12), (4, 3), (19, 26)]:
        shape = shape + ((4,) if name == "soften" else ())
        u = rng.random(shape, dtype=np.float32)
        for n in (1, 3, 8):
            got = run(fused, u, np.int32(n))
            np.testing.assert_array_equal(got, run(plain, u, np.int32(n)), err_msg=f"{name} {shape} {n}")
            assert blocked(fused) == (n >= 3)
        assert_matches(got, reference(src, name, [u, np.int32(8)])[0])


def test_loop_invariant_input_and_static_count(monkeypatch) -> None:
    rng = np.random.default_rng(5)
    u, f = rng.random((23, 17), dtype=np.float32), rng.random((23, 17), dtype=np.float32)
    plain, fused = compile_with(RELAX, "k=0", monkeypatch), compile_with(RELAX, FORCED, monkeypatch)
    for n in (0, 4, 9):
        got = run(fused, u, f, np.int32(n))
        np.testing.assert_array_equal(got, run(plain, u, f, np.int32(n)))
    assert blocked(fused)
    assert_matches(got, reference(RELAX, "relax", [u, f, np.int32(9)])[0])
    plain, fused = compile_with(STATIC, "k=0", monkeypatch), compile_with(STATIC, "k=4 tile=8", monkeypatch)
    np.testing.assert_array_equal(run(fused, u), run(plain, u))
    assert [name for name, _ in fused.launches] == ["ten_0_tb4"] * 2 + ["ten_0"] * 2


def test_several_and_nested_zones(monkeypatch) -> None:
    plain, fused = compile_with(ZONES, "k=0", monkeypatch), compile_with(ZONES, "k=2 tile=4 tile-x=8", monkeypatch)
    u = np.random.default_rng(6).random((13, 19), dtype=np.float32)
    got = [np.array(o) for o in fused(u, np.int32(7), np.int32(4))]
    assert {"twice_0_tb2", "twice_1_tb2"} <= {name for name, _ in fused.launches}
    for g, p, w in zip(got, plain(u, np.int32(7), np.int32(4)), reference(ZONES, "twice", [u, np.int32(7), np.int32(4)])):
        np.testing.assert_array_equal(g, np.array(p))
        assert_matches(g, w)


def test_default_blocks_only_large_state_on_llvm(monkeypatch) -> None:
    """The default (cost rule) blocks heat when the grid does not fit in cache, and
    the result is still bit-identical; small grids keep one step per launch."""
    monkeypatch.delenv("CCOMP_TEMPORAL_BLOCK", raising=False)
    auto = ccomp.compile(HEAT, target="llvm", cache=False)
    plain = compile_with(HEAT, "k=0", monkeypatch)
    small = np.random.default_rng(1).random((40, 40), dtype=np.float32)
    run(auto, small, np.int32(20))
    assert not blocked(auto)
    big = np.random.default_rng(2).random((600, 520), dtype=np.float32)
    np.testing.assert_array_equal(run(auto, big, np.int32(19)), run(plain, big, np.int32(19)))
    assert blocked(auto)


def test_input_is_not_written_and_negative_counts(heat_pair) -> None:
    plain, fused = heat_pair
    u = np.random.default_rng(9).random((12, 12), dtype=np.float32)
    keep = u.copy()
    run(fused, u, np.int32(6))
    np.testing.assert_array_equal(u, keep)
    for n in (-1, -3, -4):  # a count below zero runs no step, blocked or not
        np.testing.assert_array_equal(run(fused, u, np.int32(n)), u)
        assert fused.launches == []


def test_no_scratch_without_blocks(monkeypatch) -> None:
    """Below the size gate no block runs, and no scratch is allocated: the pool holds
    the two ping-pong buffers only."""
    monkeypatch.delenv("CCOMP_TEMPORAL_BLOCK", raising=False)
    auto = ccomp.compile(HEAT, target="llvm", cache=False)
    u = np.random.default_rng(8).random((64, 64), dtype=np.float32)
    run(auto, u, np.int32(30))
    assert not blocked(auto) and auto.pool.misses <= 2


@pytest.mark.parametrize("target", ["opencl", "glsl"])
def test_forced_on_other_targets(target, monkeypatch) -> None:
    fused = compile_with(HEAT, FORCED, monkeypatch, target)
    u = np.random.default_rng(4).random((21, 30), dtype=np.float32)
    for n in (3, 7):
        assert_matches(run(fused, u, np.int32(n)), reference(HEAT, "heat", [u, np.int32(n)])[0])
        assert blocked(fused)
    monkeypatch.delenv("CCOMP_TEMPORAL_BLOCK")
    default = ccomp.compile(HEAT, target=target, cache=False)
    run(default, u, np.int32(7))
    assert not blocked(default)
