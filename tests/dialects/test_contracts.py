"""The stage contracts declared in dialects/: their helpers, their verifier, and that
every stage of the real pipeline leaves contracts the verifier accepts."""

from __future__ import annotations

from pathlib import Path

import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr, DenseArrayBase, DictionaryAttr, FloatAttr, IntegerAttr, MemRefType, StringAttr, TensorType, f32, i32, i64,
)
from xdsl.ir import Block, Region
from xdsl.utils.exceptions import VerifyException

from ccomp.diagnostics import Source
from ccomp.dialects.actor_contracts import HOST_ATTRS
from ccomp.dialects import graph, ports, sparse_format, sparse_parts
from ccomp.dialects.context import make_context, parse_module
from ccomp.dialects import snn
from ccomp.dialects.contracts import FUNCTION_ATTRS, PORT_ATTRS, verify_contracts
from ccomp.frontend import lower_to_l1
from ccomp.passes import get_all_passes

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PIPELINE = ("sparse-select-format", "graph-fuse", "graph-schedule", "sparse-lower", "graph-to-kern", "loop-pingpong")


def _function(arg_attrs: list[dict], res_types: list, res_attrs: list[dict] | None = None) -> func.FuncOp:
    block = Block(arg_types=[f32] * len(arg_attrs))
    block.add_op(func.ReturnOp(*[block.args[0]] * len(res_types)))
    return func.FuncOp("f", ([f32] * len(arg_attrs), res_types), Region(block),
                       arg_attrs=ArrayAttr([DictionaryAttr(a) for a in arg_attrs]),
                       res_attrs=None if res_attrs is None else ArrayAttr([DictionaryAttr(a) for a in res_attrs]))


# ----- helpers ----------------------------------------------------------------------

def test_port_helpers_round_trip():
    fn = _function([ports.port_attrs("k", FloatAttr(2.0, f32)), ports.port_attrs("x")], [f32])
    ports.set_output_names(fn, ["out"])
    args = ports.arg_ports(fn)
    assert [ports.port_name(a) for a in args] == ["k", "x"]
    assert ports.port_default(args[0]) == 2.0 and ports.port_default(args[1]) is None
    assert ports.output_names(fn) == ["out"]
    assert ports.result_ports(fn) == [DictionaryAttr({})]
    assert ports.port_name(None) is None and ports.port_default(None) is None
    verify_contracts(fn)


def test_helpers_spell_the_declared_names():
    attrs = ports.port_attrs("a", IntegerAttr(1, i32))
    assert set(attrs) == {ports.PORT_NAME, ports.PORT_DEFAULT} == {"graph.name", "graph.default"}
    assert set(sparse_format.storage_attrs(sparse_format.FormatAttr("csr"), "indptr")) == {sparse_format.FORMAT, sparse_format.PART}
    assert sparse_format.storage_attrs(None) == {sparse_format.FORMAT: StringAttr("dense")}
    with pytest.raises(ValueError, match="needs its sparse.part"):
        sparse_format.storage_attrs(sparse_format.FormatAttr("csr"))
    assert {ports.OUTPUTS, sparse_format.VARIANT_OF, *HOST_ATTRS} <= FUNCTION_ATTRS  # actor.*: actor_contracts
    assert PORT_ATTRS == {ports.PORT_NAME, ports.PORT_DEFAULT, ports.PORT_SHAPE, sparse_format.FORMAT, sparse_format.PART,
                          sparse_format.AUTO, snn.WEIGHTS_FILE}
    assert snn.WEIGHTS_FILE == "snn.weights_file" and snn.DELIVERY in FUNCTION_ATTRS
    assert ports.port_shape(DictionaryAttr(ports.port_attrs("a", shape=(-1, 4)))) == (-1, 4)
    assert ports.PORT_SHAPE not in ports.port_attrs("a", shape=(-1, -1))  # nothing static: nothing to check


@pytest.mark.parametrize("fmt", [None, sparse_format.FormatAttr("csr"), sparse_format.FormatAttr("csc"), sparse_format.FormatAttr("coo"),
                                 sparse_format.FormatAttr("bsr", (4, 2))])
def test_format_spellings_round_trip(fmt):
    assert sparse_format.parse_format(sparse_format.format_tag(fmt)) == fmt
    assert sparse_format.parse_format("dense" if fmt is None else fmt.text()) == fmt


@pytest.mark.parametrize("text", ["ell", "bsr", "bsr(4x4", "bsr0x2", "bsr4x"])
def test_bad_format_spellings(text):
    with pytest.raises(VerifyException):
        sparse_format.parse_format(text)


def test_variant_helpers():
    fn = _function([ports.port_attrs("a")], [])
    assert sparse_format.variant_of(fn) is None and sparse_format.program_of(fn) == "f"
    sparse_format.set_variant_of(fn, "g")
    assert sparse_format.variant_of(fn) == "g" and sparse_format.program_of(fn) == "g"
    tagged = sparse_format.with_auto(DictionaryAttr(ports.port_attrs("a")), sparse_format.FormatAttr("bsr", (8, 8)))
    assert sparse_format.auto_of(tagged) == "bsr8x8" and ports.port_name(tagged) == "a"


def test_runtime_parts_agree_with_the_dialect():
    """The runtime binds a matrix's arrays in the order sparse-lower declares them."""
    from ccomp.runtime.sparse.formats import Format

    for text in ("dense", "csr", "csc", "coo", "bsr(2x2)"):
        f = Format.parse(text)
        assert f.parts == sparse_parts.storage_parts(f.kind)
    assert sparse_format.matrix_parts(sparse_format.FormatAttr("coo")) == ("row", "col", "data", "rows", "cols", "nnz")


# ----- the verifier -----------------------------------------------------------------

@pytest.mark.parametrize("mutate, message", [
    (lambda fn: ports.set_output_names(fn, ["a", "b"]), "has 2 names for 1 results"),
    (lambda fn: fn.attributes.__setitem__(ports.OUTPUTS, StringAttr("a")), "must be an array of strings"),
    (lambda fn: fn.attributes.__setitem__("graph.output", StringAttr("a")), "unknown attribute 'graph.output'"),
    (lambda fn: fn.attributes.__setitem__(sparse_format.VARIANT_OF, StringAttr("g")), "exactly when an argument has"),
])
def test_function_contract_violations(mutate, message):
    fn = _function([ports.port_attrs("a")], [f32])
    ports.set_output_names(fn, ["out"])
    verify_contracts(fn)
    mutate(fn)
    with pytest.raises(VerifyException, match=message):
        verify_contracts(fn)


@pytest.mark.parametrize("attrs, message", [
    ({ports.PORT_NAME: IntegerAttr(1, i32)}, "must be a non-empty string"),
    ({ports.PORT_NAME: StringAttr("")}, "must be a non-empty string"),
    ({ports.PORT_DEFAULT: IntegerAttr(1, i32)}, "must be a literal of type f32"),
    ({sparse_format.FORMAT: StringAttr("bsr(0x4)")}, "bsr blocks must be at least 1x1"),
    ({sparse_format.PART: StringAttr("data")}, "has a sparse.part but no sparse.format"),
    ({"sparse.fromat": StringAttr("csr")}, "unknown attribute 'sparse.fromat' on argument 0"),
    ({ports.PORT_SHAPE: DenseArrayBase.from_list(i64, [4])}, "a scalar argument"),
    ({ports.PORT_SHAPE: DenseArrayBase.from_list(i32, [4])}, "must be an array<i64"),
])
def test_port_contract_violations(attrs, message):
    with pytest.raises(VerifyException, match=message):
        verify_contracts(_function([attrs], []))


def test_static_shapes_follow_the_argument():
    def fn(t, dims):
        block = Block(arg_types=[t])
        block.add_op(func.ReturnOp())
        attrs = {**ports.port_attrs("a"), ports.PORT_SHAPE: DenseArrayBase.from_list(i64, dims)}
        return func.FuncOp("f", ([t], []), Region(block), arg_attrs=ArrayAttr([DictionaryAttr(attrs)]))

    verify_contracts(fn(TensorType(f32, [4, -1]), [4, -1]))
    verify_contracts(fn(MemRefType(f32, [-1, -1]), [4, -1]))
    with pytest.raises(VerifyException, match="differs from the argument's type"):
        verify_contracts(fn(TensorType(f32, [4, -1]), [5, -1]))
    with pytest.raises(VerifyException, match="1 sizes for an argument of rank 2"):
        verify_contracts(fn(MemRefType(f32, [-1, -1]), [4]))
    with pytest.raises(VerifyException, match="at least one static"):
        verify_contracts(fn(MemRefType(f32, [-1, -1]), [-1, -1]))


def test_results_named_by_parts_follow_outputs():
    parts = [{**ports.port_attrs("m"), **sparse_format.storage_attrs(sparse_format.FormatAttr("coo"), p)}
             for p in sparse_format.matrix_parts(sparse_format.FormatAttr("coo"))]
    fn = _function([ports.port_attrs("a")], [f32] * len(parts), parts)
    ports.set_output_names(fn, ["m"])
    verify_contracts(fn)
    ports.set_output_names(fn, ["n"])
    with pytest.raises(VerifyException, match="do not follow graph.outputs"):
        verify_contracts(fn)


def test_parse_module_verifies_contracts():
    with pytest.raises(VerifyException, match="graph.outputs has 0 names for 1 results"):
        parse_module('func.func @f(%a: f32) -> f32 attributes {graph.outputs = []} {\n  func.return %a : f32\n}')


# ----- the pipeline keeps its contracts ---------------------------------------------

@pytest.mark.parametrize("example", ["edges.cn", "heat.cn", "tonemap.cn", "pagerank.cn", "spmv.cn", "spmm.cn"])
def test_every_stage_leaves_valid_contracts(example):
    path = EXAMPLES / example
    module = lower_to_l1(Source(path.read_text(), str(path)))
    verify_contracts(module)
    ctx, passes = make_context(), get_all_passes()
    for flag in PIPELINE:
        passes[flag]()().apply(ctx, module)
        module.verify()
        verify_contracts(module)
    fns = [op for op in module.body.block.ops if isinstance(op, func.FuncOp) and ports.output_names(op)]
    assert fns and all(ports.port_name(a) for fn in fns for a in ports.arg_ports(fn))


def test_schedule_groups_and_implicit_captures_are_properties():
    src = ("graph g(src: image<f32>) -> (image<f32>, f32) {\n"
           "    let d = src * 2.0\n    let e = d[x + 1, y] + d[x - 1, y]\n"
           "    return e, sum(e)\n}\n")
    module = lower_to_l1(Source(src, "g.cn"))
    captures = [op for op in module.walk() if isinstance(op, graph.CaptureOp)]
    # d's neighbour reads capture it implicitly; returning e captures it as asked
    assert [c.implicit is not None for c in captures] == [True, False]
    ctx, passes = make_context(), get_all_passes()
    for flag in ("graph-fuse", "graph-schedule"):
        passes[flag]()().apply(ctx, module)
    sinks = [op for op in module.walk() if isinstance(op, (graph.CaptureOp, graph.ReduceOp))]
    assert sinks and all(s.group is not None for s in sinks)
    assert not any(key.startswith("graph.") for s in sinks for key in s.attributes)
