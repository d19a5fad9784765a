"""The frontend from Python: parsing, checking and L1 generation, and its diagnostics.

Every program a user can write either lowers to verified L1 IR or raises
``ccomp.CompileError`` with a ``file:line:col: error:`` message; nothing else may
escape (the fuzz test at the end mutates the example programs to check that).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from xdsl.dialects import func

from ccomp import CompileError
from ccomp.diagnostics import Source
from ccomp.dialects import graph
from ccomp.frontend import ast, parse
from ccomp.frontend.astprint import format_ast
from ccomp.dialects.context import parse_module
from ccomp.driver.pipeline import lower
from frontendutil import compile_error, compile_l1, fuzz, ops_named, printed

ROOT = Path(__file__).resolve().parents[2]

# The programs of the language sketch (LANGUAGE.md), spelled as there.
TONEMAP = """\
# examples/tonemap.cn — blur, lift, clamp, threshold: a four-node chain fused into one kernel
graph tonemap(src: image<vec4>, gain: f32 = 1.5) -> image<vec4> {
    let soft = blur(src, 1)                          # 3x3 box blur
    let lifted = clamp(soft * gain + 0.1, 0.0, 1.0)
    let lum = dot(lifted.rgb, vec3(0.2126, 0.7152, 0.0722))
    return mix(vec4(0.05, 0.05, 0.2, 1.0), vec4(1.0, 0.9, 0.6, 1.0), step(0.5, lum))
}
"""
EDGES = """\
# examples/edges.cn — two outputs, a stencil on a materialised intermediate, a reduction
graph edges(src: image<f32>) -> (mag: image<f32>, mean_mag: f32) {
    let g = capture(blur(src, 2))
    let gx = g[x+1, y] - g[x-1, y]
    let gy = g[x, y+1] - g[x, y-1]
    let m = sqrt(gx * gx + gy * gy)
    return m, mean(m)
}
"""
HEAT = """\
# examples/heat.cn — 5-point diffusion, ping-pong state
graph heat(u0: image<f32>, steps: i32 = 200) -> image<f32> {
    return repeat steps (u = u0) {
        yield u + 0.2 * (u[x-1, y] + u[x+1, y] + u[x, y-1] + u[x, y+1] - 4.0 * u)
    }
}
"""
PYRAMID = """\
# examples/pyramid.cn — state that halves in size each iteration
graph pyramid(src: image<f32>, levels: i32 = 4) -> image<f32> {
    return repeat levels (p = src) {
        yield resize(blur(p, 1), size(p) / 2)
    }
}
"""
CLASSIFY = """\
# examples/classify.cn — 784 -> 128 -> 10, Poisson input, 100 steps of 1 ms
network classify(pixels: tensor<784xf32>) -> tensor<10xi32>
    steps 100 dt 1ms
{
    input s = poisson(pixels, max_rate: 100Hz)
    layer h = lif(128, tau: 10ms, v_th: 1.0, v_reset: 0.0, refractory: 2ms) <- s weights "w1.npy"
    return spike_count(o)
}
"""

# ----- the language sketch's programs ---------------------------------------------


@pytest.mark.parametrize("text,name", [(TONEMAP, "tonemap"), (EDGES, "edges")])
def test_sketch_graphs_lower_to_verified_l1(text, name):
    module = compile_l1(text, f"{name}.cn")
    (fn,) = [op for op in module.body.block.ops if isinstance(op, func.FuncOp)]
    assert fn.sym_name.data == name
    lower(module, "kern")  # and the passes take them all the way to kernels
    module.verify()


def test_sketch_graphs_shape():
    tonemap = compile_l1(TONEMAP)
    assert len(ops_named(tonemap, "graph.blur")) == 1
    assert len(ops_named(tonemap, "graph.map")) == 3  # lifted, lum, the returned mix
    edges = compile_l1(EDGES)
    assert [op.kind.data for op in ops_named(edges, "graph.reduce")] == ["mean"]
    assert len(ops_named(edges, "graph.load")) == 4


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.cn")), ids=lambda p: p.name)
def test_example_files_compile(path):
    lower(compile_l1(path.read_text(), str(path)), "kern")


@pytest.mark.parametrize("text,name,loops", [(HEAT, "heat.cn", 2), (PYRAMID, "pyramid.cn", 1)])
def test_repeat_zones_lower_to_loops(text, name, loops):
    module = compile_l1(text, name)
    assert len(ops_named(module, "loop.repeat")) == 1
    lower(module, "kern")
    # host loops (kernels may loop too): heat's zone is a stencil, so temporal-block
    # splits it into blocked launches and the remaining single steps
    host = [op for fn in module.body.block.ops if fn.name == "func.func" for op in fn.walk() if op.name == "scf.for"]
    assert not ops_named(module, "loop.repeat") and len(host) == loops


def test_repeat_zone_parses():
    (decl,) = parse(Source(HEAT, "heat.cn")).decls
    (ret,) = decl.body.stmts
    rep = ret.values[0]
    assert isinstance(rep, ast.Repeat)
    assert rep.count == ast.Name(ast.Pos(3, 19), "steps")
    assert [s.name for s in rep.states] == ["u"]
    assert isinstance(rep.body.stmts[0], ast.Yield)


def test_network_without_its_weights_file_is_located_at_the_path():
    # networks compile (tests/frontend/network); here, from a folder without w1.npy
    err = compile_error(CLASSIFY, "p.cn")
    assert str(err).startswith("p.cn:6:90: error: weights file 'w1.npy' does not exist")


def test_declaration_keywords_are_ordinary_names_inside_a_graph():
    text = "graph g(src: image<f32>, message: f32) -> image<f32> {\n    return src *\n        message\n}\n"
    compile_l1(text)


# ----- IR round trips ---------------------------------------------------------------


@pytest.mark.parametrize("text", [TONEMAP, EDGES], ids=["tonemap", "edges"])
@pytest.mark.parametrize("generic", [False, True], ids=["custom", "generic"])
def test_l1_round_trips_through_text(text, generic):
    module = compile_l1(text)
    first = printed(module)
    again = parse_module(printed(module, generic))
    assert printed(again) == first


def test_locations_survive_round_trip():
    module = compile_l1(EDGES, "edges.cn")
    text = printed(module, debuginfo=True)
    assert 'loc("edges.cn":3:21)' in text  # blur(src, 2)
    reparsed = parse_module(text)
    (blur,) = ops_named(reparsed, "graph.blur")
    assert (blur.location.line.data, blur.location.column.data) == (3, 21)


# ----- every builtin ----------------------------------------------------------------

BUILTIN_CASES = {
    "blur": ("image<vec4>", "blur(v, 2)", "graph.blur"),
    "mix": ("image<vec4>", "mix(v, vec4(1.0), 0.25)", "arith.subf"),
    "clamp": ("image<f32>", "clamp(a, 0.0, k)", "arith.minimumf"),
    "step": ("image<f32>", "step(0.5, a)", "arith.cmpf"),
    "smoothstep": ("image<f32>", "smoothstep(0.1, 0.9, a)", "arith.divf"),
    "dot": ("image<f32>", "dot(v.xyz, vec3(0.3))", "vector.reduction"),
    "length": ("image<f32>", "length(v)", "math.sqrt"),
    "sqrt": ("image<f32>", "sqrt(a)", "math.sqrt"),
    "abs": ("image<i32>", "abs(x - n)", "math.absi"),
    "abs_f": ("image<f32>", "abs(a)", "math.absf"),
    "min": ("image<f32>", "min(a, k)", "arith.minimumf"),
    "max": ("image<i32>", "max(x, y)", "arith.maxsi"),
    "sin": ("image<f32>", "sin(a)", "math.sin"),
    "cos": ("image<f32>", "cos(a)", "math.cos"),
    "exp": ("image<f32>", "exp(a)", "math.exp"),
    "pow": ("image<vec4>", "pow(v, 2.0)", "math.powf"),
    "floor": ("image<f32>", "floor(a)", "math.floor"),
    "fract": ("image<vec2>", "fract(v.xy * 3.0)", "math.floor"),
    "mod_f": ("image<f32>", "a % 0.5", "math.trunc"),
    "mod_i": ("image<i32>", "x % n", "arith.remsi"),
    "sample": ("image<vec4>", "sample(v, uv)", "graph.sample"),
    "capture": ("image<f32>", "capture(a * 2.0)[x + 1, y]", "graph.capture"),
    "size": ("i32", "size(a).x * size(v).y", "graph.size"),
    "sum": ("f32", "sum(a)", "graph.reduce"),
    "mean": ("f32", "mean(dot(v, v))", "graph.reduce"),
    "min_reduce": ("f32", "min(a * 2.0)", "graph.reduce"),
    "max_reduce": ("f32", "max(v.w)", "graph.reduce"),
    "swizzle1": ("image<f32>", "v.g", "vector.extract"),
    "swizzle3": ("image<vec3>", "v.bgr", "vector.shuffle"),
    "vec2": ("image<vec2>", "vec2(a, x)", "vector.insert"),
    "vec3": ("image<vec3>", "vec3(v.xy, k)", "vector.insert"),
    "vec4": ("image<vec4>", "vec4(a)", "vector.broadcast"),
    "select": ("image<f32>", "select(a > k && b, a, 0)", "arith.select"),
    "casts": ("image<i32>", "i32(a * 255.0) + i32(f32(n))", "arith.fptosi"),
    "uv": ("image<vec2>", "uv", "arith.divf"),
}


@pytest.mark.parametrize("name", sorted(BUILTIN_CASES))
def test_builtin_lowers_to_verified_ir(name):
    out, expr, op = BUILTIN_CASES[name]
    text = (f"graph g(a: image<f32>, v: image<vec4>, k: f32 = 0.5, n: i32 = 3, b: bool = true) -> {out} {{\n"
            f"    return {expr}\n}}\n")
    module = compile_l1(text)
    assert ops_named(module, op), f"no {op} in\n{printed(module)}"
    lower(module, "kern")
    module.verify()


def test_reductions_name_their_kind():
    text = ("graph g(a: image<f32>) -> (s: f32, m: f32, lo: f32, hi: f32) {\n"
            "    return sum(a), mean(a), min(a), max(a)\n}\n")
    kinds = [op.kind.data for op in ops_named(compile_l1(text), "graph.reduce")]
    assert kinds == ["add", "mean", "min", "max"]


def test_int_promotes_to_float():
    module = compile_l1("graph g(a: image<f32>, n: i32) -> image<f32> {\n    return a * n + x\n}\n")
    assert len(ops_named(module, "arith.sitofp")) == 2


def test_every_op_built_from_source_is_located():
    module = compile_l1(TONEMAP, "tonemap.cn")
    for op in module.walk():
        if op is module:
            continue
        loc = op.location
        assert getattr(loc, "filename", None) is not None, f"{op.name} has no location"
        assert loc.filename.data == "tonemap.cn"


# ----- the AST ----------------------------------------------------------------------


def test_ast_literals_and_positions():
    text = "graph g(a: image<f32, 512x512>) -> f32 {\n    return mean(a) * 1.5e1 + 2\n}\n"
    (decl,) = parse(Source(text, "t.cn")).decls
    assert decl.params[0].type.args == (ast.TypeRef(ast.Pos(1, 18), "f32"), ast.DimsArg(ast.Pos(1, 23), (512, 512)))
    expr = decl.body.stmts[0].values[0]
    assert isinstance(expr, ast.Binary) and expr.op == "+" and expr.pos == ast.Pos(2, 28)
    assert expr.lhs.rhs == ast.Number(ast.Pos(2, 22), 15.0, True)
    assert "Binary op='+' @2:28" in format_ast(decl)


def test_quantities_strings_and_kwargs_parse():
    text = 'fn f(w: tensor<?xf32>) -> f32 {\n    let t = g(1ms, 100Hz, "w.npy", rate: 0.5us)\n    return t\n}\n'
    call = parse(Source(text, "t.cn")).decls[0].body.stmts[0].value
    assert call.args[0] == ast.Quantity(ast.Pos(2, 15), 1e-3, "s")
    assert call.args[1] == ast.Quantity(ast.Pos(2, 20), 100.0, "Hz")
    assert call.args[2] == ast.String(ast.Pos(2, 27), "w.npy")
    assert call.kwargs[0].name == "rate" and call.kwargs[0].value.value == pytest.approx(0.5e-6)


# ----- diagnostics ------------------------------------------------------------------


@pytest.mark.parametrize("text,where,message", [
    ("graph g(a: image<f32>) -> image<f32> {\n    return a\n", "2:13", "the '{' at 1:38 is never closed"),
    ("graph g(a: image<f32>) -> image<f32> {\n    return a *\n\n# trailing\n", "2:15", "expected an expression"),
    ("graph g(a: image<f32>) -> image<f32> {\n    return (a + 1.0\n}\n", "3:1", "unexpected '}'; expected ')'"),
    ("graph g(a: image<f32>) -> image<f32> {\n    return a[x y]\n}\n", "2:16", "expected ']', an operator, ','"),
    ("graph g(a: image<f32>) image<f32> {\n    return a\n}\n", "1:24", "unexpected 'image'; expected '->'"),
    ("graph g(a: image<f32>) -> image<f32> {\n    return a # b\n}\n}\n", "4:1", "'fn', 'graph'"),
    ("graph g(a: image<f32>) -> image<f32> {\n    return gain * a\n}\n", "2:12", "unknown name 'gain'"),
    ("graph g(a: image<f32>, gain: f32) -> image<f32> {\n    return gian * a\n}\n", "2:12", "did you mean 'gain'?"),
    ("graph g(a: image<f32>) -> image<f32> {\n    return smoothstp(0.0, 1.0, a)\n}\n", "2:12",
     "unknown function 'smoothstp'; did you mean 'smoothstep'?"),
    ("graph g(a: image<f32>, k: int) -> image<f32> {\n    return a\n}\n", "1:27", "unknown type 'int'; did you mean 'i32'?"),
    ("graph g(a: image<f32>, k: vec3) -> image<f32> {\n    return a\n}\n", "1:27", "vec3 inputs and outputs are not supported yet"),
    ("graph g(a: image<f32>, k: f32<f32>) -> image<f32> {\n    return a\n}\n", "1:27", "f32 takes no type arguments"),
    ("graph g(a: image<f32>) -> image<f32> {\n    return a + 2147483648\n}\n", "2:16", "does not fit in i32"),
    ("graph g(a: image<f32>, n: i32 = 9999999999) -> image<f32> {\n    return a\n}\n", "1:33", "does not fit in i32"),
    ("graph g(a: image<f32>) -> image<f32> {\n    return blur(a, 17)\n}\n", "2:20", "radius must be at most 16"),
    ("graph g(a: image<f32>) -> (o: image<f32>, o: f32) {\n    return a, 1.0\n}\n", "1:43", "output 'o' is declared twice"),
    ("graph g(a: image<f32>) -> image<f32> {\n    return a\n}\ngraph g(a: image<f32>) -> image<f32> {\n"
     "    return a\n}\n", "4:1", "'g' is declared twice"),
    ("# nothing here\n", "1:1", "the program declares no graph"),
    ("graph g(k: f32) -> image<f32> {\n    return x + k\n}\n", "2:14", "cannot tell the size of this field"),
], ids=lambda v: v if isinstance(v, str) and ":" in v and len(v) < 6 else "")
def test_diagnostic(text, where, message):
    err = compile_error(text)
    head = str(err).splitlines()[0]
    assert head.startswith(f"t.cn:{where}: error: "), head
    assert message in head, head


def test_caret_is_under_the_column_even_after_tabs():
    err = compile_error("graph g(a: image<f32>) -> image<f32> {\n\treturn a * gian\n}\n")
    _, source_line, caret = str(err).splitlines()
    assert source_line == "    " + "    return a * gian"
    assert caret.index("^") == source_line.index("gian")


def test_too_deep_nesting_is_an_error_not_a_crash():
    deep = "(" * 300 + "a" + " + 1.0)" * 300
    err = compile_error(f"graph g(a: image<f32>) -> image<f32> {{\n    return {deep}\n}}\n")
    assert "nested too deeply" in str(err)
    chain = "a" + " + a" * 5000
    assert "nested too deeply" in str(compile_error(f"graph g(a: image<f32>) -> image<f32> {{\n return {chain}\n}}\n"))


def test_missing_file_is_a_compile_error(tmp_path):
    with pytest.raises(CompileError, match="no such file"):
        Source.from_path(tmp_path / "nope.cn")


# ----- fuzz: no user input may raise anything but CompileError --------------------

_TOKEN = re.compile(r"\d+\.\d*(?:[eE][+-]?\d+)?|\d+(?:ms|Hz)?|\w+|->|&&|\|\||[<>=!]=|[^\s\w]")
_MIXED = """\
graph all(src: image<vec4>, k: f32 = 0.5, n: i32 = 3, on: bool = true) -> (a: image<vec4>, b: f32, c: image<f32>) {
    let s = sample(src, uv * 0.5 + vec2(0.25, 0.25))
    let t = smoothstep(0.1, 0.9, length(s.xyz)) + pow(abs(sin(k)), 2.0) + fract(cos(exp(floor(k))))
    let z = select(on && t > 0.5, max(t, 0.0), min(t, 1.0)) + f32(size(src).x % n)
    let w = capture(vec4(s.rg, s.b, z))
    return w[x - 1, y + 1] * step(0.5, z), sum(t) + mean(z) - min(z) * max(z), -t / f32(i32(k))
}
"""
FUZZ_SEEDS = {"tonemap": TONEMAP, "edges": EDGES, "heat": HEAT, "pyramid": PYRAMID, "mixed": _MIXED}


def test_fuzzed_programs_compile_or_raise_located_compile_errors():
    outcomes = fuzz(FUZZ_SEEDS, 20240521, 200, _TOKEN, lambda module: lower(module, "kern"))
    assert outcomes["ok"] > 5 and outcomes["error"] > 100, outcomes
