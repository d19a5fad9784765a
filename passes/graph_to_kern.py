"""``graph-to-kern``: lower fused L1 graphs to L2 kernels and a host schedule.

Expects ``graph-fuse`` to have run: every ``graph.capture``/``graph.reduce`` consumes
one ``graph.map`` over images. Each such sink becomes one ``kern.kernel`` over the
sink's 2-D extent (built by :mod:`ccomp.passes.lowering.kern_body`) and one ``kern.launch``
in the host function, which keeps the L1 function's name and signature with
images as ``memref<?x?xT>``:

- ``graph.size`` becomes two ``memref.dim``s packed into ``vector<2xi32>``;
- a capture allocates its result with ``memref.alloc`` and launches a kernel that
  stores into it; a reduce launches a ``reduce`` kernel whose result is the value;
  ``mean`` is an ``add`` reduction divided by the element count on the host;
- uniform code (scalar ``arith``/``math``/``vector`` ops) stays in the host function.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, func, memref, vector
from xdsl.dialects.builtin import IndexType, IntegerAttr, ModuleOp, VectorType, f32, i32
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass

from ccomp.dialects import graph, kern, loop
from ccomp.passes.lowering.kern_body import KernelBodyBuilder, extract_lane, insert_lane, convert_type, image_memref


class _HostLowering:
    """Rewrites one L1 function into a host function plus kernels."""

    def __init__(self, fn: func.FuncOp, taken: set[str]):
        self.fn, self.taken = fn, taken
        self.kernels: list[kern.KernelOp] = []
        self.mapping: dict[SSAValue, SSAValue] = {}
        self.dims: dict[SSAValue, tuple[SSAValue, SSAValue]] = {}  # L1 image -> (w, h) index
        self.extents: dict[SSAValue, tuple[SSAValue, SSAValue, SSAValue]] = {}  # size -> (w, h, image)

    def add(self, op: Operation, loc_from: Operation) -> SSAValue:
        op.location = loc_from.location
        self.block.add_op(op)
        return op.results[0] if op.results else None  # type: ignore[return-value]

    def lower(self) -> func.FuncOp:
        old = self.fn.body.block
        arg_types = [convert_type(a.type) for a in old.args]
        self.block = Block(arg_types=arg_types)
        for o, n in zip(old.args, self.block.args):
            self.mapping[o] = n
            n.name_hint = o.name_hint
        for op in old.ops:
            self.lower_op(op)
        results = [convert_type(t) for t in self.fn.function_type.outputs]
        new = func.FuncOp(self.fn.sym_name.data, (arg_types, results), Region(self.block),
                          arg_attrs=self.fn.arg_attrs, res_attrs=self.fn.res_attrs)
        new.attributes.update(self.fn.attributes)
        new.location = self.fn.location
        return new

    def image_dims(self, image: SSAValue, at: Operation) -> tuple[SSAValue, SSAValue]:
        if image not in self.dims:
            buf = self.mapping[image]
            c0 = self.add(arith.ConstantOp(IntegerAttr(0, IndexType())), at)
            c1 = self.add(arith.ConstantOp(IntegerAttr(1, IndexType())), at)
            h = self.add(memref.DimOp(buf, c0), at)
            w = self.add(memref.DimOp(buf, c1), at)
            self.dims[image] = (w, h)
        return self.dims[image]

    def extent(self, size: SSAValue, at: Operation) -> tuple[SSAValue, SSAValue, SSAValue | None]:
        """(w, h) as index for a size value, and the image it is the size of, if any."""
        if size in self.extents:
            return self.extents[size]
        s = self.mapping[size]
        w = self.add(arith.IndexCastOp(self.add(extract_lane(s, 0), at), IndexType()), at)
        h = self.add(arith.IndexCastOp(self.add(extract_lane(s, 1), at), IndexType()), at)
        return (w, h, None)

    def lower_op(self, op: Operation) -> None:
        if isinstance(op, graph.SizeOp):
            w, h = self.image_dims(op.image, op)
            wi = self.add(arith.IndexCastOp(w, i32), op)
            hi = self.add(arith.IndexCastOp(h, i32), op)
            v = self.add(vector.BroadcastOp(wi, graph.SIZE_TYPE), op)
            self.mapping[op.result] = self.add(insert_lane(hi, v, 1), op)
            self.extents[op.result] = (w, h, op.image)
        elif isinstance(op, graph.MapOp):
            return  # materialised by the sink that consumes it
        elif isinstance(op, (graph.CaptureOp, graph.ReduceOp)):
            self.lower_sink(op)
        elif isinstance(op, graph.BlurOp):
            raise AssertionError("graph-to-kern needs graph-fuse to run first")
        elif isinstance(op, func.ReturnOp):
            self.add(func.ReturnOp(*[self.mapping[v] for v in op.operands]), op)
        elif isinstance(op, loop.RepeatOp):
            self.lower_repeat(op)
        elif isinstance(op, loop.YieldOp):
            self.add(loop.YieldOp([self.mapping[v] for v in op.values]), op)
        else:
            clone = op.clone(value_mapper=self.mapping)
            self.add(clone, op)
            for o, n in zip(op.results, clone.results):
                self.mapping[o] = n

    def kernel_name(self) -> str:
        """``<graph>_<n>``, skipping names another symbol of the module has (a graph
        may itself be called ``g_0``)."""
        n = len(self.kernels)
        while f"{self.fn.sym_name.data}_{n}" in self.taken:
            n += 1
        name = f"{self.fn.sym_name.data}_{n}"
        self.taken.add(name)
        return name

    def lower_repeat(self, op: loop.RepeatOp) -> None:
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
            self.lower_op(inner)
        self.block, self.dims, self.extents = outer, dims, extents
        new = loop.RepeatOp(self.mapping[op.count], [self.mapping[v] for v in op.inits], Region(body),
                            [convert_type(r.type) for r in op.res])
        self.add(new, op)
        for o, n in zip(op.res, new.res):
            self.mapping[o] = n

    def lower_sink(self, op: Operation) -> None:
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
                raise AssertionError("graph-to-kern needs graph-fuse to run first")
        w, h, image = self.extent(members[0].size, op)
        reduces = [m for m in members if isinstance(m, graph.ReduceOp)]
        reduce = None if not reduces else ("add" if reduces[0].kind.data == "mean" else reduces[0].kind.data)
        name = self.kernel_name()
        parts = [(m.operands[0].owner, isinstance(m, graph.ReduceOp)) for m in members]
        builder = KernelBodyBuilder(name, parts, image, reduce, op)
        self.kernels.append(builder.build())
        args = [self.mapping[v] for v in builder.bindings]
        outs = []
        for m in members:
            if isinstance(m, graph.CaptureOp):
                out_type = image_memref(m.result.type)
                out = self.add(memref.AllocOp([h, w], [], out_type), m)
                self.mapping[m.result] = out
                outs.append(out)
        result_types = [reduces[0].result.type] if reduces else []
        launch = kern.LaunchOp(name, [w, h], args + outs, result_types)
        value = self.add(launch, op)
        if not reduces:
            return
        red = reduces[0]
        if red.kind.data == "mean":
            count = self.add(arith.IndexCastOp(self.add(arith.MuliOp(w, h), red), i32), red)
            elem = red.result.type
            scalar = elem.element_type if isinstance(elem, VectorType) else elem
            if scalar == i32:  # an integer mean truncates toward zero, like integer division
                div, count_e = arith.DivSIOp, count
            else:
                div, count_e = arith.DivfOp, self.add(arith.SIToFPOp(count, f32), red)
            if isinstance(elem, VectorType):
                count_e = self.add(vector.BroadcastOp(count_e, elem), red)
            value = self.add(div(value, count_e), red)
        self.mapping[red.result] = value


@dataclass(frozen=True)
class GraphToKernPass(ModulePass):
    """Lower every L1 graph function to kernels plus a host schedule."""

    name = "graph-to-kern"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        taken = {o.sym_name.data for o in op.body.block.ops if isinstance(o, (func.FuncOp, kern.KernelOp))}
        for fn in [f for f in op.body.block.ops if isinstance(f, func.FuncOp)]:
            if not any(isinstance(o, (graph.CaptureOp, graph.ReduceOp, graph.SizeOp)) or
                       any(isinstance(t, graph.ImageType) for t in fn.function_type.inputs)
                       for o in fn.body.block.ops):
                continue
            lowering = _HostLowering(fn, taken)
            new = lowering.lower()
            for k in lowering.kernels:
                op.body.block.insert_op_before(k, fn)
            op.body.block.insert_op_before(new, fn)
            op.body.block.erase_op(fn)
