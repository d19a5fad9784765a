"""``fn`` tensor programs from source to L1 (the ``sparse`` dialect), and their diagnostics.

Every fn program either lowers to verified L1 — one ``func.func`` over ``sparse``,
``loop``, ``arith`` and ``math`` ops, each located in the source — or raises a
located ``CompileError`` (the fuzz test at the end checks that nothing else escapes).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import DYNAMIC_INDEX, FileLineColLoc, ModuleOp, TensorType

from ccomp.diagnostics import Source
from ccomp.dialects.sparse_format import FormatAttr, format_of
from ccomp.frontend import ast, parse
from ccomp.dialects.context import parse_module
from ccomp.driver.pipeline import lower
from frontendutil import compile_error, compile_l1, fuzz, ops_named, printed

ROOT = Path(__file__).resolve().parents[2]
DYN = DYNAMIC_INDEX

# The fn programs of the language sketch (LANGUAGE.md), spelled as there.
SPMV = """\
# examples/spmv.cn
fn spmv(A: tensor<?x?xf32, csr>, v: tensor<?xf32>) -> tensor<?xf32> {
    return A @ v
}
"""
PAGERANK = """\
# examples/pagerank.cn — format chosen from the data, iteration in a repeat zone
fn pagerank(A: tensor<?x?xf32, auto>, damping: f32 = 0.85, iters: i32 = 50) -> tensor<?xf32> {
    let n = rows(A)
    return repeat iters (r = fill(n, 1.0 / n)) {
        yield (1.0 - damping) / n + damping * (A @ r)
    }
}
"""
SPMM = """\
# examples/spmm.cn — sparse times dense: the right operand of a matrix product is read densely
fn spmm(A: tensor<?x?xf32, csr>, B: tensor<?x?xf32>) -> tensor<?x?xf32> {
    return A @ B
}
"""
def the_func(module: ModuleOp) -> func.FuncOp:
    (fn,) = [op for op in module.body.block.ops if isinstance(op, func.FuncOp)]
    return fn


def fn_of(params: str, result: str, body: str) -> str:
    return f"fn f({params}) -> {result} {{\n{body}\n}}\n"


# ----- the examples -------------------------------------------------------------------


@pytest.mark.parametrize("name,text", [("spmv", SPMV), ("pagerank", PAGERANK), ("spmm", SPMM)])
def test_example_files_are_the_sketch_programs(name, text):
    assert (ROOT / "examples" / f"{name}.cn").read_text() == text


def test_spmv():
    module = compile_l1(SPMV, "spmv.cn")
    fn = the_func(module)
    assert fn.sym_name.data == "spmv"
    a, v = fn.body.block.args
    assert format_of(a.type) == FormatAttr("csr") and a.type.get_shape() == (DYN, DYN)
    assert [x.data for x in fn.attributes["graph.outputs"].data] == ["out"]
    (mv,) = ops_named(module, "sparse.matvec")
    assert mv.lhs is a and mv.rhs is v  # a sparse matrix is used as it is
    assert not ops_named(module, "sparse.convert")
    assert fn.function_type.outputs.data[0] == TensorType(mv.result.type.element_type, [DYN])
    assert "tensor<?x?xf32, #sparse.format<csr>>" in printed(module)


def test_pagerank():
    module = compile_l1(PAGERANK, "pagerank.cn")
    fn = the_func(module)
    attrs = [d.data for d in fn.arg_attrs.data]
    assert attrs[1]["graph.default"].value.data == pytest.approx(0.85)
    assert attrs[2]["graph.default"].value.data == 50
    (dim,) = ops_named(module, "sparse.dim")
    assert dim.dim.value.data == 0 and dim.source is fn.body.block.args[0]
    (fill,) = ops_named(module, "sparse.fill")
    assert fill.sizes[0] is dim.result
    (rep,) = ops_named(module, "loop.repeat")
    assert rep.inits[0] is fill.result and rep.count is fn.body.block.args[2]
    (mv,) = ops_named(module, "sparse.matvec")
    assert mv.parent_op() is rep and mv.rhs is rep.body.block.args[1]
    (ew,) = ops_named(module, "sparse.elementwise")
    # the scalar part, (1.0 - damping) / n, is computed once per iteration outside the body
    assert [str(v.type) for v in ew.inputs] == ["f32", "f32", "tensor<?xf32>"]
    assert ew.inputs[2] is mv.result
    assert [op.name for op in ew.body.block.ops] == ["arith.mulf", "arith.addf", "sparse.yield"]
    assert not ops_named(module, "sparse.convert")


def test_spmm():
    module = compile_l1(SPMM)
    (mm,) = ops_named(module, "sparse.matmul")
    assert format_of(mm.lhs.type) == FormatAttr("csr") and format_of(mm.rhs.type) is None
    assert mm.result.type.get_shape() == (DYN, DYN)


def test_matmul_converts_a_sparse_right_operand_to_dense():
    module = compile_l1(fn_of("A: tensor<?x?xf32, csr>, B: tensor<?x?xf32, bsr(4x4)>", "tensor<?x?xf32>",
                              "    return A @ B"))
    (conv,) = ops_named(module, "sparse.convert")
    assert format_of(conv.source.type) == FormatAttr("bsr", (4, 4)) and format_of(conv.result.type) is None
    (mm,) = ops_named(module, "sparse.matmul")
    assert mm.rhs is conv.result


@pytest.mark.parametrize("text", [SPMV, PAGERANK, SPMM], ids=["spmv", "pagerank", "spmm"])
@pytest.mark.parametrize("generic", [False, True], ids=["custom", "generic"])
def test_l1_round_trips_through_text(text, generic):
    module = compile_l1(text)
    first = printed(module)
    assert "?x" in first or "<?xf32>" in first  # dynamic sizes print as ?
    assert printed(parse_module(printed(module, generic))) == first


def test_every_op_is_located():
    module = compile_l1(PAGERANK, "pagerank.cn")
    for op in module.walk():
        if op is module:
            continue
        assert isinstance(op.location, FileLineColLoc), f"{op.name} has no location"
        assert op.location.filename.data == "pagerank.cn"
    (mv,) = ops_named(module, "sparse.matvec")
    assert (mv.location.line.data, mv.location.column.data) == (5, 50)  # the '@'
    (ew,) = ops_named(module, "sparse.elementwise")
    assert (ew.location.line.data, ew.location.column.data) == (5, 35)  # the root '+'


# ----- types ------------------------------------------------------------------------


@pytest.mark.parametrize("written,fmt,shape", [
    ("tensor<?xf32>", None, (DYN,)),
    ("tensor<?x?xf32>", None, (DYN, DYN)),
    ("tensor<128x784xf32>", None, (128, 784)),
    ("tensor<?x4xf32, dense>", None, (DYN, 4)),
    ("tensor<?x?xf32, csr>", FormatAttr("csr"), (DYN, DYN)),
    ("tensor<?x?xf32, csc>", FormatAttr("csc"), (DYN, DYN)),
    ("tensor<?x?xf32, coo>", FormatAttr("coo"), (DYN, DYN)),
    ("tensor<8x8xf32, bsr(4x2)>", FormatAttr("bsr", (4, 2)), (8, 8)),
    ("tensor<?x?xf32, auto>", FormatAttr("auto"), (DYN, DYN)),
])
def test_tensor_parameter_types(written, fmt, shape):
    module = compile_l1(fn_of(f"A: {written}, k: f32 = 1.0, n: i32 = 2, b: bool = true", "i32",
                              "    return rows(A)"))
    t = the_func(module).body.block.args[0].type
    assert isinstance(t, TensorType) and format_of(t) == fmt and t.get_shape() == shape


def test_format_arguments_parse():
    text = fn_of("A: tensor<?x?xf32, bsr(4x4)>", "tensor<?x?xf32, csr>", "    return to(A, bsr(2x8))")
    (decl,) = parse(Source(text, "t.cn")).decls
    assert decl.params[0].type.args[1] == ast.Format(ast.Pos(1, 25), "bsr", (4, 4))
    call = decl.body.stmts[0].values[0]
    assert call.args[1] == ast.Format(ast.Pos(2, 18), "bsr", (2, 8))


def test_an_auto_parameter_is_converted_for_a_concrete_result():
    module = compile_l1(fn_of("A: tensor<?x?xf32, auto>", "tensor<?x?xf32, csr>", "    return A"))
    (conv,) = ops_named(module, "sparse.convert")
    assert format_of(conv.source.type) == FormatAttr("auto") and format_of(conv.result.type) == FormatAttr("csr")


def test_results_are_converted_to_the_declared_format():
    module = compile_l1(fn_of("A: tensor<?x?xf32>, B: tensor<?x?xf32, csr>", "(s: tensor<?x?xf32, csc>, t: tensor<?x?xf32, coo>)",
                              "    return A * 2.0, B"))
    convs = ops_named(module, "sparse.convert")
    assert [(format_of(c.source.type), format_of(c.result.type)) for c in convs] == [
        (None, FormatAttr("csc")), (FormatAttr("csr"), FormatAttr("coo"))]
    outs = the_func(module).function_type.outputs.data
    assert [format_of(t) for t in outs] == [FormatAttr("csc"), FormatAttr("coo")]


def test_static_sizes_flow_into_results():
    module = compile_l1(fn_of("A: tensor<128x784xf32>, x: tensor<784xf32>", "tensor<?xf32>", "    return A @ x + 1.0"))
    assert the_func(module).function_type.outputs.data[0].get_shape() == (128,)


# ----- elementwise trees and broadcasting ----------------------------------------------------


def test_an_elementwise_tree_is_one_op():
    module = compile_l1(fn_of("v: tensor<?xf32>, w: tensor<?xf32>, k: f32, n: i32", "tensor<?xf32>",
                              "    return sqrt(abs(v * k - w)) + max(v, 0.5) / n + -w * 2"))
    (ew,) = ops_named(module, "sparse.elementwise")
    assert [str(v.type) for v in ew.inputs] == ["tensor<?xf32>", "f32", "tensor<?xf32>", "f32"]
    body = [op.name for op in ew.body.block.ops]
    for name in ("math.sqrt", "math.absf", "arith.maximumf", "arith.divf", "arith.negf", "arith.constant"):
        assert name in body, body
    # the i32 parameter is converted once, outside the body
    (conv,) = [op for op in ops_named(module, "arith.sitofp") if op.parent_op() is the_func(module)]
    assert ew.inputs[3] is conv.result


def test_inputs_are_deduplicated():
    module = compile_l1(fn_of("v: tensor<?xf32>", "tensor<?xf32>", "    return v * v + v"))
    (ew,) = ops_named(module, "sparse.elementwise")
    assert len(ew.inputs) == 1


def test_sparse_operands_of_elementwise_ops_are_converted_to_dense():
    module = compile_l1(fn_of("A: tensor<?x?xf32, csr>", "tensor<?x?xf32>", "    return A * 2.0 - A"))
    (conv,) = ops_named(module, "sparse.convert")
    (ew,) = ops_named(module, "sparse.elementwise")
    assert list(ew.inputs) == [conv.result]


@pytest.mark.parametrize("a,b,shape", [
    ("?x?", "?", (DYN, DYN)),
    ("3x4", "4", (3, 4)),
    ("3x1", "1x4", (3, 4)),
    ("?x1", "5", (DYN, 5)),
    ("1", "?", (DYN,)),
    ("3x?", "?x7", (3, 7)),
])
def test_broadcasting(a, b, shape):
    module = compile_l1(fn_of(f"p: tensor<{a}xf32>, q: tensor<{b}xf32>", "tensor<" + "x".join("?" * len(shape)) + "xf32>",
                              "    return p + q"))
    (ew,) = ops_named(module, "sparse.elementwise")
    assert ew.result.type.get_shape() == shape


def test_scalar_arithmetic_stays_plain_arith():
    module = compile_l1(fn_of("n: i32, k: f32", "f32", "    return 1.0 / n + k * 2"))
    assert not ops_named(module, "sparse.elementwise")
    assert len(ops_named(module, "arith.sitofp")) == 2


# ----- builtins -------------------------------------------------------------------------

PARAMS = "A: tensor<?x?xf32, csr>, M: tensor<?x?xf32>, v: tensor<?xf32>, k: f32 = 0.5, n: i32 = 4"
BUILTIN_CASES = {
    "rows": ("i32", "rows(A)", "sparse.dim"),
    "rows_vector": ("i32", "rows(v)", "sparse.dim"),
    "cols": ("i32", "cols(M)", "sparse.dim"),
    "nnz": ("i32", "nnz(A)", "sparse.nnz"),
    "fill1": ("tensor<?xf32>", "fill(n, 1.0 / n)", "sparse.fill"),
    "fill2": ("tensor<?x?xf32>", "fill(n, rows(A), 0)", "sparse.fill"),
    "to_csr": ("tensor<?x?xf32, csr>", "to(M, csr)", "sparse.convert"),
    "to_bsr": ("tensor<?x?xf32, bsr(4x4)>", "to(A, bsr(4x4))", "sparse.convert"),
    "to_dense": ("tensor<?x?xf32>", "to(A, dense)", "sparse.convert"),
    "to_dense_fn": ("tensor<?x?xf32>", "to_dense(A)", "sparse.convert"),
    "to_from_auto": ("tensor<?x?xf32, coo>", "to(to(A, csr), coo)", "sparse.convert"),
    "sum": ("f32", "sum(v)", "sparse.reduce"),
    "min": ("f32", "min(A)", "sparse.reduce"),
    "max": ("f32", "max(M * 2.0)", "sparse.reduce"),
    "mean": ("f32", "mean(M)", "arith.divf"),
    "matvec": ("tensor<?xf32>", "A @ v", "sparse.matvec"),
    "matmul": ("tensor<?x?xf32>", "A @ M", "sparse.matmul"),
    "sqrt": ("tensor<?xf32>", "sqrt(v)", "math.sqrt"),
    "exp": ("tensor<?xf32>", "exp(-v)", "math.exp"),
    "abs": ("tensor<?xf32>", "abs(v)", "math.absf"),
    "min2": ("tensor<?xf32>", "min(v, k)", "arith.minimumf"),
    "max2": ("tensor<?x?xf32>", "max(M, 0)", "arith.maximumf"),
    "clamp": ("tensor<?xf32>", "clamp(v, 0.0, k)", "arith.minimumf"),
    "pow": ("tensor<?xf32>", "pow(v, 2.0)", "math.powf"),
    "mix": ("tensor<?xf32>", "mix(v, v * 2.0, k)", "arith.subf"),
    "step": ("tensor<?xf32>", "step(0.5, v)", "arith.cmpf"),
    "smoothstep": ("tensor<?xf32>", "smoothstep(0.0, 1.0, v)", "arith.divf"),
    "fract": ("tensor<?xf32>", "fract(v)", "math.floor"),
    "tanh": ("tensor<?xf32>", "tanh(v)", "math.tanh"),
    "mod": ("tensor<?xf32>", "v % 2.0", "math.trunc"),
    "scalar_builtin": ("f32", "sqrt(k) + f32(n)", "math.sqrt"),
}


@pytest.mark.parametrize("name", sorted(BUILTIN_CASES))
def test_builtin_lowers_to_verified_ir(name):
    result, expr, op = BUILTIN_CASES[name]
    module = compile_l1(fn_of(PARAMS, result, f"    return {expr}"))
    assert ops_named(module, op), f"no {op} in\n{printed(module)}"
    lower(module, "kern")  # and sparse-select-format/sparse-lower take it to kernels
    module.verify()


def test_reductions_and_mean():
    module = compile_l1(fn_of(PARAMS, "(s: f32, lo: f32, hi: f32, m: f32)", "    return sum(A), min(v), max(M), mean(A)"))
    assert [op.kind.data for op in ops_named(module, "sparse.reduce")] == ["add", "min", "max", "add"]
    # A sparse operand is converted first, once for both reductions
    (conv,) = ops_named(module, "sparse.convert")
    assert all(op.source is conv.result for op in ops_named(module, "sparse.reduce")[::3])
    assert [op.dim.value.data for op in ops_named(module, "sparse.dim")] == [0, 1]  # mean's element count


def test_to_the_same_format_is_no_op():
    module = compile_l1(fn_of(PARAMS, "tensor<?x?xf32, csr>", "    return to(A, csr)"))
    assert not ops_named(module, "sparse.convert")


# ----- repeat zones -----------------------------------------------------------------------


def test_repeat_with_tensor_and_scalar_state():
    text = fn_of("v: tensor<?xf32>, n: i32", "(u: tensor<?xf32>, t: f32)",
                 "    let r = repeat n (u = v, t = 0.0, j = 0) {\n"
                 "        let w = u * 0.5 + iteration\n"
                 "        yield w, t + sum(w), j + 1\n    }\n    return r.u, r.t")
    module = compile_l1(text)
    (rep,) = ops_named(module, "loop.repeat")
    assert [str(t) for t in rep.result_types] == ["tensor<?xf32>", "f32", "i32"]
    assert ops_named(module, "loop.yield")


def test_conversions_are_built_once_before_the_loop():
    module = compile_l1(fn_of("A: tensor<?x?xf32, csr>, M: tensor<?x?xf32>, n: i32", "tensor<?x?xf32>",
                              "    return repeat n (X = M) { yield X * 0.5 + A + max(A, 0.0) }"))
    (conv,) = ops_named(module, "sparse.convert")
    assert conv.parent_op() is the_func(module)  # hoisted out of the loop, shared by both uses
    (ew,) = ops_named(module, "sparse.elementwise")
    assert list(ew.inputs) == [ew.parent_op().body.block.args[1], conv.result]


def test_static_repeat_state_is_widened():
    module = compile_l1(fn_of("v: tensor<4xf32>, n: i32", "tensor<?xf32>",
                              "    return repeat n (r = v) { yield r * 2.0 }"))
    (rep,) = ops_named(module, "loop.repeat")
    assert rep.res[0].type.get_shape() == (DYN,)
    copy = rep.inits[0].owner
    assert copy.name == "sparse.elementwise" and copy.inputs[0] is the_func(module).body.block.args[0]


# ----- diagnostics ------------------------------------------------------------------


DIAGNOSTICS = [
    # types
    (fn_of("A: tensor<?xbool>", "f32", "    return 1.0"), "1:16", "tensors hold f32, f64, i32, i64, not bool"),
    (fn_of("A: tensor<?xf32, csr>", "f32", "    return 1.0"), "1:23", "only rank-2 tensors (matrices) can be sparse"),
    (fn_of("A: tensor<?x?xf32, cssr>", "f32", "    return 1.0"), "1:25", "unknown tensor format 'cssr'; did you mean 'csr'?"),
    (fn_of("A: tensor<?x?xf32, bsr>", "f32", "    return 1.0"), "1:25", "bsr needs a block size, as in bsr(4x4)"),
    (fn_of("A: tensor<?x?x?xf32>", "f32", "    return 1.0"), "1:16", "only tensors of rank 1 or 2"),
    (fn_of("A: tensor<f32>", "f32", "    return 1.0"), "1:9", "a tensor type needs a shape"),
    (fn_of("A: image<f32>", "f32", "    return 1.0"), "1:9", "image values belong to graphs"),
    (fn_of("A: tensor<?xf32> = 1.0", "f32", "    return 1.0"), "1:25", "only scalar parameters can have a default"),
    ("graph g(src: image<f32>, w: tensor<?xf32>) -> image<f32> {\n    return src\n}\n", "1:29",
     "tensor types belong to fn programs; a graph takes images and scalars"),
    # graph-only things
    (fn_of("v: tensor<?xf32>", "f32", "    return sum(v + x)"), "2:20", "'x' is an image coordinate and belongs to graphs"),
    (fn_of("v: tensor<?xf32>", "f32", "    return sum(uv)"), "2:16", "'uv' is an image coordinate and belongs to graphs"),
    (fn_of("v: tensor<?xf32>", "tensor<?xf32>", "    return blur(v, 1)"), "2:12", "blur() works on images and belongs to graphs"),
    (fn_of("v: tensor<?xf32>", "tensor<?xf32>", "    return capture(v)"), "2:12", "capture() works on images and belongs to graphs"),
    (fn_of("v: tensor<?xf32>", "tensor<?xf32>", "    return sample(v, 0.5)"), "2:12", "sample() works on images"),
    (fn_of("v: tensor<?xf32>", "f32", "    return v[1]"), "2:12", "indexing reads image neighbours and belongs to graphs"),
    (fn_of("v: tensor<?xf32>", "f32", "    return v.x"), "2:14", "swizzles belong to graphs"),
    # products
    (fn_of("v: tensor<?xf32>", "tensor<?xf32>", "    return v @ v"), "2:14",
     "the left operand of '@' must be a matrix (a rank-2 tensor), got tensor<?xf32>"),
    (fn_of("A: tensor<?x?xf32>", "tensor<?xf32>", "    return A @ 2.0"), "2:14", "the right operand of '@' must be a tensor"),
    (fn_of("A: tensor<3x4xf32>, v: tensor<5xf32>", "tensor<?xf32>", "    return A @ v"), "2:14",
     "cannot multiply tensor<3x4xf32> by tensor<5xf32>: the matrix has 4 columns but the vector has 5 elements"),
    (fn_of("A: tensor<3x4xf32>, B: tensor<3x4xf32, csr>", "tensor<?x?xf32>", "    return A @ B"), "2:14",
     "cannot multiply tensor<3x4xf32> by tensor<3x4xf32, csr>: the matrix has 4 columns but the right matrix has 3 rows"),
    # elementwise
    (fn_of("p: tensor<3xf32>, q: tensor<4xf32>", "tensor<?xf32>", "    return p + q * 2.0"), "2:14",
     "cannot apply '+': shapes tensor<3xf32> and tensor<4xf32> do not broadcast (sizes 3 and 4)"),
    (fn_of("p: tensor<3x2xf32>, q: tensor<4x2xf32>", "tensor<?x?xf32>", "    return max(p, q)"), "2:12",
     "cannot apply max(): shapes tensor<3x2xf32> and tensor<4x2xf32> do not broadcast"),
    (fn_of("v: tensor<?xf32>", "tensor<?xf32>", "    return v < 1.0"), "2:14", "comparison of tensors ('<') is not supported"),
    (fn_of("v: tensor<?xf32>", "tensor<?xf32>", "    return v * true"), "2:14", "expected numbers, got bool"),
    (fn_of("v: tensor<?xf32>", "tensor<?xf32>", "    return !v"), "2:12", "'!' expects a bool, got tensor<?xf32>"),
    (fn_of("v: tensor<?xf32>", "tensor<?xf32>", "    return select(true, v, v)"), "2:12", "select() does not apply to tensors"),
    (fn_of("v: tensor<?xf32>", "tensor<?xf32>", "    return smoothstp(0.0, 1.0, v)"), "2:12",
     "unknown function 'smoothstp'; did you mean 'smoothstep'?"),
    (fn_of("v: tensor<?xf32>", "tensor<?xf32>", "    return vec2(1.0, 2.0)"), "2:12", "vectors belong to graphs"),
    # builtins
    (fn_of("v: tensor<?xf32>", "i32", "    return cols(v)"), "2:12", "cols() needs a matrix, but tensor<?xf32> is a vector"),
    (fn_of("k: f32", "i32", "    return rows(k)"), "2:17", "rows() expects a tensor, got f32"),
    (fn_of("k: f32", "tensor<?xf32>", "    return fill(k, 1.0)"), "2:17", "fill() sizes must be i32, got f32"),
    (fn_of("n: i32", "tensor<?xf32>", "    return fill(n, true)"), "2:20", "the value of fill() must be a number, got bool"),
    (fn_of("n: i32", "tensor<?xf32>", "    return fill(n)"), "2:12", "fill() takes the sizes then the value"),
    (fn_of("A: tensor<?x?xf32>", "tensor<?x?xf32>", "    return to(A, cssr)"), "2:18",
     "unknown tensor format 'cssr'; did you mean 'csr'?"),
    (fn_of("A: tensor<?x?xf32>", "tensor<?x?xf32>", "    return to(A, bsr(4))"), "2:18", "a bsr block size is ROWSxCOLS"),
    (fn_of("A: tensor<?x?xf32>", "tensor<?x?xf32>", "    return to(A, 3)"), "2:18", "expected a storage format"),
    (fn_of("v: tensor<?xf32>", "tensor<?xf32>", "    return to(v, csr)"), "2:18", "only rank-2 tensors (matrices) can be sparse"),
    (fn_of("A: tensor<?x?xf32>", "tensor<?x?xf32, csr>", "    return to(A, auto)"), "2:18",
     "'auto' is only allowed on parameters"),
    (fn_of("A: tensor<?x?xf32, auto>", "tensor<?x?xf32, auto>", "    return A"), "1:51",
     "'auto' is only allowed on parameters"),
    (fn_of("v: tensor<?xf32>", "tensor<?xf32>", "    return bsr(4x4)"), "2:12", "is only the second argument of to()"),
    (fn_of("k: f32", "f32", "    return sum(k)"), "2:12", "sum() of one argument reduces a tensor, got f32"),
    (fn_of("v: tensor<?xf32>", "f32", "    return mean(v, v)"), "2:12", "mean() takes 1 argument (a tensor), got 2"),
    # repeat zones
    (fn_of("A: tensor<?x?xf32, csr>, n: i32", "tensor<?x?xf32>", "    return repeat n (r = to_dense(A)) {\n"
                                                               "        yield to(r, csr)\n    }"), "3:15",
     "repeat state must be a dense tensor or a scalar"),
    (fn_of("A: tensor<?x?xf32, csr>, n: i32", "tensor<?x?xf32>", "    return repeat n (r = A) { yield r }"), "2:26",
     "repeat state must be a dense tensor or a scalar"),
    (fn_of("v: tensor<?xf32>, n: i32", "tensor<?xf32>", "    return repeat n (r = v) { yield fill(n, n, 1.0) }"), "2:37",
     "state 'r' is tensor<?xf32>, but this is tensor<?x?xf32>"),
    (fn_of("v: tensor<?xf32>, n: i32", "f32", "    return repeat n (s = 0.0) { yield v }"), "2:39",
     "state 's' is f32, but this is tensor<?xf32>; reduce it with sum/mean/min/max"),
    (fn_of("v: tensor<?xf32>", "f32", "    return repeat 2.0 (s = 0.0) { yield s }"), "2:19",
     "the repeat count must be an i32 value, got f32"),
    # results and statements
    (fn_of("A: tensor<?x?xf32, csr>", "tensor<?x?xf32>", "    return A"), "2:12",
     "expected a dense tensor<?x?xf32>, got tensor<?x?xf32, csr>; convert it with to_dense()"),
    (fn_of("A: tensor<?x?xf32>", "tensor<?xf32>", "    return A"), "2:12", "expected tensor<?xf32>, got tensor<?x?xf32>"),
    (fn_of("v: tensor<3xf32>", "tensor<4xf32>", "    return v"), "2:12", "expected tensor<4xf32>, got tensor<3xf32>"),
    (fn_of("v: tensor<?xf32>", "f32", "    return v"), "2:12", "expected f32, got tensor<?xf32>; reduce it"),
    (fn_of("v: tensor<?xf32>", "tensor<?xf32>", "    return 1.0"), "2:12", "expected tensor<?xf32>, got f32"),
    (fn_of("v: tensor<?xf32>", "(a: tensor<?xf32>, b: f32)", "    return v"), "2:5", "'f' returns 2 values, but 1 given"),
    (fn_of("v: tensor<?xf32>", "tensor<?xf32>", "    yield v"), "2:5", "'yield' belongs inside a repeat zone"),
    (fn_of("v: tensor<?xf32>", "tensor<?xf32>", "    let w = v"), "1:41", "fn 'f' does not return its results"),
    (fn_of("v: tensor<?xf32>", "tensor<?xf32>", "    let v = 1.0\n    return v"), "2:5", "'v' is already defined"),
    (fn_of("v: tensor<?xf32>", "tensor<?xf32>", "    return v * 1ms"), "2:16", "quantities with units belong to networks"),
    (fn_of("v: tensor<?xf32>, gain: f32", "tensor<?xf32>", "    return v * gian"), "2:16",
     "unknown name 'gian'; did you mean 'gain'?"),
]


@pytest.mark.parametrize("text,where,message", DIAGNOSTICS, ids=[f"{i}-{d[2][:30]}" for i, d in enumerate(DIAGNOSTICS)])
def test_diagnostic(text, where, message):
    err = compile_error(text)
    head, source_line, caret = str(err).splitlines()[:3]
    assert head.startswith(f"t.cn:{where}: error: "), head
    assert message in head, head
    line, col = map(int, where.split(":"))
    assert source_line == "    " + text.splitlines()[line - 1]
    assert caret == " " * (4 + col - 1) + "^"


# ----- fuzz: no user input may raise anything but CompileError --------------------

_TOKEN = re.compile(r"\d+\.\d*(?:[eE][+-]?\d+)?|\d+x\d+|\d+(?:ms|Hz)?|\w+|->|&&|\|\||[<>=!]=|[^\s\w]")
_MIXED = """\
fn all(A: tensor<?x?xf32, csr>, M: tensor<4x4xf32>, v: tensor<?xf32>, k: f32 = 0.5, n: i32 = 3) -> (a: tensor<?xf32>, b: f32, c: tensor<?x?xf32, bsr(2x2)>) {
    let w = sqrt(abs(A @ v)) * k + fill(rows(A), 1.0 / n) - max(v, 0.0)
    let r = repeat n (u = w, t = 0.0) {
        yield clamp(u * 0.5 + iteration, -1.0, 1.0), t + mean(u) + nnz(A)
    }
    return r.u, sum(to_dense(A)) + min(M @ M) + r.t, to(M + 1.0, bsr(2x2))
}
"""
FUZZ_SEEDS = {"spmv": SPMV, "pagerank": PAGERANK, "spmm": SPMM, "mixed": _MIXED}


def test_mixed_seed_lowers_to_kernels():
    lower(compile_l1(_MIXED), "kern").verify()


def test_fuzzed_programs_compile_or_raise_located_compile_errors():
    outcomes = fuzz(FUZZ_SEEDS, 20240607, 300, _TOKEN, lambda module: module.verify())
    assert outcomes["ok"] > 10 and outcomes["error"] > 100, outcomes
