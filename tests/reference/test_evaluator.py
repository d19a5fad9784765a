"""The reference evaluator's graph semantics, each checked against plain NumPy or loops.

The expected values here are computed independently of ``ccomp.reference``: edge
padding instead of clamped indices, per-pixel Python loops for sample and blur.
"""

from __future__ import annotations

import numpy as np
import pytest

from ccomp.dialects.context import parse_module
from ccomp.reference import EvaluationError, evaluate

RNG = np.random.default_rng(7)
IMG = RNG.standard_normal((5, 7)).astype(np.float32)  # H=5, W=7: swapped axes would show
IMG4 = RNG.standard_normal((5, 7, 4)).astype(np.float32)
F, V4 = "!graph.image<f32>", "!graph.image<vector<4xf32>>"


def run(ir: str, *args: object, function: str = "f") -> list:
    return evaluate(parse_module(ir), function, list(args))


def map_ir(body: str, img_t: str = F, elem: str = "f32", out: str = "f32", extra: str = "") -> str:
    """One map over image %src (element %v), captured at the size of %src."""
    return f"""
func.func @f(%src: {img_t}{extra}) -> !graph.image<{out}> {{
  %sz = graph.size %src : {img_t}
  %m = graph.map(%src) : ({img_t}) -> !graph.field<{out}> {{
  ^bb0(%v: {elem}):
    %x = graph.coord 0 : i32
    %y = graph.coord 1 : i32
{body}
    graph.yield %r : {out}
  }}
  %o = graph.capture %m, %sz : !graph.field<{out}> -> !graph.image<{out}>
  func.return %o : !graph.image<{out}>
}}"""


def test_identity_map_returns_a_copy_of_the_image() -> None:
    (out,) = run(map_ir("    %r = arith.addf %v, %v : f32"), IMG)
    np.testing.assert_array_equal(out, IMG + IMG)
    assert out.dtype == np.float32 and out.shape == (5, 7)
    (same,) = run(f"func.func @f(%a: {F}) -> {F} {{\n func.return %a : {F}\n}}", IMG)
    assert same is not IMG and np.array_equal(same, IMG)


def test_coord_is_column_then_row() -> None:
    (xs,) = run(map_ir("    %r = arith.addi %x, %x : i32", out="i32"), IMG)
    (ys,) = run(map_ir("    %r = arith.muli %y, %y : i32", out="i32"), IMG)
    cols, rows = np.meshgrid(np.arange(7), np.arange(5))
    np.testing.assert_array_equal(xs, 2 * cols)
    np.testing.assert_array_equal(ys, rows * rows)
    assert xs.dtype == np.int32


@pytest.mark.parametrize(("dx", "dy"), [(-1, -1), (1, 1), (-3, 2), (8, -9), (0, 0)])
def test_load_clamps_neighbour_reads(dx: int, dy: int) -> None:
    body = f"""    %cx = arith.constant {dx} : i32
    %cy = arith.constant {dy} : i32
    %xx = arith.addi %x, %cx : i32
    %yy = arith.addi %y, %cy : i32
    %r = graph.load %src[%xx, %yy] : {F} -> f32"""
    (out,) = run(map_ir(body), IMG)
    pad = 10
    padded = np.pad(IMG, pad, mode="edge")
    expected = padded[pad + dy: pad + dy + 5, pad + dx: pad + dx + 7]
    np.testing.assert_array_equal(out, expected)
    if (dx, dy) == (-1, -1):  # the corners repeat the edge texel
        assert out[0, 0] == IMG[0, 0] and out[0, 1] == IMG[0, 0] and out[1, 0] == IMG[0, 0]
    if (dx, dy) == (1, 1):
        assert out[4, 6] == IMG[4, 6] and out[3, 6] == IMG[4, 6] and out[4, 5] == IMG[4, 6]


def uv_body(img_t: str, elem: str, ox: float, oy: float, w: int, h: int) -> str:
    """uv = ((x + ox) / w, (y + oy) / h), then sample %src there."""
    return f"""    %fx = arith.sitofp %x : i32 to f32
    %fy = arith.sitofp %y : i32 to f32
    %ox = arith.constant {ox:e} : f32
    %oy = arith.constant {oy:e} : f32
    %w = arith.constant {float(w):e} : f32
    %h = arith.constant {float(h):e} : f32
    %ax = arith.addf %fx, %ox : f32
    %ay = arith.addf %fy, %oy : f32
    %u = arith.divf %ax, %w : f32
    %vv = arith.divf %ay, %h : f32
    %z = arith.constant dense<0.0> : vector<2xf32>
    %uv0 = vector.insert %u, %z[0] : f32 into vector<2xf32>
    %uv = vector.insert %vv, %uv0[1] : f32 into vector<2xf32>
    %r = graph.sample %src, %uv : {img_t} -> {elem}"""


def sample_loop(img: np.ndarray, u: np.float32, v: np.float32) -> np.ndarray:
    """One bilinear clamp-to-edge sample, written out per texel in float32."""
    h, w = img.shape[:2]
    f32, one = np.float32, np.float32(1)
    px, py = f32(u * f32(w) - f32(0.5)), f32(v * f32(h) - f32(0.5))
    x0, y0 = int(np.floor(px)), int(np.floor(py))
    fx, fy = f32(px - f32(x0)), f32(py - f32(y0))

    def texel(i: int, j: int) -> np.ndarray:
        return img[min(max(j, 0), h - 1), min(max(i, 0), w - 1)]

    top = texel(x0, y0) * (one - fx) + texel(x0 + 1, y0) * fx
    bottom = texel(x0, y0 + 1) * (one - fx) + texel(x0 + 1, y0 + 1) * fx
    return top * (one - fy) + bottom * fy


@pytest.mark.parametrize(("img_t", "elem"), [(F, "f32"), (V4, "vector<4xf32>")])
def test_sample_at_texel_centres_returns_texels_exactly(img_t: str, elem: str) -> None:
    img = RNG.standard_normal((4, 8, 4) if img_t == V4 else (4, 8)).astype(np.float32)
    (out,) = run(map_ir(uv_body(img_t, elem, 0.5, 0.5, 8, 4), img_t, elem, elem), img)
    np.testing.assert_array_equal(out, img)


@pytest.mark.parametrize(("ox", "oy"), [(0.75, 0.25), (0.1, 0.9), (-1.3, 0.5), (2.6, -2.2), (0.5, 1.0)])
@pytest.mark.parametrize(("img_t", "elem"), [(F, "f32"), (V4, "vector<4xf32>")])
def test_sample_between_texels_and_outside(img_t: str, elem: str, ox: float, oy: float) -> None:
    img = IMG4 if img_t == V4 else IMG
    (out,) = run(map_ir(uv_body(img_t, elem, ox, oy, 7, 5), img_t, elem, elem), img)
    f32 = np.float32
    for y in range(5):
        for x in range(7):
            u = f32(f32(f32(x) + f32(ox)) / f32(7))
            v = f32(f32(f32(y) + f32(oy)) / f32(5))
            np.testing.assert_array_equal(out[y, x], sample_loop(img, u, v), err_msg=f"at x={x} y={y}")


def blur_loop(img: np.ndarray, r: int) -> np.ndarray:
    """The box blur as a per-pixel loop: float32 sum, dy outer, dx inner, times 1/n."""
    h, w = img.shape[:2]
    out = np.zeros_like(img)
    scale = np.float32(1.0 / (2 * r + 1) ** 2)
    for y in range(h):
        for x in range(w):
            acc = np.zeros(img.shape[2:], np.float32)
            for dy in range(-r, r + 1):
                for dx in range(-r, r + 1):
                    acc = acc + img[min(max(y + dy, 0), h - 1), min(max(x + dx, 0), w - 1)]
            out[y, x] = acc * scale
    return out


def blur_ir(img_t: str, elem: str, r: int, double_first: bool = False) -> str:
    src = "%src"
    pre = ""
    if double_first:  # blur a field: the map is materialised first, then blurred
        pre = f"""  %d = graph.map(%src) : ({img_t}) -> !graph.field<{elem}> {{
  ^bb0(%v: {elem}):
    %r2 = arith.addf %v, %v : {elem}
    graph.yield %r2 : {elem}
  }}\n"""
        src = "%d"
    src_t = f"!graph.field<{elem}>" if double_first else img_t
    return f"""
func.func @f(%src: {img_t}) -> {img_t} {{
  %sz = graph.size %src : {img_t}
{pre}  %b = graph.blur {src} radius {r} : {src_t} -> !graph.field<{elem}>
  %o = graph.capture %b, %sz : !graph.field<{elem}> -> {img_t}
  func.return %o : {img_t}
}}"""


@pytest.mark.parametrize("r", [0, 1, 2])
def test_blur_matches_loop(r: int) -> None:
    (out,) = run(blur_ir(F, "f32", r), IMG)
    np.testing.assert_array_equal(out, blur_loop(IMG, r))
    if r == 0:
        np.testing.assert_array_equal(out, IMG)
    (out4,) = run(blur_ir(V4, "vector<4xf32>", r), IMG4)
    np.testing.assert_array_equal(out4, blur_loop(IMG4, r))


def test_blur_of_a_field_materialises_it_first() -> None:
    (out,) = run(blur_ir(F, "f32", 2, double_first=True), IMG)
    np.testing.assert_array_equal(out, blur_loop(IMG + IMG, 2))


REDUCE_IR = """
func.func @f(%src: {t}) -> {e} {{
  %sz = graph.size %src : {t}
  %m = graph.map(%src) : ({t}) -> !graph.field<{e}> {{
  ^bb0(%v: {e}):
    graph.yield %v : {e}
  }}
  %s = graph.reduce "{kind}" %m, %sz : !graph.field<{e}> -> {e}
  func.return %s : {e}
}}"""


@pytest.mark.parametrize("kind", ["add", "min", "max", "mean"])
def test_reductions(kind: str) -> None:
    (got,) = run(REDUCE_IR.format(t=F, e="f32", kind=kind), IMG)
    exact = {"add": IMG.astype(np.float64).sum(), "mean": IMG.astype(np.float64).sum() / IMG.size,
             "min": IMG.min(), "max": IMG.max()}[kind]
    assert type(got) is np.float32 and got == np.float32(exact)
    (lanes,) = run(REDUCE_IR.format(t=V4, e="vector<4xf32>", kind=kind), IMG4)
    for lane in range(4):
        plane = IMG4[:, :, lane].astype(np.float64)
        expected = {"add": plane.sum(), "mean": plane.sum() / plane.size, "min": plane.min(), "max": plane.max()}
        assert lanes[lane] == np.float32(expected[kind])
    assert lanes.dtype == np.float32 and lanes.shape == (4,)


def test_integer_reductions_wrap_and_truncate() -> None:
    ints = np.array([[2**31 - 1, 5], [-8, 1]], dtype=np.int32)
    ti = "!graph.image<i32>"
    (total,) = run(REDUCE_IR.format(t=ti, e="i32", kind="add"), ints)
    assert type(total) is np.int32 and total == np.int32(((2**31 - 1 + 5 - 8 + 1 + 2**31) % 2**32) - 2**31)
    small = np.array([[-7, 0], [0, 0]], dtype=np.int32)
    (mean,) = run(REDUCE_IR.format(t=ti, e="i32", kind="mean"), small)
    assert mean == -1  # -7 / 4 = -1.75 truncates toward zero


def test_field_is_evaluated_per_sink_extent() -> None:
    ir = f"""
func.func @f(%src: {F}) -> (!graph.image<i32>, !graph.image<i32>, i32) {{
  %sz = graph.size %src : {F}
  %small = arith.constant dense<[3, 2]> : vector<2xi32>
  %m = graph.map() : () -> !graph.field<i32> {{
    %x = graph.coord 0 : i32
    %y = graph.coord 1 : i32
    %c = arith.constant 10 : i32
    %t = arith.muli %y, %c : i32
    %r = arith.addi %x, %t : i32
    graph.yield %r : i32
  }}
  %a = graph.capture %m, %sz : !graph.field<i32> -> !graph.image<i32>
  %b = graph.capture %m, %small : !graph.field<i32> -> !graph.image<i32>
  %s = graph.reduce "add" %m, %small : !graph.field<i32> -> i32
  func.return %a, %b, %s : !graph.image<i32>, !graph.image<i32>, i32
}}"""
    a, b, s = run(ir, IMG)
    cols, rows = np.meshgrid(np.arange(7), np.arange(5))
    np.testing.assert_array_equal(a, cols + 10 * rows)
    np.testing.assert_array_equal(b, [[0, 1, 2], [10, 11, 12]])
    assert s == 36 and a is not b


def test_image_input_of_another_size_is_read_clamped() -> None:
    ir = f"""
func.func @f(%src: {F}, %other: {F}) -> {F} {{
  %sz = graph.size %src : {F}
  %m = graph.map(%other) : ({F}) -> !graph.field<f32> {{
  ^bb0(%v: f32):
    graph.yield %v : f32
  }}
  %o = graph.capture %m, %sz : !graph.field<f32> -> {F}
  func.return %o : {F}
}}"""
    other = RNG.standard_normal((2, 3)).astype(np.float32)
    (out,) = run(ir, IMG, other)
    np.testing.assert_array_equal(out, np.pad(other, ((0, 3), (0, 4)), mode="edge"))


def test_multi_output_function_with_uniforms() -> None:
    ir = open_edges_ir()
    mag, mean = run(ir, IMG, 1.5, function="edges")
    g = blur_loop(IMG, 2)
    shifted = np.pad(g, ((0, 0), (0, 1)), mode="edge")[:, 1:]
    gain = np.float32(1.5) * np.float32(2.0)  # the uniform %gain2 = gain * 2
    np.testing.assert_array_equal(mag, shifted * gain)
    assert type(mean) is np.float32 and mean == np.float32(mag.astype(np.float64).mean())


def open_edges_ir() -> str:
    return f"""
func.func @edges(%src: {F}, %gain: f32) -> ({F}, f32) {{
  %two = arith.constant 2.0 : f32
  %gain2 = arith.mulf %gain, %two : f32
  %g0 = graph.blur %src radius 2 : {F} -> !graph.field<f32>
  %sz = graph.size %src : {F}
  %g = graph.capture %g0, %sz : !graph.field<f32> -> {F}
  %m = graph.map(%g) : ({F}) -> !graph.field<f32> {{
  ^bb0(%gv: f32):
    %x = graph.coord 0 : i32
    %y = graph.coord 1 : i32
    %c1 = arith.constant 1 : i32
    %xp = arith.addi %x, %c1 : i32
    %a = graph.load %g[%xp, %y] : {F} -> f32
    %r = arith.mulf %a, %gain2 : f32
    graph.yield %r : f32
  }}
  %mi = graph.capture %m, %sz : !graph.field<f32> -> {F}
  %mean = graph.reduce "mean" %m, %sz : !graph.field<f32> -> f32
  func.return %mi, %mean : {F}, f32
}}"""


def test_errors_name_the_op_and_check_arguments() -> None:
    with pytest.raises(EvaluationError, match=r"'math.erf'"):
        run(map_ir("    %r = math.erf %v : f32"), IMG)
    with pytest.raises(EvaluationError, match="takes 1 arguments, got 2"):
        run(map_ir("    %r = arith.addf %v, %v : f32"), IMG, IMG)
    with pytest.raises(EvaluationError, match="expected an image"):
        run(map_ir("    %r = arith.addf %v, %v : f32"), IMG4)
    with pytest.raises(EvaluationError, match="no function @g"):
        run(map_ir("    %r = arith.addf %v, %v : f32"), IMG, function="g")
    field_out = f"""
func.func @f(%src: {F}) -> !graph.field<f32> {{
  %b = graph.blur %src radius 1 : {F} -> !graph.field<f32>
  func.return %b : !graph.field<f32>
}}"""
    with pytest.raises(EvaluationError, match="field with no extent"):
        run(field_out, IMG)
