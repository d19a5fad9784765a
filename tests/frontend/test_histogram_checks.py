"""Located diagnostics for ``histogram()`` and a graph's tensor result: each misuse is a
``CompileError`` at the offending argument or expression, never a traceback."""

from __future__ import annotations

import pytest

from ccomp.diagnostics import CompileError
from frontendutil import compile_error

HEAD = "graph g(src: image<f32>, v: image<vec4>, n: i32, lo: f32, hi: f32) -> tensor<8xi32> {\n"


def error_of(body: str, head: str = HEAD) -> str:
    return str(compile_error(head + body + "\n}\n", "h.cn"))


@pytest.mark.parametrize("body,where,message", [
    ("  return histogram(src, 0, lo, hi)", "2:25", "bins must be a positive integer literal"),
    ("  return histogram(src, -3, lo, hi)", "2:25", "bins must be a positive integer literal"),
    ("  return histogram(src, 2.5, lo, hi)", "2:25", "bins must be a positive integer literal"),
    ("  return histogram(src, n, lo, hi)", "2:25", "bins must be a positive integer literal"),
    ("  return histogram(src, 2000000, lo, hi)", "2:25", "bins must be at most 1048576"),
    ("  return histogram(v, 8, lo, hi)", "2:20", "counts f32 values, got image<vec4>; pick one component"),
    ("  return histogram(src, 8, src, hi)", "2:28", "lo must be an f32 value (one for the whole image), "
                                                    "got image<f32>"),
    ("  return histogram(src, 8, lo, true)", "2:32", "hi must be an f32 value"),
    ("  return histogram(lo, 8, lo, hi)", "2:10", "histogram() counts the values of an image or field, got f32"),
    ("  return histogram(src, 8, lo)", "2:10", "histogram() takes 4 arguments, got 3"),
    ("  return histogram(src, 7, lo, hi)", "2:10", "expected tensor<8xi32>, got tensor<7xi32>"),
    ("  let h = histogram(src, 8, lo, hi)\n  return h + 1", "3:10", "a histogram (tensor<8xi32>) can only be "
                                                                  "returned from the graph"),
    ("  let h = histogram(src, 8, lo, hi)\n  return histogram(h, 8, lo, hi)", "3:20", "can only be returned"),
    ("  return src", "2:10", "expected tensor<8xi32>, got image<f32>"),
])
def test_misuse_is_located(body, where, message):
    text = error_of(body)
    assert f"h.cn:{where}: error:" in text and message in text, text


def test_histogram_is_not_an_image_result():
    text = error_of("  return histogram(src, 8, lo, hi)", "graph g(src: image<f32>, lo: f32, hi: f32) -> image<i32> {\n")
    assert "h.cn:2:10: error: expected image<i32>, got tensor<8xi32>" in text, text


@pytest.mark.parametrize("result", ["tensor<8xf32>", "tensor<?xi32>", "tensor<2x4xi32>"])
def test_graph_tensor_results_are_histograms_only(result):
    text = error_of("  return histogram(src, 8, lo, hi)",
                    f"graph g(src: image<f32>, lo: f32, hi: f32) -> {result} {{\n")
    assert "a graph returns a tensor only as a histogram: tensor<Nxi32>" in text, text


def test_a_histogram_is_no_zone_state():
    text = error_of("  let h = histogram(src, 8, lo, hi)\n  let z = repeat n (s = h) { yield s }\n  return h")
    assert "h.cn:3:22: error: a histogram (tensor<8xi32>) cannot be the state" in text or "can only be returned" in text, text
