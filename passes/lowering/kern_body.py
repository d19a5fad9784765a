"""Builds the body of one ``kern.kernel`` from a fused ``graph.map`` (used by graph-to-kern).

The map's body is cloned op by op; graph ops become index arithmetic and
``memref`` accesses, everything else (arith/math/vector/scf) is kept as it is;
a ``graph`` op without a handler is an error, never copied into a kernel.

Values the body reads from outside — images, uniforms — become bindings, except
constants, which are cloned in so backends can fold them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from xdsl.dialects import arith, math, memref, vector
from xdsl.dialects.builtin import DYNAMIC_INDEX, MemRefType, TensorType, VectorType, f32, i32
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue

from ccomp.diagnostics import PassError
from ccomp.dialects import graph, kern
from ccomp.passes.lowering.builder import IRBuilder
from ccomp.passes.lowering.histogram import BINS, count
from ccomp.passes.lowering.legality import keep


def image_memref(t: graph.AnyImageType) -> MemRefType:
    """``!graph.image<T>`` as the buffer type ``memref<?x?xT>`` (indexed ``[y, x]``), a
    volume as ``memref<?x?x?xT>`` (indexed ``[z, y, x]``)."""
    return MemRefType(t.element, [DYNAMIC_INDEX] * graph.rank_of(t))


def convert_type(t: Attribute) -> Attribute:
    """An L1 type as the host schedule holds it: images and histograms become buffers."""
    if isinstance(t, TensorType) and t.element_type == i32 and t.get_num_dims() == 1:
        return BINS
    return image_memref(t) if isinstance(t, graph.AnyImageType) else t


def is_constant(v: SSAValue) -> bool:
    """True for values computed from constants alone (splats and vectors of literals),
    which are cloned into kernels rather than passed as uniforms."""
    owner = v.owner
    if isinstance(owner, arith.ConstantOp):
        return True
    if isinstance(owner, (vector.BroadcastOp, vector.InsertOp, vector.ExtractOp, vector.ShuffleOp)):
        return all(is_constant(o) for o in owner.operands)
    return False


def clone_constant(v: SSAValue, mapping: dict[SSAValue, SSAValue], b: IRBuilder) -> SSAValue:
    """Clone the constant tree computing ``v`` into the current kernel (memoised)."""
    if v not in mapping:
        for o in v.owner.operands:
            clone_constant(o, mapping, b)
        mapping[v] = b.add(v.owner.clone(value_mapper=mapping))
    return mapping[v]


def outer_values(op: graph.MapOp) -> list[SSAValue]:
    """Values used in the map body but defined outside it, in first-use order."""
    inside: set[SSAValue] = set()
    seen: list[SSAValue] = []
    for inner in op.body.walk():
        for r in inner.results:
            inside.add(r)
        for region in inner.regions:
            for b in region.blocks:
                inside.update(b.args)
    inside.update(op.body.block.args)
    for inner in op.body.walk():
        for v in inner.operands:
            if v not in inside and v not in seen:
                seen.append(v)
    return seen


class KernelBodyBuilder:
    """Creates one kernel computing one or more sinks of the same extent.

    ``parts`` are the fused maps in order, each flagged whether its sink is the
    (single) reduction; every other part's element is stored to an output buffer.
    ``bindings`` lists the L1 values to launch with; the output buffers follow them.
    With ``bins``, the single part is a histogram's: instead of an output image the
    kernel binds ``lo``, ``hi``, ``step`` (f32) and the counters, and counts each
    element into its bin (:mod:`ccomp.passes.lowering.histogram`)."""

    def __init__(self, name: str, parts: list[tuple[graph.MapOp, bool]], extent_image: SSAValue | None,
                 reduce: str | None, loc_from: Operation, bins: int | None = None):
        self.parts, self.extent_image, self.reduce, self.bins = parts, extent_image, reduce, bins
        self.loc = loc_from.location
        self.bindings: list[SSAValue] = []
        for fused, _ in parts:
            for v in [*fused.inputs, *outer_values(fused)]:
                if not is_constant(v) and v not in self.bindings:
                    self.bindings.append(v)
        types = [convert_type(v.type) for v in self.bindings]
        if bins is None:
            types += [image_memref(graph.image_type(m.result.type.element, graph.rank_of(m.result.type))) for m, is_reduce in parts if not is_reduce]
        else:
            types += [f32, f32, f32, BINS]
        self.block = Block(arg_types=types)
        self.args = dict(zip(self.bindings, self.block.args))
        self.outputs = list(self.block.args[len(self.bindings):])
        self.mapping: dict[SSAValue, SSAValue] = {}
        self.dims: dict[SSAValue, tuple[SSAValue, ...]] = {}
        self.rank = graph.rank_of(parts[0][0].result.type)
        self.name = name
        self.b = IRBuilder.at_end(self.block, self.loc)

    # ----- small builders ------------------------------------------------------

    def dims_of(self, buf: SSAValue) -> tuple[SSAValue, ...]:
        """(width, height[, depth]) of a buffer binding, as index values (x first,
        while the buffer's dimensions run the other way)."""
        if buf not in self.dims:
            rank = buf.type.get_num_dims()
            outer_first = [self.b.add(memref.DimOp(buf, self.b.index(d))) for d in range(rank)]
            self.dims[buf] = tuple(reversed(outer_first))
        return self.dims[buf]

    def clamp(self, i32_value: SSAValue, size: SSAValue) -> SSAValue:
        i = self.b.to_index(i32_value)
        hi = self.b.subi(size, self.b.index(1))
        return self.b.mini(self.b.maxi(i, self.b.index(0)), hi)

    def load_clamped(self, image: SSAValue, *coords: SSAValue) -> SSAValue:
        """Read ``image`` at (x, y[, z]) clamped to its edge."""
        buf = self.args[image]
        sizes = self.dims_of(buf)
        return self.b.add(memref.LoadOp.get(buf, [self.clamp(c, n) for c, n in reversed(list(zip(coords, sizes)))]))

    # ----- the body ---------------------------------------------------------------

    def build(self) -> kern.KernelOp:
        self.index = [self.b.add(kern.IndexOp(d)) for d in range(self.rank)]
        self.xi, self.yi = self.index[0], self.index[1]
        here = list(reversed(self.index))  # buffer order: [y, x] or [z, y, x]
        self.coords: list[SSAValue] | None = None
        self.loaded: dict[SSAValue, SSAValue] = {}  # image -> its element here, shared by parts
        reduced: list[SSAValue] = []
        outputs = iter(self.outputs)
        done: set[graph.MapOp] = set()
        for fused, is_reduce in self.parts:
            if fused in done:  # a map shared by two sinks (graph-schedule): computed once
                self.finish(fused, is_reduce, reduced, outputs)
                continue
            done.add(fused)
            for arg, image in zip(fused.body.block.args, fused.inputs):
                if image not in self.loaded:
                    if image is self.extent_image:
                        self.loaded[image] = self.b.add(memref.LoadOp.get(self.args[image], here))
                    else:
                        self.loaded[image] = self.load_clamped(image, *(self.coord(d) for d in range(self.rank)))
                self.mapping[arg] = self.loaded[image]
            for v in outer_values(fused):
                if is_constant(v):
                    clone_constant(v, self.mapping, self.b)

                else:
                    self.mapping[v] = self.args[v]
            for op in fused.body.block.ops:
                if isinstance(op, graph.YieldOp):
                    self.finish(fused, is_reduce, reduced, outputs)
                else:
                    self.lower(op)
        self.b.add(kern.YieldOp(reduced))
        return kern.KernelOp(self.name, self.rank, Region(self.block), self.reduce)

    def finish(self, fused: graph.MapOp, is_reduce: bool, reduced: list[SSAValue], outputs) -> None:
        """Store a part's element to its output, or keep it as the reduced value."""
        value = self.mapping[fused.body.block.last_op.value]
        if is_reduce:
            reduced.append(value)
        elif self.bins is not None:
            lo, hi, step, counters = self.outputs
            count(self.b, value, lo, hi, step, self.bins, counters)
        else:
            self.b.add(memref.StoreOp.get(value, next(outputs), list(reversed(self.index))))

    def coord(self, dim: int) -> SSAValue:
        if self.coords is None:
            self.coords = [self.b.add(arith.IndexCastOp(i, i32)) for i in self.index]
        return self.coords[dim]

    def lower(self, op: Operation) -> None:
        """One op of a map body: through ``HANDLERS`` (keyed on op classes), or kept as
        it is — unless it is a ``graph`` op no handler lowers."""
        handler = self.HANDLERS.get(type(op))
        if handler is not None:
            self.mapping[op.results[0]] = handler(self, op)
        else:
            self.b.add(keep(op, self.mapping, graph.Graph.name, "graph-to-kern"))

    def lower_coord(self, op: graph.CoordOp) -> SSAValue:
        return self.coord(op.dim.value.data)

    def lower_load(self, op: graph.LoadOp) -> SSAValue:
        coords = [op.x, op.y] if op.z is None else [op.x, op.y, op.z]
        return self.load_clamped(op.image, *(self.mapping[c] for c in coords))

    def lower_sample(self, op: graph.SampleOp) -> SSAValue:
        return self.sample(op.image, self.mapping[op.uv], op.result.type)

    def lower_size(self, op: graph.SizeOp) -> SSAValue:
        sizes = [self.b.add(arith.IndexCastOp(n, i32)) for n in self.dims_of(self.args[op.image])]
        v = self.b.add(vector.BroadcastOp(sizes[0], op.result.type))
        for lane, n in enumerate(sizes[1:], 1):
            v = self.b.add(insert_lane(n, v, lane))
        return v


    def sample(self, image: SSAValue, uv: SSAValue, elem: Attribute) -> SSAValue:
        """Bilinear, clamp-to-edge, texel centres at (i + 0.5) / size; of a volume,
        trilinear: the bilinear blend on slices z0 and z1, then blended along z (the
        reference's order, ``images.sample``)."""
        coords = []
        for lane, size in enumerate(self.dims_of(self.args[image])):
            s = self.b.add(extract_lane(uv, lane))
            sf = self.b.add(arith.SIToFPOp(self.b.add(arith.IndexCastOp(size, i32)), f32))
            p = self.b.add(arith.SubfOp(self.b.add(arith.MulfOp(s, sf)), self.b.f32(0.5)))
            p0 = self.b.add(math.FloorOp(p))
            frac = self.b.add(arith.SubfOp(p, p0))
            i0 = self.b.add(arith.FPToSIOp(p0, i32))
            i1 = self.b.add(arith.AddiOp(i0, self.b.i32(1)))
            coords.append((i0, i1, frac))
        (x0, x1, fx), (y0, y1, fy) = coords[:2]

        def plane(*z: SSAValue) -> SSAValue:
            a, b = self.load_clamped(image, x0, y0, *z), self.load_clamped(image, x1, y0, *z)
            c, d = self.load_clamped(image, x0, y1, *z), self.load_clamped(image, x1, y1, *z)
            top = self.lerp(a, b, fx, elem)
            bottom = self.lerp(c, d, fx, elem)
            return self.lerp(top, bottom, fy, elem)

        if len(coords) == 2:
            return plane()
        z0, z1, fz = coords[2]
        return self.lerp(plane(z0), plane(z1), fz, elem)

    def lerp(self, a: SSAValue, b: SSAValue, t: SSAValue, elem: Attribute) -> SSAValue:
        one_minus = self.b.add(arith.SubfOp(self.b.f32(1.0), t))
        if isinstance(elem, VectorType):
            t = self.b.add(vector.BroadcastOp(t, elem))
            one_minus = self.b.add(vector.BroadcastOp(one_minus, elem))
        return self.b.add(arith.AddfOp(self.b.add(arith.MulfOp(a, one_minus)), self.b.add(arith.MulfOp(b, t))))

    HANDLERS: ClassVar[dict[type[Operation], Callable[[KernelBodyBuilder, Any], SSAValue]]] = {
        graph.CoordOp: lower_coord,
        graph.LoadOp: lower_load,
        graph.SampleOp: lower_sample,
        graph.SizeOp: lower_size,
    }


def extract_lane(v: SSAValue, lane: int) -> Operation:
    from xdsl.dialects.builtin import DenseArrayBase, i64
    if not isinstance(v.type, VectorType):
        raise PassError(v.owner, f"a lane of a {v.type}, which is not a vector", internal=True)

    return vector.ExtractOp.create(operands=[v], result_types=[v.type.element_type],
                                   properties={"static_position": DenseArrayBase.from_list(i64, [lane])})


def insert_lane(s: SSAValue, v: SSAValue, lane: int) -> Operation:
    from xdsl.dialects.builtin import DenseArrayBase, i64
    return vector.InsertOp.create(operands=[s, v], result_types=[v.type],
                                  properties={"static_position": DenseArrayBase.from_list(i64, [lane])})
