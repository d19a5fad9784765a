"""``snn-lower``: a spiking network (``snn.network``) becomes kernels inside a host time
loop.

The function keeps its name; tensors become buffers (a csr weights input its
storage parts and sizes, tagged as ``sparse-lower`` tags them). Before the loop,
state buffers are allocated and filled (membrane ``v_rest``, countdowns 0, input
rings 0, first spikes −1), initialiser weights drawn, learned weights copied (an
input is never written). The loop (``scf.for`` over steps) runs, per step:

1. encoders (Poisson / latency / given spikes) write their populations' spikes;
2. every LIF layer's membrane step (:func:`~.snn_kernels.membrane_kernel`);
3. per source population with an event-driven or csr connection, the spike list;
4. per connection, delivery into the target's input ring, by the path the cost
   rule picks (:mod:`ccomp.passes.lowering.snn_delivery`);
5. per ``snn.stdp``: pre trace, weight update, post trace.

After the loop, the decoders copy or compute their results. On llvm the whole
function, loop included, is native host code; GPU targets run the loop from the
runtime's host. No ``snn`` op is left (a located internal error otherwise).
"""

from __future__ import annotations

import math as pymath
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import (
    ArrayAttr, DictionaryAttr, IntegerAttr, ModuleOp, StringAttr, f32, i32, i64,
)
from xdsl.ir import Operation, Region, SSAValue
from xdsl.passes import ModulePass

from ccomp.diagnostics import PassError
from ccomp.dialects import kern, ports, snn
from ccomp.dialects.sparse_format import format_of
from ccomp.passes.lowering import snn_delivery as dl
from ccomp.passes.lowering import snn_kernels as sk
from ccomp.passes.lowering import snn_record as rk
from ccomp.passes.lowering.builder import IRBuilder
from ccomp.passes.lowering.functions import KernelNames, OpTable, lower_functions
from ccomp.passes.lowering.snn_outputs import Outputs
from ccomp.passes.lowering.snn_state import Population, State
from ccomp.passes.lowering.sparse_values import Matrix, expand_arguments, tagged


def choice_of(conn: snn.ConnectOp, net: snn.NetworkOp) -> dl.Choice:
    """The delivery path of ``conn`` (also what ``ccomp build --explain`` reports)."""
    dt = net.dt.value.data
    pre = conn.pre.owner
    if isinstance(pre, snn.EncodeOp):
        frac, why = dl.expected_fraction(pre.kind.data, pre.param.value.data, dt, 0)
    else:
        frac, why = dl.expected_fraction("lif", 0.0, dt, int(round(pre.value("refractory") / dt)))
    return dl.choose(format_of(conn.weights.type) is not None, frac, why)


def explain(module: ModuleOp) -> list[str]:
    """One line per connection of every network in ``module``: its delivery path and why."""
    lines = []
    for net in module.walk():
        if not isinstance(net, snn.NetworkOp):
            continue
        for op in net.body.block.ops:
            if isinstance(op, snn.ConnectOp):
                c = choice_of(op, net)
                lines.append(f"{_label(op.pre.owner)} -> {_label(op.post.owner)}: {c.path} delivery; {c.reason}")
    return lines


def _label(op: Operation) -> str:
    return op.label.data  # type: ignore[attr-defined]


class NetworkLowering(State, Outputs, OpTable):
    """Lowers one function holding an ``snn.network``."""

    DIALECT = snn.Snn.name
    PASS = "snn-lower"

    #: Event-driven delivery of dense weights: by rows, one point per batch (contiguous,
    #: vectorised inner loops: CPUs), or by targets, one point per target and batch
    #: (parallel: GPUs). ``snn-lower{event=targets}`` picks the latter.
    rows = True

    def __init__(self, fn: func.FuncOp, names: KernelNames):
        self.fn, self.names = fn, names
        self.kernels: list[kern.KernelOp] = []
        self.cache: dict[tuple, str] = {}
        self.mapping: dict[SSAValue, object] = {}
        self.delivery: list[str] = []

    def kernel(self, key: tuple, make: Callable[[str], kern.KernelOp]) -> str:
        if key not in self.cache:
            name = self.names.fresh(self.fn.sym_name.data, len(self.kernels))
            self.kernels.append(make(name))
            self.cache[key] = name
        return self.cache[key]

    def launch(self, b: IRBuilder, name: str, grid: list[SSAValue], args: list[SSAValue], result=None):
        return b.add(kern.LaunchOp(name, grid, args, [result] if result is not None else []))

    # ----- the function ---------------------------------------------------------------------
    def lower(self) -> func.FuncOp:
        old = self.fn.body.block
        block, attrs, mapping = expand_arguments(old.args, ports.arg_ports(self.fn), self.fn.location)
        self.mapping.update(mapping)
        for op in old.ops:
            b = IRBuilder.at_end(block, op.location)
            if isinstance(op, snn.NetworkOp):
                self.network(op, b)
            elif isinstance(op, func.ReturnOp):
                b.add(func.ReturnOp(*[self.mapping[v] for v in op.operands]))
            else:
                self.lower_op(op, b)
        outs = [v.type for v in block.last_op.operands]
        names = ports.output_names(self.fn) or []
        res_attrs = [tagged(DictionaryAttr(ports.port_attrs(names[k] if k < len(names) else f"out{k}")), None, None,
                            True) for k in range(len(outs))]
        new_fn = func.FuncOp(self.fn.sym_name.data, (block.arg_types, outs), Region(block), arg_attrs=ArrayAttr(attrs),
                             res_attrs=ArrayAttr(res_attrs))
        new_fn.attributes.update(self.fn.attributes)
        if self.delivery:
            new_fn.attributes[snn.DELIVERY] = ArrayAttr([StringAttr(line) for line in self.delivery])
        new_fn.location = self.fn.location
        return new_fn

    # ----- the network ------------------------------------------------------------------------
    def network(self, net: snn.NetworkOp, b: IRBuilder) -> None:
        ops = list(net.body.block.ops)
        self.dt = net.dt.value.data
        self.batched = net.is_batched
        steps = self.mapping[net.steps]
        b.add(kern.CheckOp(b.cmpi("sge", steps, b.i32(0)), "steps must not be negative, got {0}", [steps]))
        seed = self.mapping[net.seed]
        key0 = b.add(arith.TruncIOp(seed, i32))
        key1 = b.add(arith.TruncIOp(b.add(arith.ShRUIOp(seed, b.add(arith.ConstantOp(IntegerAttr(32, i64))))), i32))
        encoders = [o for o in ops if isinstance(o, snn.EncodeOp)]
        self.batch = self._batch(b, encoders)
        self.batch_i32 = b.to_i32(self.batch)
        self.steps_i32, self.steps = steps, b.to_index(steps)
        decoded: dict[SSAValue, set[str]] = {}
        self.decoded = decoded
        for o in ops:
            if isinstance(o, snn.DecodeOp):
                decoded.setdefault(o.population, set()).add(o.kind.data)
        conns = [o for o in ops if isinstance(o, snn.ConnectOp)]
        stdps = {o.synapses: o for o in ops if isinstance(o, snn.StdpOp)}
        choices = {c: choice_of(c, net) for c in conns}
        self.delivery += [f"{_label(c.pre.owner)} -> {_label(c.post.owner)}: {choices[c].path} delivery; "
                          f"{choices[c].reason}" for c in conns]
        # spike lists: by targets (GPUs) event and csr delivery read them; by rows (CPUs)
        # each delivery scans the flags itself, which saves a launch per source and step
        listed = {c.pre for c in conns if choices[c].path != "dense"} if not self.rows else set()
        pops: dict[SSAValue, Population] = {}
        slots = {o.result: 2 + max([c.delay.value.data for c in conns if c.post is o.result], default=0)
                 for o in ops if isinstance(o, snn.LifOp)}
        # populations whose per-step spike flags something reads: deliveries and STDP
        # layers whose state buffer has a part for the scratch sums of by-rows delivery
        self.summing = {c.post for c in conns if choices[c].path == "event"} if self.rows else set()
        self.sending = {c.pre for c in conns} | {v for s in stdps.values() for v in (s.synapses.owner.pre,
                                                                                   s.synapses.owner.post)}
        for o in ops:
            if isinstance(o, (snn.EncodeOp, snn.LifOp)):
                pops[o.result] = self._population(b, o, decoded.get(o.result, set()), o.result in listed, slots,
                                                  isinstance(o, snn.LifOp) and _isolated(o, conns, decoded))
        weights: dict[SSAValue, object] = {}
        for c in conns:
            weights[c.result] = self._weights(b, c, c.result in stdps)
        traces = {s: (self._zeros(b, sk.memref(f32, 1), b.index(sk_size(s.synapses.owner.pre))),
                      self._zeros(b, sk.memref(f32, 1), b.index(sk_size(s.synapses.owner.post))))
                  for s in stdps.values()}

        self.pre_loop = b
        isolated = {o for o in ops if isinstance(o, snn.LifOp) and _isolated(o, conns, decoded)}
        for o in isolated:
            self._isolated(b, o, pops[o.result])

        def step(lb: IRBuilder, iv: SSAValue, _c: list[SSAValue]) -> list[SSAValue]:
            t = lb.to_i32(iv)
            for e in encoders:
                self._encode(lb, e, pops[e.result], t, key0, key1)
            for o in ops:
                if isinstance(o, snn.LifOp) and o not in isolated:
                    self._membrane(lb, o, pops[o.result], t, slots[o.result])
            for v in listed:
                p = pops[v]
                name = self.kernel(("compact", p.n), lambda n: dl.compact_kernel(n, p.n, net.location))
                self.launch(lb, name, [self.batch], [p.spk, p.lst, p.lst_n])
            for c in conns:
                self._deliver(lb, c, choices[c], pops, weights[c.result], slots[c.post], t)
            for syn, s in stdps.items():
                self._stdp(lb, s, pops, weights[syn], traces[s])
            return []
        if encoders or any(isinstance(o, snn.LifOp) and o not in isolated for o in ops):
            b.loop(b.index(0), self.steps, [], step)
        results = []
        for o in ops:
            if isinstance(o, snn.DecodeOp):
                self.mapping[o.result] = self._decode(b, o, pops[o.population])
            elif isinstance(o, snn.WeightsOp):
                self.mapping[o.result] = self._weights_out(b, o, weights[o.synapses], o.synapses in stdps)
        for v in net.body.block.last_op.operands:
            results.append(self.mapping[v])
        for r, v in zip(net.res, results):
            self.mapping[r] = v

    def _batch(self, b: IRBuilder, encoders: list[snn.EncodeOp]) -> SSAValue:
        if not self.batched:
            return b.index(1)
        sizes = [b.dim(self.mapping[e.input], 0) for e in encoders]
        for s in sizes[1:]:
            b.add(kern.CheckOp(b.cmpi("eq", s, sizes[0]), "the inputs' batch sizes differ: {0} and {1}",
                               [b.to_i32(sizes[0]), b.to_i32(s)]))
        return sizes[0]

    # ----- one step ------------------------------------------------------------------------------
    def _grid(self, b: IRBuilder, n: int) -> list[SSAValue]:
        return [b.index(n), self.batch]

    def _encode(self, b: IRBuilder, e: snn.EncodeOp, p: Population, t, key0, key1) -> None:
        x, kind, loc = self.mapping[e.input], e.kind.data, e.location
        if kind == "poisson":
            rate_dt = e.param.value.data * self.dt
            stream = e.stream.value.data
            name = self.kernel(("poisson", p.n, rate_dt, stream, self.batched),
                               lambda n: sk.poisson_kernel(n, p.n, rate_dt, stream, self.batched, loc))
            self.launch(b, name, self._grid(b, p.n), [x, p.spk, t, key0, key1])
        elif kind == "latency":
            steps_max = e.param.value.data / self.dt
            name = self.kernel(("latency", p.n, steps_max, self.batched),
                               lambda n: sk.latency_kernel(n, p.n, steps_max, self.batched, loc))
            self.launch(b, name, self._grid(b, p.n), [x, p.spk, t])
        else:
            name = self.kernel(("spikes", p.n, self.batched), lambda n: sk.spikes_kernel(n, p.n, self.batched, loc))
            self.launch(b, name, self._grid(b, p.n), [x, p.spk, t])
        if p.count is not None:
            name = self.kernel(("tally", p.n), lambda n: rk.tally_kernel(n, p.n, loc))
            self.launch(b, name, self._grid(b, p.n), [p.spk, p.count, p.first, t])
        if p.rec is not None:
            name = self.kernel(("record", p.n), lambda n: rk.record_kernel(n, p.n, loc))
            self.launch(b, name, self._grid(b, p.n), [p.spk, p.rec, t, self.batch_i32])

    def _membrane(self, b: IRBuilder, o: snn.LifOp, p: Population, t, slots: int) -> None:
        trace = getattr(self, "tr", {}).get(o.result)
        c = sk.Lif.of(o, self.dt, slots, p.rec is not None, trace.type.get_num_dims() if trace is not None else 0,
                      p.ints_at, p.count is not None)
        name = self.kernel(("lif", c), lambda n: sk.membrane_kernel(n, c, o.location))
        args = [p.reals, p.ints] + ([p.count] if p.count is not None else []) + [t, self.batch_i32]
        args += [p.rec] if p.rec is not None else []
        args += [trace] if trace is not None else []
        self.launch(b, name, self._grid(b, p.n), args)

    def _isolated(self, b: IRBuilder, o: snn.LifOp, p: Population) -> None:
        c = sk.Lif.of(o, self.dt, 1, False, 0, p.ints_at)
        name = self.kernel(("isolated", c), lambda n: sk.isolated_kernel(n, c, o.location))
        points = b.index(-(-p.n // sk.unroll(p.n)))
        self.launch(b, name, [self.batch, points], [p.reals, p.ints, p.count, self.steps_i32, self.batch_i32])

    def _deliver(self, b: IRBuilder, c: snn.ConnectOp, choice: dl.Choice, pops, w, slots: int, t) -> None:
        pre, post = pops[c.pre], pops[c.post]
        ring = post.reals  # the ring is its first parts
        d, loc = c.delay.value.data, c.location
        key = (choice.path, pre.n, post.n, slots, d)
        sources = [pre.spk] if self.rows else [pre.lst, pre.lst_n]
        if choice.path == "csr":
            name = self.kernel(key + (self.rows,), lambda n: dl.csr_kernel(n, pre.n, post.n, slots, d, loc, self.rows))
            self.launch(b, name, [self.batch], [*sources, *w.parts, ring, t, self.batch_i32])
        elif choice.path == "event" and self.rows:
            name = self.kernel(key + ("rows",), lambda n: dl.rows_kernel(n, pre.n, post.n, slots, d, loc))
            self.launch(b, name, [self.batch], [pre.spk, w, ring, t, self.batch_i32])
        elif choice.path == "event":
            name = self.kernel(key, lambda n: dl.event_kernel(n, pre.n, post.n, slots, d, loc))
            self.launch(b, name, self._grid(b, post.n), [pre.lst, pre.lst_n, w, ring, t, self.batch_i32])
        else:
            name = self.kernel(key, lambda n: dl.dense_kernel(n, pre.n, post.n, slots, d, loc))
            self.launch(b, name, self._grid(b, post.n), [pre.spk, w, ring, t, self.batch_i32])

    def _stdp(self, b: IRBuilder, s: snn.StdpOp, pops, w, traces) -> None:
        conn = s.synapses.owner
        pre, post = pops[conn.pre], pops[conn.post]
        apre, apost = traces
        loc = s.location
        dpre, dpost = pymath.exp(-self.dt / s.value("tau_plus")), pymath.exp(-self.dt / s.value("tau_minus"))
        c = dl.Stdp(s.value("a_plus"), s.value("a_minus"), dpost, s.value("w_min"), s.value("w_max"))
        pre_tr = self.kernel(("trace", dpre), lambda n: dl.trace_kernel(n, dpre, loc))
        post_tr = self.kernel(("trace", dpost), lambda n: dl.trace_kernel(n, dpost, loc))
        self.launch(b, pre_tr, [b.index(pre.n)], [apre, pre.spk])
        if isinstance(w, Matrix):
            name = self.kernel(("stdp_csr", post.n, c), lambda n: dl.stdp_csr_kernel(n, post.n, c, loc))
            self.launch(b, name, [b.index(pre.n)], [*w.parts, pre.spk, post.spk, apre, apost])
        else:
            name = self.kernel(("stdp", c), lambda n: dl.stdp_dense_kernel(n, c, loc))
            self.launch(b, name, [b.index(post.n), b.index(pre.n)], [w, pre.spk, post.spk, apre, apost])
        self.launch(b, post_tr, [b.index(post.n)], [apost, post.spk])

    HANDLERS: ClassVar[dict] = {}


def _isolated(o: snn.LifOp, conns: list[snn.ConnectOp], decoded: dict[SSAValue, set[str]]) -> bool:
    """A layer that neither receives nor sends spikes and whose spikes are not recorded
    per step: its whole run is one kernel (:func:`~.snn_kernels.isolated_kernel`)."""
    linked = any(c.pre is o.result or c.post is o.result for c in conns)
    return not linked and not decoded.get(o.result, set()) & {"raster", "trace"}


def sk_size(v: SSAValue) -> int:
    return snn.population_size(v)


def has_network(fn: func.FuncOp) -> bool:
    return any(isinstance(o, snn.NetworkOp) for o in fn.body.block.ops)


@dataclass(frozen=True)
class SnnLowerPass(ModulePass):
    """Lower every network to kernels plus a host time loop; no ``snn`` op is left.
    ``event``: how event-driven delivery of dense weights runs, ``rows`` (default, for
    CPUs) or ``targets`` (GPUs; the pipeline sets it for opencl and glsl)."""

    name = "snn-lower"
    event: str = "rows"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.event not in ("rows", "targets"):
            raise PassError(op, f"snn-lower event must be rows or targets, got {self.event!r}")
        rows = self.event == "rows"

        def lowering(fn: func.FuncOp, names: KernelNames) -> NetworkLowering:
            low = NetworkLowering(fn, names)
            low.rows = rows
            return low
        lower_functions(op, lowering, has_network, snn.Snn.name, self.name)
