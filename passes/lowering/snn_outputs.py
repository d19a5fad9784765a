"""The results of a network after its time loop (``snn-lower``): decoders (copies of
counts, first spikes and membranes into the output's shape, rates, the raster compacted
from the per-step record, traces) and weights (learned or not, as a dense matrix). A
mixin of :class:`ccomp.passes.snn_lower.NetworkLowering`."""

from __future__ import annotations

from xdsl.dialects import arith, memref
from xdsl.dialects.builtin import f32, i32
from xdsl.ir import SSAValue

from ccomp.dialects import snn
from ccomp.passes.lowering import snn_delivery as dl
from ccomp.passes.lowering import snn_kernels as sk
from ccomp.passes.lowering import snn_record as rk
from ccomp.passes.lowering.builder import IRBuilder
from ccomp.passes.lowering.snn_state import Population
from ccomp.passes.lowering.sparse_kernels import fill_kernel as fill2_kernel
from ccomp.passes.lowering.sparse_values import Matrix


class Outputs:
    """Decoders and weights outputs; needs the lowering's state (``State``)."""

    def _decode(self, b: IRBuilder, o: snn.DecodeOp, p: Population) -> SSAValue:
        kind, loc, n = o.kind.data, o.location, p.n
        rank = o.result.type.get_num_dims()
        shape = [b.index(n)] if not self.batched else [self.batch, b.index(n)]
        if kind == "trace":
            return self.tr[o.population]
        if kind == "raster":
            name = self.kernel(("count",), lambda k: rk.count_kernel(k, loc))
            size = b.dim(p.rec, 0)
            total = b.to_index(self.launch(b, name, [size], [p.rec], i32))
            out = self._alloc(b, sk.I2, total, b.index(3 if self.batched else 2))
            name = self.kernel(("raster", n, self.batched), lambda k: rk.raster_kernel(k, n, self.batched, loc))
            self.launch(b, name, [b.index(1)], [p.rec, out, self.steps_i32, self.batch_i32])
            return out
        if kind == "rate":
            out = self._alloc(b, sk.memref(f32, rank), *shape)
            seconds = b.add(arith.MulfOp(b.add(arith.SIToFPOp(self.steps_i32, f32)), b.f32(self.dt)))
            name = self.kernel(("rate", rank, n), lambda k: rk.rate_kernel(k, rank, n, loc))
            self.launch(b, name, self._grid(b, n), [p.count, out, seconds])
            return out
        src, part = p.part({"spike_count": "count", "first_spike": "first", "voltage": "v"}[kind])
        returned = getattr(self, "returned", set())
        if part == 0 and rank == 1 and isinstance(src.owner, memref.AllocOp) and src not in returned:
            # unbatched counts: the network's own buffer is the result (no copy, no allocation)
            self.returned = returned | {src}
            return src
        elem = o.result.type.element_type
        out = self._alloc(b, sk.memref(elem, rank), *shape)
        name = self.kernel(("copy", str(elem), rank, n), lambda k: rk.copy_kernel(k, elem, rank, n, loc))
        at = b.to_i32(b.muli(b.muli(self.batch, b.index(n)), b.index(part)))
        self.launch(b, name, self._grid(b, n), [src, out, at])
        return out

    def _weights_out(self, b: IRBuilder, o: snn.WeightsOp, w, learned: bool) -> SSAValue:
        loc = o.location
        rows, cols = (b.index(d) for d in o.result.type.get_shape())
        if isinstance(w, Matrix):
            dense = self._alloc(b, sk.F2, rows, cols)
            name = self.kernel(("fill2",), lambda n: fill2_kernel(n, 2, loc))
            self.launch(b, name, [cols, rows], [dense, b.f32(0.0)])
            name = self.kernel(("to_dense", int(cols.owner.value.value.data)),
                               lambda n: dl.csr_to_dense_kernel(n, int(o.result.type.get_shape()[1]), loc))
            self.launch(b, name, [rows], [*w.parts[:3], dense])
            return dense
        if isinstance(w.owner, memref.AllocOp):
            return w  # a buffer of the network's own (initialised or a learned copy)
        out = self._alloc(b, sk.F2, rows, cols)
        name = self.kernel(("copy2",), lambda n: dl.copy2_kernel(n, loc))
        self.launch(b, name, [cols, rows], [w, out])
        return out
