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
    op: Operation
    n: int
    spk: SSAValue
    count: SSAValue | None = None
    first: SSAValue | None = None
    rec: SSAValue | None = None
    lst: SSAValue | None = None  # spike list and its per-batch length (event/csr delivery)
    lst_n: SSAValue | None = None


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

    def _unused(self, b: IRBuilder) -> SSAValue:
        """One small buffer bound where a kernel takes a buffer it never touches (a
        layer's counts when no decoder reads them): each buffer is an allocation, and
        allocations are most of a short call's cost."""
        if getattr(self, "dummy", None) is None:
            self.dummy = self._alloc(b, sk.I1, b.index(1))
        return self.dummy

    def _population(self, b: IRBuilder, o: Operation, kinds: set[str], listed: bool,
                    slots: dict[SSAValue, int], isolated: bool = False) -> Population:
        n = snn.population_size(o.result)
        bn = b.muli(self.batch, b.index(n))
        lif = isinstance(o, snn.LifOp)
        p = Population(o, n, self._zeros(b, sk.I1, bn) if not lif or o.result in self.sending else self._unused(b))
        if lif:
            counted = isolated or kinds & {"spike_count", "rate"}  # what the membrane kernel updates
            p.count = self._zeros(b, sk.I1, bn) if counted else self._unused(b)
            p.first = self._zeros(b, sk.I1, bn, -1) if isolated or "first_spike" in kinds else self._unused(b)
            self.v = getattr(self, "v", {})
            self.v[o.result] = (self._zeros(b, sk.F1, bn, o.value("v_rest")), self._zeros(b, sk.I1, bn),
                                self._zeros(b, sk.F1, b.muli(bn, b.index(slots[o.result]))))
        elif kinds & {"spike_count", "rate", "first_spike"}:
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
