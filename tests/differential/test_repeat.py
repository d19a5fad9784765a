"""Repeat zones and resize on every target, against the NumPy reference evaluator.

What is checked beyond the values: the grids the host dispatched (state that changes
size must be launched at its new size, nested zones must run inner x outer bodies),
that a zero-iteration zone hands back a copy rather than the caller's array, that
ping-pong state ends in the right buffer for odd and even counts, and that repeated
calls neither grow the buffer pool nor the process. Images are small except where a
size is the point of the test.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from looputil import TARGETS, assert_matches, check, fresh, grids, program, reference, rss_bytes  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HEAT = (EXAMPLES / "heat.cn").read_text()
PYRAMID = (EXAMPLES / "pyramid.cn").read_text()

ADD = """graph add(src: image<f32>, n: i32) -> image<f32> {
    let c = capture(src)
    return repeat n (s = c) { yield s + 0.01 }
}"""

SIZES = """graph sizes(src: image<f32>) -> (big: image<f32>, small: image<f32>) {
    let c = capture(src * 2.0)
    return resize(c, size(c) * 2), resize(c, size(c) / 2)
}"""

NESTED = """graph nested(src: image<f32>, k: i32, m: i32) -> (img: image<f32>, count: i32) {
    let r = repeat k (a = src, c = 0) {
        let b = repeat m (d = a, e = c) { yield d + 1.0, e + 1 }
        yield b.d, b.e
    }
    return r.a, r.c
}"""

NESTED_3X2 = """graph nested32(src: image<f32>) -> (img: image<f32>, count: i32) {
    let r = repeat 3 (a = src, c = 0) {
        let i = iteration
        let b = repeat 2 (d = a, e = c) { yield d * 0.5 + f32(i), e + 1 }
        yield b.d, b.e
    }
    return r.a, r.c
}"""

FLOAT = "graph halve(n: i32) -> f32 {\n    return repeat n (s = 1.0) { yield s * 0.5 + 1.0 }\n}"
INT = "graph count(n: i32) -> i32 {\n    return repeat n (s = 1) { yield s * 3 + iteration }\n}"

VEC4 = """graph rotate(src: image<f32>, n: i32) -> (img: image<f32>, vx: f32, vw: f32) {
    let v = repeat n (s = vec4(1.0, 2.0, 3.0, 4.0)) { yield s.yzwx + vec4(0.5) * f32(iteration) }
    return src * v.x + v.y, v.x, v.w
}"""

MIXED = """graph mixed(src: image<f32>, n: i32) -> (img: image<f32>, t: f32, k: i32, vx: f32) {
    let r = repeat n (u = src, t = 0.0, k = 0, v = vec2(1.0, 0.0)) {
        yield u[x + 1, y] * 0.5 + t, t + 0.25, k + iteration, v.yx + vec2(f32(k), 0.0)
    }
    return r.u, r.t, r.k, r.v.x
}"""

ITERATION = """graph ramp(src: image<f32>, n: i32) -> image<f32> {
    return repeat n (s = src) { yield s + f32(iteration) * 0.1 + f32(x) * 0.01 }
}"""

# loop-pingpong regressions: a state that yields another state's argument, the same
# buffer yielded as two states, a state handed on unchanged; (host runner) a value from
# outside the zone yielded as state
SWAP = """graph swap(src: image<f32>, n: i32) -> (a: image<f32>, b: image<f32>) {
    let r = repeat n (a = src, b = src * 2.0) { yield b + 1.0, a }
    return r.a, r.b
}"""
TWICE = """graph twice(src: image<f32>, n: i32) -> (a: image<f32>, b: image<f32>) {
    let r = repeat n (a = src, b = src) {
        let t = capture(a * 0.5 + 1.0)
        yield t, t
    }
    return r.a, r.b
}"""
LAG = """graph lag(src: image<f32>, n: i32) -> (a: image<f32>, b: image<f32>, c: image<f32>) {
    let r = repeat n (a = src, b = src, c = src) { yield a + 1.0, a, b }
    return r.a, r.b, r.c
}"""
OUTER = """graph outer(src: image<f32>, n: i32) -> (img: image<f32>, s: f32) {
    let m = mean(src)
    let r = repeat n (a = src * 2.0, s = 0.0) { yield src, m }
    return r.a + src, r.s + m
}"""
SAME = "graph same(src: image<f32>, n: i32) -> image<f32> {\n    return repeat n (a = src) { yield a }\n}"


def rand(*shape: int) -> np.ndarray:
    return np.random.default_rng(sum(shape)).random(shape, dtype=np.float32)


@pytest.mark.parametrize("target", TARGETS)
def test_hundred_small_steps_add_one(target):
    src = rand(512, 512)
    prog = check(ADD, target, [src, np.int32(100)], atol=1e-4)
    np.testing.assert_allclose(prog(src, 100), src + 1.0, rtol=0, atol=1e-4)
    launched = grids(prog)  # one launch per iteration (and the capture, unless it is elided)
    assert set(launched) == {(512, 512)} and len(launched) in (100, 101)


@pytest.mark.parametrize("target", TARGETS)
def test_resize_dispatches_at_the_new_sizes(target):
    prog = check(SIZES, target, [rand(512, 512)])
    assert sorted(grids(prog)) == [(256, 256), (512, 512), (1024, 1024)]
    prog = check(SIZES, target, [rand(16, 24)])  # grids are (width, height)
    assert sorted(grids(prog)) == [(12, 8), (24, 16), (48, 32)]


@pytest.mark.parametrize("target", TARGETS)
def test_resize_in_a_loop_halves_the_grid_each_iteration(target):
    prog = check(PYRAMID, target, [rand(48, 64), np.int32(8)])
    want, (w, h) = [], (64, 48)
    for _ in range(8):  # blur at the level's size, then resample to half (at least 1)
        want.append((w, h))
        w, h = max(w // 2, 1), max(h // 2, 1)
        want.append((w, h))
    assert grids(prog) == want


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("k, m", [(3, 2), (2, 3), (0, 2), (3, 0), (1, 1)])
def test_nested_zones_run_inner_times_outer(target, k, m):
    src = rand(5, 7)
    prog = check(NESTED, target, [src, np.int32(k), np.int32(m)])
    img, count = prog(src, k, m)
    assert int(count) == k * m
    np.testing.assert_allclose(img, src + k * m, atol=1e-5)
    assert grids(prog) == [(7, 5)] * (k * m)


@pytest.mark.parametrize("target", TARGETS)
def test_literal_nested_three_by_two(target):
    prog = check(NESTED_3X2, target, [rand(6, 4)])
    assert int(prog(rand(6, 4)).count) == 6
    assert grids(prog) == [(4, 6)] * 6


@pytest.mark.parametrize("target", TARGETS)
def test_zero_iterations_return_a_copy_of_the_initial_state(target):
    for src_text in (HEAT, SAME):
        u = rand(9, 13)
        keep = u.copy()
        prog = check(src_text, target, [u, np.int32(0)])
        out = prog(u, 0)
        assert out is not u and not np.shares_memory(out, u)
        np.testing.assert_array_equal(out, keep)
        out += 1.0  # the caller owns the result: writing it leaves the input alone
        np.testing.assert_array_equal(u, keep)
        assert grids(prog) == []
    check(ADD, target, [rand(9, 13), np.int32(0)])
    check(ADD, target, [rand(9, 13), np.int32(-3)])  # a negative count runs nothing either


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 10])
def test_pingpong_state_ends_in_the_right_buffer(target, n):
    u = rand(11, 6)
    keep = u.copy()
    prog = check(HEAT, target, [u, np.int32(n)])
    np.testing.assert_array_equal(u, keep)  # the first iteration reads, never writes, the input
    assert grids(prog) == [(6, 11)] * n


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("n", [0, 1, 6])
def test_scalar_and_vector_state(target, n):
    for src_text, args in ((FLOAT, []), (INT, []), (VEC4, [rand(5, 3)]), (MIXED, [rand(6, 9)])):
        check(src_text, target, args + [np.int32(n)])
    assert int(program(INT, target)(n)) == int(reference(INT, "count", [np.int32(n)])[0])
    assert grids(program(FLOAT, target)) == []  # scalar state never leaves the host


@pytest.mark.parametrize("target", TARGETS)
def test_iteration_index_in_the_body(target):
    prog = check(ITERATION, target, [rand(6, 9), np.int32(4)])
    want = rand(6, 9) + np.float32(0.1) * 6 + np.arange(9, dtype=np.float32) * np.float32(0.01) * 4
    np.testing.assert_allclose(prog(rand(6, 9), 4), want, atol=1e-5)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("src_text", [SWAP, TWICE, LAG, SAME, OUTER], ids=["swap", "twice", "lag", "same", "outer"])
def test_state_handed_between_states(target, src_text):
    for n in (0, 1, 2, 5):
        check(src_text, target, [rand(5, 7), np.int32(n)])


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (7, 1), (9, 13), (32, 32), (40, 17)])
def test_heat_example(target, shape):
    for n in (0, 1, 5, 8):
        check(HEAT, target, [rand(*shape), np.int32(n)])
    check(HEAT, target, [rand(*shape), np.int32(200)], atol=1e-4)  # the default count


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (7, 1), (9, 13), (32, 32), (40, 17)])
def test_pyramid_example(target, shape):
    for n in (0, 1, 3, 7):
        check(PYRAMID, target, [rand(*shape), np.int32(n)])
    want = reference(PYRAMID, "pyramid", [rand(*shape), np.int32(4)])[0]
    assert_matches(program(PYRAMID, target)(rand(*shape)), want)  # the default count


@pytest.mark.parametrize("target", TARGETS)
def test_repeated_calls_do_not_grow_memory(target):
    """One uploaded input per call must not pile up in the pool (it did on opencl and
    glsl: live_bytes went negative while the free list grew by a buffer per call, the
    sum hiding it). 256x256 makes a leak of one buffer per call 25 MiB over 100 calls."""
    prog = fresh(HEAT, target)
    u = rand(256, 256)
    pool = prog.pool
    for _ in range(3):  # warm-up: first-call allocations of the driver and the pool
        out = prog(u, 5)
    pooled, free, rss = pool.live_bytes + pool.free_bytes, len(pool.free), rss_bytes()
    for _ in range(100):
        out = prog(u, 5)
    assert pool.live_bytes + pool.free_bytes == pooled
    assert len(pool.free) == free and pool.live_bytes >= 0
    assert rss_bytes() - rss < 8 << 20
    assert_matches(out, reference(HEAT, "heat", [u, np.int32(5)])[0])


@pytest.mark.parametrize("target", TARGETS)
def test_long_heat_run_uses_two_buffers(target):
    """Ping-pong: 200 iterations in two buffers of the image size, plus the input where
    the device copies it into a buffer of its own."""
    prog = fresh(HEAT, target)
    u = rand(48, 64)
    check_out = prog(u, 200)
    size = u.nbytes
    own_input = size if prog.device.upload_copies else 0
    assert prog.pool.peak_bytes <= own_input + 2 * size
    assert prog.pool.misses <= 2
    assert len(prog.launches) == 200
    assert_matches(check_out, reference(HEAT, "heat", [u, np.int32(200)])[0], atol=1e-4)


def test_glsl_programs_side_by_side():
    u = rand(11, 6)
    first = fresh(HEAT, "glsl")
    want = reference(HEAT, "heat", [u, np.int32(1)])[0]
    fresh(ADD, "glsl")
    assert_matches(first(u, 1), want)
