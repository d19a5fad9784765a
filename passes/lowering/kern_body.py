"""Builds the body of one ``kern.kernel`` from a fused ``graph.map`` (used by graph-to-kern).

The map's body is cloned op by op; graph ops become index arithmetic and
``memref`` accesses, everything else (arith/math/vector/scf) is kept as it is.
Values the body reads from outside — images, uniforms — become bindings, except
constants, which are cloned in so backends can fold them.
"""

from __future__ import annotations

from xdsl.dialects import arith, math, memref, vector
from xdsl.dialects.builtin import DYNAMIC_INDEX, FloatAttr, IndexType, IntegerAttr, MemRefType, VectorType, f32, i32
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue

from ccomp.dialects import graph, kern

_INDEX = IndexType()


def image_memref(t: graph.ImageType) -> MemRefType:
    """``!graph.image<T>`` as the buffer type ``memref<?x?xT>``."""
    return MemRefType(t.element, [DYNAMIC_INDEX, DYNAMIC_INDEX])


def convert_type(t: Attribute) -> Attribute:
    return image_memref(t) if isinstance(t, graph.ImageType) else t


def is_constant(v: SSAValue) -> bool:
    """True for values computed from constants alone (splats and vectors of literals),
    which are cloned into kernels rather than passed as uniforms."""
    owner = v.owner
    if isinstance(owner, arith.ConstantOp):
        return True
    if isinstance(owner, (vector.BroadcastOp, vector.InsertOp, vector.ExtractOp, vector.ShuffleOp)):
        return all(is_constant(o) for o in owner.operands)
    return False


def clone_constant(v: SSAValue, mapping: dict[SSAValue, SSAValue], add) -> SSAValue:
    """Clone the constant tree computing ``v`` into the current kernel (memoised)."""
    if v not in mapping:
        for o in v.owner.operands:
            clone_constant(o, mapping, add)
        mapping[v] = add(v.owner.clone(value_mapper=mapping))
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
    ``bindings`` lists the L1 values to launch with; the output buffers follow them."""

    def __init__(self, name: str, parts: list[tuple[graph.MapOp, bool]], extent_image: SSAValue | None,
                 reduce: str | None, loc_from: Operation):
        self.parts, self.extent_image, self.reduce = parts, extent_image, reduce
        self.loc = loc_from.location
        self.bindings: list[SSAValue] = []
        for fused, _ in parts:
            for v in [*fused.inputs, *outer_values(fused)]:
                if not is_constant(v) and v not in self.bindings:
                    self.bindings.append(v)
        types = [convert_type(v.type) for v in self.bindings]
        types += [image_memref(graph.ImageType(m.result.type.element)) for m, is_reduce in parts if not is_reduce]
        self.block = Block(arg_types=types)
        self.args = dict(zip(self.bindings, self.block.args))
        self.outputs = list(self.block.args[len(self.bindings):])
        self.mapping: dict[SSAValue, SSAValue] = {}
        self.dims: dict[SSAValue, tuple[SSAValue, SSAValue]] = {}
        self.name = name

    # ----- small builders ------------------------------------------------------

    def add(self, op: Operation) -> SSAValue:
        op.location = self.loc
        self.block.add_op(op)
        return op.results[0] if op.results else None  # type: ignore[return-value]

    def c_index(self, v: int) -> SSAValue:
        return self.add(arith.ConstantOp(IntegerAttr(v, _INDEX)))

    def c_f32(self, v: float) -> SSAValue:
        return self.add(arith.ConstantOp(FloatAttr(v, f32)))

    def dims_of(self, buf: SSAValue) -> tuple[SSAValue, SSAValue]:
        """(width, height) of a buffer binding, as index values."""
        if buf not in self.dims:
            h = self.add(memref.DimOp(buf, self.c_index(0)))
            w = self.add(memref.DimOp(buf, self.c_index(1)))
            self.dims[buf] = (w, h)
        return self.dims[buf]

    def clamp(self, i32_value: SSAValue, size: SSAValue) -> SSAValue:
        i = self.add(arith.IndexCastOp(i32_value, _INDEX))
        hi = self.add(arith.SubiOp(size, self.c_index(1)))
        return self.add(arith.MinSIOp(self.add(arith.MaxSIOp(i, self.c_index(0))), hi))

    def load_clamped(self, image: SSAValue, x: SSAValue, y: SSAValue) -> SSAValue:
        buf = self.args[image]
        w, h = self.dims_of(buf)
        return self.add(memref.LoadOp.get(buf, [self.clamp(y, h), self.clamp(x, w)]))

    # ----- the body ---------------------------------------------------------------

    def build(self) -> kern.KernelOp:
        self.xi = self.add(kern.IndexOp(0))
        self.yi = self.add(kern.IndexOp(1))
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
                        self.loaded[image] = self.add(memref.LoadOp.get(self.args[image], [self.yi, self.xi]))
                    else:
                        self.loaded[image] = self.load_clamped(image, self.coord(0), self.coord(1))
                self.mapping[arg] = self.loaded[image]
            for v in outer_values(fused):
                if is_constant(v):
                    clone_constant(v, self.mapping, self.add)
                else:
                    self.mapping[v] = self.args[v]
            for op in fused.body.block.ops:
                if isinstance(op, graph.YieldOp):
                    self.finish(fused, is_reduce, reduced, outputs)
                else:
                    self.lower(op)
        self.add(kern.YieldOp(reduced))
        return kern.KernelOp(self.name, 2, Region(self.block), self.reduce)

    def finish(self, fused: graph.MapOp, is_reduce: bool, reduced: list[SSAValue], outputs) -> None:
        """Store a part's element to its output, or keep it as the reduced value."""
        value = self.mapping[fused.body.block.last_op.value]
        if is_reduce:
            reduced.append(value)
        else:
            self.add(memref.StoreOp.get(value, next(outputs), [self.yi, self.xi]))

    def coord(self, dim: int) -> SSAValue:
        if self.coords is None:
            self.coords = [self.add(arith.IndexCastOp(self.xi, i32)), self.add(arith.IndexCastOp(self.yi, i32))]
        return self.coords[dim]

    def lower(self, op: Operation) -> None:
        m = self.mapping
        if isinstance(op, graph.CoordOp):
            m[op.result] = self.coord(op.dim.value.data)
        elif isinstance(op, graph.LoadOp):
            m[op.result] = self.load_clamped(op.image, m[op.x], m[op.y])
        elif isinstance(op, graph.SampleOp):
            m[op.result] = self.sample(op.image, m[op.uv], op.result.type)
        elif isinstance(op, graph.SizeOp):
            w, h = self.dims_of(self.args[op.image])
            wi, hi = self.add(arith.IndexCastOp(w, i32)), self.add(arith.IndexCastOp(h, i32))
            v = self.add(vector.BroadcastOp(wi, graph.SIZE_TYPE))
            m[op.result] = self.add(insert_lane(hi, v, 1))
        else:
            clone = op.clone(value_mapper=m)
            self.add(clone)
            for o, n in zip(op.results, clone.results):
                m[o] = n

    def sample(self, image: SSAValue, uv: SSAValue, elem: Attribute) -> SSAValue:
        """Bilinear, clamp-to-edge, texel centres at (i + 0.5) / size."""
        w, h = self.dims_of(self.args[image])
        coords = []
        for lane, size in ((0, w), (1, h)):
            s = self.add(extract_lane(uv, lane))
            sf = self.add(arith.SIToFPOp(self.add(arith.IndexCastOp(size, i32)), f32))
            p = self.add(arith.SubfOp(self.add(arith.MulfOp(s, sf)), self.c_f32(0.5)))
            p0 = self.add(math.FloorOp(p))
            frac = self.add(arith.SubfOp(p, p0))
            i0 = self.add(arith.FPToSIOp(p0, i32))
            i1 = self.add(arith.AddiOp(i0, self.add(arith.ConstantOp(IntegerAttr(1, i32)))))
            coords.append((i0, i1, frac))
        (x0, x1, fx), (y0, y1, fy) = coords
        a, b = self.load_clamped(image, x0, y0), self.load_clamped(image, x1, y0)
        c, d = self.load_clamped(image, x0, y1), self.load_clamped(image, x1, y1)
        top = self.lerp(a, b, fx, elem)
        bottom = self.lerp(c, d, fx, elem)
        return self.lerp(top, bottom, fy, elem)

    def lerp(self, a: SSAValue, b: SSAValue, t: SSAValue, elem: Attribute) -> SSAValue:
        one_minus = self.add(arith.SubfOp(self.c_f32(1.0), t))
        if isinstance(elem, VectorType):
            t = self.add(vector.BroadcastOp(t, elem))
            one_minus = self.add(vector.BroadcastOp(one_minus, elem))
        return self.add(arith.AddfOp(self.add(arith.MulfOp(a, one_minus)), self.add(arith.MulfOp(b, t))))


def extract_lane(v: SSAValue, lane: int) -> Operation:
    from xdsl.dialects.builtin import DenseArrayBase, i64
    assert isinstance(v.type, VectorType)
    return vector.ExtractOp.create(operands=[v], result_types=[v.type.element_type],
                                   properties={"static_position": DenseArrayBase.from_list(i64, [lane])})


def insert_lane(s: SSAValue, v: SSAValue, lane: int) -> Operation:
    from xdsl.dialects.builtin import DenseArrayBase, i64
    return vector.InsertOp.create(operands=[s, v], result_types=[v.type],
                                  properties={"static_position": DenseArrayBase.from_list(i64, [lane])})
