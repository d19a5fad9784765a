"""The Python API's edges: several graphs in a file, inputs out of range, threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import ccomp
from ccomp.diagnostics import CompileError

A = np.random.default_rng(3).random((9, 13), dtype=np.float32)


def test_graph_named_like_another_graphs_kernel():
    """Kernels are named <graph>_<n>; a graph called g_0 must not collide with them."""
    text = ("graph g(a: image<f32>) -> image<f32> { return a * 2.0 }\n"
            "graph g_0(a: image<f32>) -> image<f32> { return a + 1.0 }\n")
    np.testing.assert_array_equal(ccomp.compile(text, function="g", cache=False)(A), A * 2)
    np.testing.assert_array_equal(ccomp.compile(text, function="g_0", cache=False)(A), A + 1)


def test_input_errors_point_at_the_chosen_graph():
    text = ("graph f(a: image<f32>, k: f32 = 1.0) -> image<f32> { return a * k }\n"
            "\n"
            "graph g(b: image<f32>, a: image<f32>) -> image<f32> { return a + b }\n")
    prog = ccomp.compile(text, function="f", cache=False)
    with pytest.raises(CompileError, match=r"^<string>:1:9: error: input 'a' must have dtype float32"):
        prog(A.astype(np.float64))


@pytest.mark.parametrize("value", [2**31, -2**31 - 1, 1e20, np.int64(2**40)])
def test_integer_inputs_must_fit(value):
    prog = ccomp.compile("graph g(a: image<f32>, k: i32 = 2) -> image<f32> { return a * f32(k) }", cache=False)
    with pytest.raises(CompileError, match="input 'k' must fit in i32"):
        prog(A, value)


@pytest.mark.parametrize("target", ["llvm", "opencl"])
def test_calls_from_several_threads_take_turns(target):
    """One program, one device and one buffer pool: concurrent calls are serialised."""
    prog = ccomp.compile("graph g(a: image<f32>) -> (o: image<f32>, s: f32) {\n"
                         "    let c = capture(a * 2.0)\n    return c[x + 1, y], sum(c)\n}\n",
                         target=target, cache=False)
    images = [np.full((31, 17), i, dtype=np.float32) for i in range(4)]
    errors: list[BaseException] = []

    def work(img):
        try:
            for _ in range(25):
                o, s = prog(img)
                assert np.all(o == img[0, 0] * 2) and s == pytest.approx(img.size * img[0, 0] * 2)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(img,)) for img in images]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
