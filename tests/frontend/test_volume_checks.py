"""Located diagnostics for volumes (``volume<T>``): each misuse — mixing a volume with
an image, ``z`` outside a volume, the wrong number of indices, a node function not yet
lowered in 3-D, a result or state of the other kind — is a ``CompileError`` at the
offending expression, never a traceback or an internal error."""

from __future__ import annotations

import pytest

from ccomp.diagnostics import CompileError, Source
from ccomp.frontend import lower_to_l1
from frontendutil import compile_error
from ccomp.frontend.types import Ty

HEAD = "graph g(v: volume<f32>, i: image<f32>, n: i32) -> volume<f32> {\n"
MIX = "cannot combine a volume (3-D) with an image (2-D) element by element"


def error_of(body: str, head: str = HEAD) -> str:
    return str(compile_error(head + body + "\n}\n", "v.cn"))


@pytest.mark.parametrize("body,where,message", [
    ("  return v + i", "2:12", MIX),
    ("  return v * i[x, y]", "2:12", MIX),
    ("  return v[x, y]", "2:10", "a volume is indexed with [x, y, z], got 2 indices"),
    ("  return v + i[x, y, z]", "2:14", "an image is indexed with [x, y], got 3 indices"),
    ("  return blur(v, 5)", "2:18", "blur() radius of a volume must be at most 4 (a (2r+1)^3 window is unrolled)"),
    ("  return sample(v, uv)", "2:20", "sample() of a volume takes vec3 coordinates, got vec2"),
    ("  return v + sample(i, vec3(0.5, 0.5, 0.5))", "2:24", "sample() of an image takes vec2 coordinates, got vec3"),
    ("  return resize(v, size(i))", "2:20", "resize() of a volume takes the new size as size(...) arithmetic "
                                            "(an ivec3), got ivec2"),
    ("  return v + i * uvw.x", "2:16", MIX),
    ("  return i", "2:10", "expected volume<f32>, got image<f32>"),
    ("  return repeat n (s = v) { yield i }", "2:35", "state 's' is volume<f32>, but this is image<f32>"),
])
def test_misuse_is_located(body, where, message):
    text = error_of(body)
    assert f"v.cn:{where}: error:" in text and message in text, text


@pytest.mark.parametrize("head,body,where,message", [
    ("graph g(i: image<f32>) -> image<f32> {\n", "  return i + f32(z)", "2:12", MIX),
    ("graph g(v: volume<f32>) -> image<f32> {\n", "  return v * 2.0", "2:12",
     "expected image<f32>, got volume field of f32"),
    ("graph g(i: image<f32>) -> volume<f32> {\n", "  return f32(x)", "2:10",
     "expected volume<f32>, got an image (this field takes the size of the graph's first image input)"),
    ("graph g(v: volume<f32, 4x4>) -> f32 {\n", "  return sum(v)", "1:24",
     "a volume size is WIDTHxHEIGHTxDEPTH, each at least 1, as in volume<f32, 64x64x64>"),
    ("graph g(v: volume<f32x>) -> f32 {\n", "  return sum(v)", "1:19", "unknown volume element type 'f32x'"),
])
def test_declarations_and_results(head, body, where, message):
    text = error_of(body, head)
    assert f"v.cn:{where}: error:" in text and message in text, text


def test_size_of_a_volume_is_an_ivec3():
    """``size(v)`` has three lanes, so ``.z`` is the depth; an image's has two."""
    module = lower_to_l1(Source("graph g(v: volume<f32>) -> i32 {\n  return size(v).z\n}\n", "v.cn"))
    assert "vector<3xi32>" in str(module)
    text = error_of("  return size(i).z", "graph g(i: image<f32>) -> i32 {\n")
    assert "ivec2 has no component '.z'" in text, text


def test_volume_types_show_as_written():
    assert Ty("f32", "image", dims=3).show() == "volume<f32>"
    assert Ty("vec4", "field", dims=3).show() == "volume field of vec4"
    assert Ty("f32", "image", dims=2).show() == "image<f32>"


def test_sample_of_a_volume_in_a_2d_graph_is_a_2d_field():
    """``sample(v, vec3(uv, d))`` lives on the coordinates' grid: a 2-D graph may read a volume."""
    module = lower_to_l1(Source("graph g(v: volume<f32>, a: image<f32>) -> image<f32> {\n"
                                "  return sample(v, vec3(uv, 0.3)) + a\n}\n", "v.cn"))
    assert "graph.sample" in str(module) and "!graph.volume<f32> -> f32" in str(module)
