"""``graph-to-kern``: lower fused L1 graphs to L2 kernels and a host schedule.

Expects ``graph-fuse`` to have run: every ``graph.capture``/``graph.reduce`` consumes
one ``graph.map`` over images. Each such sink becomes one ``kern.kernel`` over the
sink's 2-D extent (built by :mod:`ccomp.passes.lowering.kern_body`) and one ``kern.launch``
in the host function, which keeps the L1 function's name and signature with
images as ``memref<?x?xT>``:

- ``graph.size`` becomes two ``memref.dim``s packed into ``vector<2xi32>``;
- a capture allocates its result with ``memref.alloc`` and launches a kernel that
  stores into it; a reduce launches a ``reduce`` kernel whose result is the value;
  a histogram checks its range (``kern.check``), zeroes ``memref<?xi32>`` counters
  and launches a kernel that adds to them with ``kern.atomic_add``;
  ``mean`` is an ``add`` reduction divided by the element count on the host;
- uniform code (scalar ``arith``/``math``/``vector`` ops) stays in the host function.

No ``graph`` op is left afterwards (a located internal error otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from xdsl.context import Context
from xdsl.dialects import arith, func, memref, vector
from xdsl.dialects.builtin import IndexType, IntegerType, ModuleOp, VectorType, i32
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass

from ccomp.diagnostics import PassError
from ccomp.dialects import graph, kern, loop
from ccomp.passes.lowering.builder import IRBuilder
from ccomp.passes.lowering.functions import KernelNames, OpTable, lower_functions
from ccomp.passes.lowering.histogram import BINS, host_range, zero_kernel
from ccomp.passes.lowering.kern_body import KernelBodyBuilder, extract_lane, insert_lane, convert_type, image_memref


class HostLowering(OpTable):
    """Rewrites one L1 function into a host function plus kernels. Ops go through
    ``HANDLERS`` (:class:`~ccomp.passes.lowering.functions.OpTable`); uniform
    ``arith``/``math``/``vector`` code is kept in the host function."""

    DIALECT = graph.Graph.name
    PASS = "graph-to-kern"

    def __init__(self, fn: func.FuncOp, names: KernelNames):
        self.fn, self.names = fn, names
        self.kernels: list[kern.KernelOp] = []
        self.mapping: dict[SSAValue, SSAValue] = {}
        self.dims: dict[SSAValue, tuple[SSAValue, ...]] = {}  # L1 image -> (w, h[, d]) index
        self.extents: dict[SSAValue, tuple[tuple[SSAValue, ...], SSAValue | None]] = {}  # size -> (dims, image)

    def lower(self) -> func.FuncOp:
        old = self.fn.body.block
        arg_types = [convert_type(a.type) for a in old.args]
        self.block = Block(arg_types=arg_types)
        for o, n in zip(old.args, self.block.args):
            self.mapping[o] = n
            n.name_hint = o.name_hint
        for op in old.ops:
            self.lower_op(op, IRBuilder.at_end(self.block, op.location))
        results = [convert_type(t) for t in self.fn.function_type.outputs]
        new = func.FuncOp(self.fn.sym_name.data, (arg_types, results), Region(self.block),
                          arg_attrs=self.fn.arg_attrs, res_attrs=self.fn.res_attrs)
        new.attributes.update(self.fn.attributes)
        new.location = self.fn.location
        return new

    def image_dims(self, image: SSAValue, b: IRBuilder) -> tuple[SSAValue, ...]:
        """(w, h[, d]) of an image or volume as index values, x first."""
        if image not in self.dims:
            buf = self.mapping[image]
            consts = [b.index(d) for d in range(graph.rank_of(image.type))]
            self.dims[image] = tuple(reversed([b.add(memref.DimOp(buf, c)) for c in consts]))
        return self.dims[image]

    def extent(self, size: SSAValue, b: IRBuilder) -> tuple[tuple[SSAValue, ...], SSAValue | None]:
        """(w, h[, d]) as index for a size value, and the image it is the size of, if any."""
        if size in self.extents:
            return self.extents[size]
        s = self.mapping[size]
        lanes = size.type.get_shape()[0]
        return (tuple(b.add(arith.IndexCastOp(b.add(extract_lane(s, d)), IndexType())) for d in range(lanes)), None)

    def lower_size(self, op: graph.SizeOp, b: IRBuilder) -> None:
        dims = self.image_dims(op.image, b)
        sizes = [b.add(arith.IndexCastOp(n, i32)) for n in dims]
        v = b.add(vector.BroadcastOp(sizes[0], op.result.type))
        for lane, n in enumerate(sizes[1:], 1):
            v = b.add(insert_lane(n, v, lane))
        self.mapping[op.result] = v
        self.extents[op.result] = (dims, op.image)

    def lower_map(self, op: graph.MapOp, b: IRBuilder) -> None:
        """Nothing here: the kernel of the sink that consumes the map computes it."""

    def unfused(self, op: Operation, b: IRBuilder) -> None:
        raise PassError(op, f"graph-to-kern needs graph-fuse to run first ('{op.name}' is not fused)",
                        internal=True)

    def lower_return(self, op: func.ReturnOp, b: IRBuilder) -> None:
        b.add(func.ReturnOp(*[self.mapping[v] for v in op.operands]))

    def lower_yield(self, op: loop.YieldOp, b: IRBuilder) -> None:
        b.add(loop.YieldOp([self.mapping[v] for v in op.values]))

    def lower_repeat(self, op: loop.RepeatOp, b: IRBuilder) -> None:
        """The zone keeps its shape, with buffers as state; ``loop-pingpong`` makes it a
        host loop. Extents computed inside the body stay inside it."""
        old = op.body.block
        body = Block(arg_types=[convert_type(a.type) for a in old.args])
        for o, n in zip(old.args, body.args):
            self.mapping[o] = n
            n.name_hint = o.name_hint
        outer, dims, extents = self.block, dict(self.dims), dict(self.extents)
        self.block = body
        for inner in old.ops:
            self.lower_op(inner, IRBuilder.at_end(self.block, inner.location))

        self.block, self.dims, self.extents = outer, dims, extents
        new = loop.RepeatOp(self.mapping[op.count], [self.mapping[v] for v in op.inits], Region(body),
                            [convert_type(r.type) for r in op.res])
        b.add(new)
        for o, n in zip(op.res, new.res):
            self.mapping[o] = n

    def lower_sink(self, op: graph.CaptureOp | graph.ReduceOp, b: IRBuilder) -> None:
        """Lower a sink's ``group`` (from graph-schedule; alone without one)
        when its last member is reached, so every operand of the group is available."""
        group = op.group
        members = [op] if group is None else [
            o for o in op.parent_block().ops
            if isinstance(o, (graph.CaptureOp, graph.ReduceOp)) and o.group == group]
        if members[-1] is not op:
            return
        for m in members:
            if not isinstance(m.operands[0].owner, graph.MapOp):
                self.unfused(m, b)
        dims, image = self.extent(members[0].size, b)
        reduces = [m for m in members if isinstance(m, graph.ReduceOp)]
        reduce = None if not reduces else ("add" if reduces[0].kind.data == "mean" else reduces[0].kind.data)
        name = self.names.fresh(self.fn.sym_name.data, len(self.kernels))
        parts = [(m.operands[0].owner, isinstance(m, graph.ReduceOp)) for m in members]
        builder = KernelBodyBuilder(name, parts, image, reduce, op)
        self.kernels.append(builder.build())
        args = [self.mapping[v] for v in builder.bindings]
        outs = []
        for m in members:
            if isinstance(m, graph.CaptureOp):
                out_type = image_memref(m.result.type)
                out = b.located(m.location).add(memref.AllocOp(list(reversed(dims)), [], out_type))
                self.mapping[m.result] = out
                outs.append(out)
        result_types = [reduces[0].result.type] if reduces else []
        launch = kern.LaunchOp(name, list(dims), args + outs, result_types)
        value = b.add(launch)
        if not reduces:
            return
        red = reduces[0]
        if red.kind.data == "mean":
            r = b.located(red.location)
            total = dims[0]
            for n in dims[1:]:
                total = r.muli(total, n)
            count = r.add(arith.IndexCastOp(total, i32))
            elem = red.result.type
            scalar = elem.element_type if isinstance(elem, VectorType) else elem
            if scalar == i32:  # an integer mean truncates toward zero, like integer division
                div, count_e = arith.DivSIOp, count
            elif isinstance(scalar, IntegerType):  # i64: the count as wide as the sum
                div, count_e = arith.DivSIOp, r.add(arith.ExtSIOp(count, scalar))
            else:  # f32 or f64
                div, count_e = arith.DivfOp, r.add(arith.SIToFPOp(count, scalar))
            if isinstance(elem, VectorType):
                count_e = r.add(vector.BroadcastOp(count_e, elem))
            value = r.add(div(value, count_e))
        self.mapping[red.result] = value

    def lower_histogram(self, op: graph.HistogramOp, b: IRBuilder) -> None:
        """Check and widen the range on the host, zero the counters (a kernel: the pool
        recycles buffers), then count in a kernel of its own over the field's extent."""
        if not isinstance(op.input.owner, graph.MapOp):
            self.unfused(op, b)
        dims, image = self.extent(op.size, b)
        r = b.located(op.location)
        bins = op.bins.value.data
        lo, hi, step = host_range(r, self.mapping[op.lo], self.mapping[op.hi], bins)
        n = r.index(bins)
        counters = r.add(memref.AllocOp([n], [], BINS))
        zero = self.names.fresh(self.fn.sym_name.data, len(self.kernels))
        self.kernels.append(zero_kernel(zero, op.location))
        r.add(kern.LaunchOp(zero, [n], [counters]))
        name = self.names.fresh(self.fn.sym_name.data, len(self.kernels))
        builder = KernelBodyBuilder(name, [(op.input.owner, False)], image, None, op, bins=bins)
        self.kernels.append(builder.build())
        r.add(kern.LaunchOp(name, list(dims), [self.mapping[v] for v in builder.bindings] + [lo, hi, step, counters]))
        self.mapping[op.result] = counters

    HANDLERS: ClassVar[dict[type[Operation], Callable[[HostLowering, Any, IRBuilder], None]]] = {
        graph.SizeOp: lower_size,
        graph.MapOp: lower_map,
        graph.CaptureOp: lower_sink,
        graph.ReduceOp: lower_sink,
        graph.HistogramOp: lower_histogram,
        graph.BlurOp: unfused,
        func.ReturnOp: lower_return,
        loop.RepeatOp: lower_repeat,
        loop.YieldOp: lower_yield,
    }


@dataclass(frozen=True)
class GraphToKernPass(ModulePass):
    """Lower every L1 graph function to kernels plus a host schedule (see module docstring)."""


    name = "graph-to-kern"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        lower_functions(op, HostLowering, is_graph, graph.Graph.name, self.name)


def is_graph(fn: func.FuncOp) -> bool:
    """A function over images, or one that computes sizes or sinks."""
    return any(isinstance(t, graph.AnyImageType) for t in fn.function_type.inputs) or any(
        isinstance(o, (*graph.SINKS, graph.SizeOp)) for o in fn.body.block.ops)

