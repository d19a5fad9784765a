"""The illegal-dialect rule: after a lowering no op of the dialect it lowers is left.

Each test builds IR with a case a lowering does not handle — an op nested where the
lowering copies code whole, a function it skips, a handler taken out of its table,
the old clone-anything fallback — and checks that the pass stops with a
``PassError`` naming the op (located at it), instead of passing it on silently.
"""

from __future__ import annotations

from typing import ClassVar

import pytest
from xdsl.dialects.builtin import FileLineColLoc, IntAttr, StringAttr
from xdsl.ir import Operation, SSAValue

from ccomp.diagnostics import PassError, Source, register_source
from ccomp.dialects import sparse
from ccomp.dialects.context import make_context, parse_module
from ccomp.passes.graph_to_kern import GraphToKernPass
from ccomp.passes.loop_pingpong import LoopPingPongPass
from ccomp.passes.lowering.builder import IRBuilder
from ccomp.passes.lowering.legality import check_legal
from ccomp.passes.sparse_lower import FunctionLowering, SparseLowerPass

NNZ = """
func.func @count(%B: tensor<?x?xf32, #sparse.format<coo>> {graph.name = "B"}) -> i32 attributes {graph.outputs = ["n"]} {
  %n = sparse.nnz %B : tensor<?x?xf32, #sparse.format<coo>>
  func.return %n : i32
}
"""


def names(module: Operation) -> set[str]:
    return {op.name for op in module.walk()}


def test_graph_to_kern_rejects_a_graph_op_it_copied_into_a_kernel() -> None:
    """A neighbour read inside an scf.if of a map body: the kernel builder keeps the
    scf.if as it is, and the graph.load inside it must not reach the backend."""
    module = parse_module("""
func.func @g(%src: !graph.image<f32>, %c: i1) -> !graph.image<f32> {
  %sz = graph.size %src : !graph.image<f32>
  %f = graph.map(%src) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%s: f32):
    %x = graph.coord 0 : i32
    %y = graph.coord 1 : i32
    %v = scf.if %c -> (f32) {
      %n = graph.load %src[%x, %y] : !graph.image<f32> -> f32
      scf.yield %n : f32
    } else {
      scf.yield %s : f32
    }
    graph.yield %v : f32
  }
  %o = graph.capture %f, %sz : !graph.field<f32> -> !graph.image<f32>
  func.return %o : !graph.image<f32>
}
""")
    with pytest.raises(PassError, match=r"'graph.load' is left after graph-to-kern") as err:
        GraphToKernPass().apply(make_context(), module)
    assert err.value.internal and err.value.op.name == "graph.load"


def test_graph_to_kern_rejects_graph_ops_in_a_function_it_does_not_lower() -> None:
    """A function over scalars is not a graph, so graph-to-kern skips it; a graph op in
    it would be left behind."""
    module = parse_module("""
func.func @scalar(%x: f32) -> f32 {
  %f = graph.map() : () -> !graph.field<f32> {
    %c = graph.coord 0 : i32
    %v = arith.sitofp %c : i32 to f32
    graph.yield %v : f32
  }
  func.return %x : f32
}
""")
    with pytest.raises(PassError, match=r"'graph.map' is left after graph-to-kern"):
        GraphToKernPass().apply(make_context(), module)


def test_graph_to_kern_needs_graph_fuse() -> None:
    module = parse_module("""
func.func @b(%src: !graph.image<f32>) -> !graph.image<f32> {
  %sz = graph.size %src : !graph.image<f32>
  %b = graph.blur %src radius 1 : !graph.image<f32> -> !graph.field<f32>
  %o = graph.capture %b, %sz : !graph.field<f32> -> !graph.image<f32>
  func.return %o : !graph.image<f32>
}
""")
    with pytest.raises(PassError, match="graph-to-kern needs graph-fuse to run first"):
        GraphToKernPass().apply(make_context(), module)


class WithoutNnz(FunctionLowering):
    """A lowering that forgot ``sparse.nnz``."""

    HANDLERS: ClassVar = {k: v for k, v in FunctionLowering.HANDLERS.items() if k is not sparse.NnzOp}


class CloningEverything(WithoutNnz):
    """The old fallback: clone whatever has no handler, sparse ops included."""

    def lower_op(self, op: Operation, b: IRBuilder) -> None:
        handler = self.HANDLERS.get(type(op))
        if handler is not None:
            handler(self, op, b)
        else:
            plain = {k: v for k, v in self.mapping.items() if isinstance(v, SSAValue)}
            clone = b.insert(op.clone(value_mapper=plain))
            self.mapping.update(zip(op.results, clone.results))


def sparse_lower_with(lowering: type[FunctionLowering]) -> SparseLowerPass:
    class Pass(SparseLowerPass):
        pass
    Pass.lowering = lowering
    return Pass()


def test_sparse_lower_names_an_op_without_handler() -> None:
    module = parse_module(NNZ)
    with pytest.raises(PassError, match=r"sparse-lower does not lower 'sparse.nnz'") as err:
        sparse_lower_with(WithoutNnz).apply(make_context(), module)
    assert isinstance(err.value.op, sparse.NnzOp)


def test_sparse_lower_catches_a_sparse_op_cloned_through() -> None:
    module = parse_module(NNZ)
    with pytest.raises(PassError, match=r"'sparse.nnz' is left after sparse-lower"):
        sparse_lower_with(CloningEverything).apply(make_context(), module)


def test_sparse_lower_with_every_handler_leaves_no_sparse_op() -> None:
    module = parse_module(NNZ)
    SparseLowerPass().apply(make_context(), module)
    assert not {n for n in names(module) if n.startswith("sparse.")}
    assert "kern.launch" in names(module)


def test_loop_pingpong_rejects_a_zone_it_cannot_reach() -> None:
    """loop-pingpong lowers the zones of host functions; one anywhere else is left."""
    module = parse_module("""
kern.kernel @k rank 1 {
^bb0(%n: i32, %x: f32):
  %r = loop.repeat %n(%x) : (f32) -> f32 {
  ^bb0(%i: i32, %v: f32):
    loop.yield %v : f32
  }
  kern.yield
}
""")
    with pytest.raises(PassError, match=r"'loop.repeat' is left after loop-pingpong"):
        LoopPingPongPass().apply(make_context(), module)


def test_a_leftover_is_reported_at_its_source_location() -> None:
    register_source(Source("a\n  b = nnz(B)\n", "prog.cn"))
    module = parse_module(NNZ)
    nnz = next(op for op in module.walk() if isinstance(op, sparse.NnzOp))
    nnz.location = FileLineColLoc(StringAttr("prog.cn"), IntAttr(2), IntAttr(7))
    with pytest.raises(PassError) as err:
        check_legal(module, sparse.Sparse.name, "sparse-lower")
    text = str(err.value.to_compile_error())
    assert text.startswith("prog.cn:2:7: error: internal error: 'sparse.nnz' is left after sparse-lower")
    assert "b = nnz(B)" in text
