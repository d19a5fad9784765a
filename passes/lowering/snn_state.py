"""The state ``snn-lower`` allocates before a network's time loop: per-population
buffers (spike flags, membranes, refractory countdowns, input rings, counts, first
spikes, recordings, spike lists) and the connections' weights (initialised, or copied
where STDP will write them: an input is never written). A mixin of
:class:`ccomp.passes.snn_lower.NetworkLowering`."""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects import arith, memref
from xdsl.dialects.builtin import IntegerAttr, f32, i32, i64
from xdsl.ir import Operation, SSAValue

from ccomp.dialects import snn
from ccomp.passes.lowering import snn_delivery as dl
from ccomp.passes.lowering import snn_kernels as sk
from ccomp.passes.lowering.builder import IRBuilder
from ccomp.passes.lowering.sparse_values import Matrix


@dataclass
class Population:
    """A population's buffers. A LIF layer keeps its state in two packed buffers (each
    allocation is a call back into the runtime, most of a short call's cost): ``reals``
    is the input ring (``slots`` parts of B·N), the membrane (part ``slots``; part 0
    for a layer without a ring), then the scratch sums of by-rows delivery into it
    (:func:`~.snn_delivery.rows_kernel`) where it has one, ``ints`` the parts named by ``ints_at`` (spike flags
    first, where something reads them: deliveries and STDP read them at offset 0)."""

    op: Operation
    n: int
    spk: SSAValue | None
    count: SSAValue | None = None
    first: SSAValue | None = None
    rec: SSAValue | None = None
    lst: SSAValue | None = None  # spike list and its per-batch length (event/csr delivery)
    lst_n: SSAValue | None = None
    reals: SSAValue | None = None  # LIF: [ring slots..., v]
    v_at: int = 0  # LIF: the part of ``reals`` holding the membrane
    ints: SSAValue | None = None  # LIF: the parts ``ints_at`` names, in that order
    ints_at: tuple[str, ...] = ()

    def part(self, name: str) -> tuple[SSAValue, int]:
        """``(buffer, part)``: where ``name`` (``v``, ``cd``, ``first``, ``count``) lives,
        at element ``part·B·N``."""
        if name == "v":
            return self.reals, self.v_at
        if name in self.ints_at:
            return self.ints, self.ints_at.index(name)
        return getattr(self, name), 0


class State:
    """Allocation and initial values; needs ``kernel``, ``launch``, ``batch``, ``steps``,
    ``batched`` and ``mapping`` from the lowering."""

    def _alloc(self, b: IRBuilder, t, *sizes: SSAValue) -> SSAValue:
        return b.add(memref.AllocOp(list(sizes), [], t))

    def _fill(self, b: IRBuilder, buf: SSAValue, size: SSAValue, value: SSAValue) -> None:
        elem = value.type
        name = self.kernel(("fill", str(elem)), lambda n: sk.fill_kernel(n, elem, b.location))
        self.launch(b, name, [size], [buf, value])

    def _zeros(self, b: IRBuilder, t, size: SSAValue, value: float | int = 0) -> SSAValue:
        buf = self._alloc(b, t, size)
        self._fill(b, buf, size, b.f32(float(value)) if t.element_type == f32 else b.i32(int(value)))
        return buf

    def _packed(self, b: IRBuilder, t, parts: int, bn: SSAValue, zeros: int, value: float | int) -> SSAValue:
        """One buffer of ``parts`` parts of ``bn`` elements: the first ``zeros`` parts 0,
        the others ``value``, filled by one launch."""
        buf = self._alloc(b, t, b.muli(bn, b.index(parts)))
        elem = t.element_type
        name = self.kernel(("split_fill", str(elem)), lambda n: sk.split_fill_kernel(n, elem, b.location))
        lo, hi = (b.f32(0.0), b.f32(float(value))) if elem == f32 else (b.i32(0), b.i32(int(value)))
        self.launch(b, name, [b.muli(bn, b.index(parts))], [buf, b.to_i32(b.muli(bn, b.index(zeros))), lo, hi])
        return buf

    def _population(self, b: IRBuilder, o: Operation, kinds: set[str], listed: bool,
                    slots: dict[SSAValue, int], isolated: bool = False) -> Population:
        n = snn.population_size(o.result)
        bn = b.muli(self.batch, b.index(n))
        if isinstance(o, snn.LifOp):
            counted = isolated or kinds & {"spike_count", "rate"}  # what the membrane kernel updates
            ints = (("spk",) if o.result in self.sending else ()) + ("cd",)
            ints += ("first",) if isolated or "first_spike" in kinds else ()
            p = Population(o, n, None, ints_at=ints)
            p.ints = self._packed(b, sk.I1, len(ints), bn, len(ints) - (ints[-1] == "first"), -1)
            p.spk = p.ints if "spk" in ints else None
            p.count = self._zeros(b, sk.I1, bn) if counted else None
            p.v_at = 0 if isolated else slots[o.result]  # an isolated layer reads no ring
            parts = p.v_at + 1 + (o.result in self.summing)  # [ring, v, by-rows scratch sums]
            p.reals = self._packed(b, sk.F1, parts, bn, p.v_at, o.value("v_rest"))
        else:
            p = Population(o, n, self._zeros(b, sk.I1, bn))
            if kinds & {"spike_count", "rate", "first_spike"}:
                p.count, p.first = self._zeros(b, sk.I1, bn), self._zeros(b, sk.I1, bn, -1)
        if "raster" in kinds:
            p.rec = self._zeros(b, sk.I1, b.muli(b.maxi(self.steps, b.index(1)), bn))
        if "trace" in kinds:
            shape = [self.steps, b.index(n)] if not self.batched else [self.batch, self.steps, b.index(n)]
            self.tr = getattr(self, "tr", {})
            self.tr[o.result] = self._alloc(b, sk.memref(f32, len(shape)), *shape)
        if listed:
            p.lst, p.lst_n = self._alloc(b, sk.I1, bn), self._alloc(b, sk.I1, self.batch)
        return p

    def _weights(self, b: IRBuilder, c: snn.ConnectOp, learned: bool) -> object:
        w = c.weights
        if isinstance(w.owner, snn.InitWeightsOp):
            i = w.owner
            rows, cols = (b.index(d) for d in w.type.get_shape())
            buf = self._alloc(b, sk.F2, rows, cols)
            key = ("init", i.kind.data, i.a.value.data, i.b.value.data, i.stream.value.data)
            name = self.kernel(key, lambda n: sk.init_weights_kernel(n, i.kind.data, i.a.value.data, i.b.value.data,
                                                                     i.stream.value.data, i.location))
            seed = self.mapping[c.parent_op().seed]
            k0 = b.add(arith.TruncIOp(seed, i32))
            k1 = b.add(arith.TruncIOp(b.add(arith.ShRUIOp(seed, b.add(arith.ConstantOp(IntegerAttr(32, i64))))), i32))
            self.launch(b, name, [cols, rows], [buf, k0, k1])
            return buf
        got = self.mapping[w]
        if not learned:
            return got
        if isinstance(got, Matrix):
            size = b.dim(got.parts[2], 0)
            data = self._alloc(b, sk.F1, size)
            name = self.kernel(("copy1",), lambda n: dl.copy1_kernel(n, c.location))
            self.launch(b, name, [size], [got.parts[2], data])
            return Matrix(got.fmt, [got.parts[0], got.parts[1], data], got.rows, got.cols, got.nnz)
        rows, cols = b.dim(got, 0), b.dim(got, 1)
        buf = self._alloc(b, sk.F2, rows, cols)
        name = self.kernel(("copy2",), lambda n: dl.copy2_kernel(n, c.location))
        self.launch(b, name, [cols, rows], [got, buf])
        return buf
