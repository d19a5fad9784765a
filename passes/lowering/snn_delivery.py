"""Spike delivery and plasticity kernels of ``snn-lower``, and the cost rule that picks
a delivery path per connection.

Delivery writes into the target layer's *input ring*: ``slots`` buffers of B·N
currents, slot ``s % slots`` holding the input of step s. Spikes of step t through a
connection with ``delay`` d land in slot ``(t + 1 + d) % slots``; the membrane kernel
of step t reads (and clears) slot ``t % slots``; ``slots = max delay + 2`` keeps the
two apart. Every path sums a target's inputs in increasing source order, so the three
paths give bit-identical currents (a zero term adds nothing), and a choice of path
never changes a spike:

- ``dense``: every target loops over all sources (a 0/1 spike flag times the weight);
  no branches, vectorisable; best when many sources spike.
- ``event``: the step's spikes are first compacted into a list per batch (one point per
  batch walks the flags); every target then adds only the weights of the listed
  sources: work proportional to the spikes.
- ``csr``: sparse weights; one point per batch walks the spike list and scatters each
  spiking source's CSR row into the ring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from xdsl.dialects import arith
from xdsl.dialects.builtin import LocationAttr, f32, i32
from xdsl.ir import SSAValue

from ccomp.dialects import kern
from ccomp.passes.lowering.builder import IRBuilder, KernelBuilder
from ccomp.passes.lowering.snn_kernels import F1, F2, I1, fadd, fmul, fsub

EVENT_FRACTION = 0.25
"""Below this expected fraction of sources spiking per step, a dense connection is
delivered event-driven: a target then reads about fraction × sources weights (plus
the list) instead of all of them, and the compaction is one pass over the flags."""


@dataclass(frozen=True)
class Choice:
    path: str  # "dense", "event" or "csr"
    reason: str


def expected_fraction(kind: str, param: float, dt: float, refractory_steps: int) -> tuple[float, str]:
    """An estimate of the fraction of a population spiking in a step, and where it comes
    from: a Poisson input at most max_rate·dt; a latency input one spike per neuron in
    t_max; a LIF layer at most one spike per refractory period (1 when none), which
    is taken at a tenth: layers mostly rest."""
    if kind == "poisson":
        return min(1.0, param * dt), f"poisson input at most {param:g}Hz x dt {dt * 1e3:g}ms"
    if kind == "latency":
        return min(1.0, dt / param), f"latency input: one spike per neuron in t_max {param * 1e3:g}ms"
    if kind == "spikes":
        return 0.1, "given spike train (assumed 10%)"
    bound = 1.0 / max(refractory_steps, 1)
    return bound / 10, f"LIF layer: at most 1 spike per {max(refractory_steps, 1)} step(s), assumed a tenth of that"


def choose(sparse: bool, fraction: float, why: str) -> Choice:
    """The delivery path of one connection (module docstring)."""
    if sparse:
        return Choice("csr", f"sparse weights: scatter the CSR rows of spiking sources ({why}: "
                             f"expected fraction {fraction:.3g})")
    if fraction < EVENT_FRACTION:
        return Choice("event", f"expected spiking fraction {fraction:.3g} < {EVENT_FRACTION} ({why}): "
                               f"compact spikes, add only their weight rows")
    return Choice("dense", f"expected spiking fraction {fraction:.3g} >= {EVENT_FRACTION} ({why}): "
                           f"every target reads all sources, branch-free")


def _ring_slot(kb: IRBuilder, t: SSAValue, batch: SSAValue, nq: int, slots: int, delay: int) -> SSAValue:
    """The offset of step t + 1 + delay's slot of the target's input ring."""
    at = kb.addi(kb.to_index(t), kb.index(1 + delay))
    return kb.muli(kb.remi(at, kb.index(slots)), kb.muli(kb.to_index(batch), kb.index(nq)))


SCAN = 16
"""Spike flags tested at once by :func:`_each_source`: a step's spikes are few, so most
blocks have none and cost one vector test instead of a branch per source."""


def _each_source(kb: KernelBuilder, flags: bool, src: list[SSAValue], base: SSAValue, np_: int,
                 body: Callable[[IRBuilder, SSAValue], None]) -> None:
    """Run ``body(j)`` for every source j that spiked, in increasing order: from the spike
    flags (``src`` = [spk]; ``SCAN`` flags at a time, then a branch per source of a
    block with a spike; no list to build) or from the compacted
    list (``src`` = [list, count])."""
    if flags:
        (spk,) = src

        def scan(b: IRBuilder, j: SSAValue, _c: list[SSAValue]) -> list[SSAValue]:
            def hit(b: IRBuilder) -> list[SSAValue]:
                body(b, j)
                return []
            b.if_(b.cmpi("ne", b.load(spk, b.addi(base, j)), b.i32(0)), hit)
            return []

        def block(b: IRBuilder, k: SSAValue, _c: list[SSAValue]) -> list[SSAValue]:
            start = b.muli(k, b.index(SCAN))
            at = b.addi(base, start)
            words = [b.load(spk, b.addi(at, b.index(u))) for u in range(SCAN)]
            while len(words) > 1:  # a tree of ors: one vector load and test
                words = [b.add(arith.OrIOp(x, y)) for x, y in zip(words[::2], words[1::2])]

            def hit(b: IRBuilder) -> list[SSAValue]:
                b.loop(start, b.addi(start, b.index(SCAN)), [], scan)
                return []
            b.if_(b.cmpi("ne", words[0], b.i32(0)), hit)
            return []
        whole = np_ // SCAN
        kb.loop(kb.index(0), kb.index(whole), [], block)
        if np_ % SCAN:
            kb.loop(kb.index(whole * SCAN), kb.index(np_), [], scan)
        return
    lst, count = src

    def listed(b: IRBuilder, k: SSAValue, _c: list[SSAValue]) -> list[SSAValue]:
        body(b, b.clamp(b.load_index(lst, b.addi(base, k)), b.index(np_)))
        return []
    kb.loop(kb.index(0), kb.load_index(count, kb.point(0)), [], listed)


def compact_kernel(name: str, n: int, loc: LocationAttr) -> kern.KernelOp:
    """The spiking sources of each batch, in order: ``list[b*n + k]`` for k < ``count[b]``.
    Branch-free: every j is written at the current end and the end moves on a spike.
    Bindings: spk, list, count. Grid [B]."""
    kb = KernelBuilder(name, 1, [I1, I1, I1], loc)
    spk, lst, count = kb.args
    bi = kb.point(0)
    base = kb.muli(bi, kb.index(n))

    def step(b: IRBuilder, j: SSAValue, c: list[SSAValue]) -> list[SSAValue]:
        b.store(b.to_i32(j), lst, b.addi(base, b.to_index(c[0])))
        return [b.addi(c[0], b.load(spk, b.addi(base, j)))]
    (k,) = kb.loop(kb.index(0), kb.index(n), [kb.i32(0)], step)
    kb.store(k, count, bi)
    return kb.finish()


def dense_kernel(name: str, np_: int, nq: int, slots: int, delay: int, loc: LocationAttr) -> kern.KernelOp:
    """``ring[slot + b*nq + i] += sum_j spk[b*np + j]·W[j, i]``. Bindings: spk, W, ring, t,
    B. Grid [nq, B]."""
    kb = KernelBuilder(name, 2, [I1, F2, F1, i32, i32], loc)
    spk, w, ring, t, batch = kb.args
    i, bi = kb.point(0), kb.point(1)
    base = kb.muli(bi, kb.index(np_))

    def add(b: IRBuilder, j: SSAValue, acc: list[SSAValue]) -> list[SSAValue]:
        flag = b.add(arith.SIToFPOp(b.load(spk, b.addi(base, j)), f32))
        return [fadd(b, acc[0], fmul(b, flag, b.load(w, j, i)))]
    (acc,) = kb.loop(kb.index(0), kb.index(np_), [kb.f32(0.0)], add)
    at = kb.addi(_ring_slot(kb, t, batch, nq, slots, delay), kb.addi(kb.muli(bi, kb.index(nq)), i))
    kb.store(fadd(kb, kb.load(ring, at), acc), ring, at)
    return kb.finish()


def event_kernel(name: str, np_: int, nq: int, slots: int, delay: int, loc: LocationAttr) -> kern.KernelOp:
    """``ring[slot + b*nq + i] += sum over listed j of W[j, i]``. Bindings: list, count, W,
    ring, t, B. Grid [nq, B]."""
    kb = KernelBuilder(name, 2, [I1, I1, F2, F1, i32, i32], loc)
    lst, count, w, ring, t, batch = kb.args
    i, bi = kb.point(0), kb.point(1)
    base = kb.muli(bi, kb.index(np_))

    def add(b: IRBuilder, k: SSAValue, acc: list[SSAValue]) -> list[SSAValue]:
        j = b.clamp(b.load_index(lst, b.addi(base, k)), b.index(np_))
        return [fadd(b, acc[0], b.load(w, j, i))]
    (acc,) = kb.loop(kb.index(0), kb.load_index(count, bi), [kb.f32(0.0)], add)
    at = kb.addi(_ring_slot(kb, t, batch, nq, slots, delay), kb.addi(kb.muli(bi, kb.index(nq)), i))
    kb.store(fadd(kb, kb.load(ring, at), acc), ring, at)
    return kb.finish()


def csr_kernel(name: str, np_: int, nq: int, slots: int, delay: int, loc: LocationAttr,
               flags: bool = False) -> kern.KernelOp:
    """Scatter the CSR rows of the sources that spiked into the ring, in source order.
    Bindings: spk (``flags``) or list, count; then indptr, indices, data, ring, t, B.
    Grid [B]."""
    sources = [I1] if flags else [I1, I1]
    kb = KernelBuilder(name, 1, [*sources, I1, I1, F1, F1, i32, i32], loc)
    src, (ptr, idx, data, ring, t, batch) = kb.args[:len(sources)], kb.args[len(sources):]
    bi = kb.point(0)
    base = kb.muli(bi, kb.index(np_))
    out = kb.addi(_ring_slot(kb, t, batch, nq, slots, delay), kb.muli(bi, kb.index(nq)))
    stored = kb.dim(data, 0)

    def source(b: IRBuilder, j: SSAValue) -> None:
        lo, hi = b.load_index(ptr, j), b.mini(b.load_index(ptr, b.addi(j, b.index(1))), stored)

        def entry(b: IRBuilder, p: SSAValue, _c: list[SSAValue]) -> list[SSAValue]:
            at = b.addi(out, b.clamp(b.load_index(idx, p), b.index(nq)))
            b.store(fadd(b, b.load(ring, at), b.load(data, p)), ring, at)
            return []
        b.loop(lo, hi, [], entry)
    _each_source(kb, flags, list(src), base, np_, source)
    return kb.finish()


def trace_kernel(name: str, decay: float, loc: LocationAttr) -> kern.KernelOp:
    """An STDP trace: ``tr = tr·exp(-dt/tau) + spike``. Bindings: tr, spk. Grid [n]."""
    kb = KernelBuilder(name, 1, [F1, I1], loc)
    tr, spk = kb.args
    j = kb.point(0)
    s = kb.add(arith.SIToFPOp(kb.load(spk, j), f32))
    kb.store(fadd(kb, fmul(kb, kb.load(tr, j), kb.f32(decay)), s), tr, j)
    return kb.finish()


@dataclass(frozen=True)
class Stdp:
    a_plus: float
    a_minus: float
    post_decay: float
    w_min: float
    w_max: float


def _update(b: IRBuilder, w: SSAValue, pre: SSAValue, post: SSAValue, apre: SSAValue, apost: SSAValue,
            c: Stdp) -> SSAValue:
    """Brian2's order: the pre spike (depression by the decayed post trace), then the
    post spike (potentiation by the pre trace, which already counts this step's spike),
    each clipped to [w_min, w_max]."""
    def clip(x: SSAValue) -> SSAValue:
        return b.add(arith.MinimumfOp(b.add(arith.MaximumfOp(x, b.f32(c.w_min))), b.f32(c.w_max)))
    post_trace = fmul(b, apost, b.f32(c.post_decay))
    w1 = clip(fsub(b, w, fmul(b, b.f32(c.a_minus), post_trace)))
    w = b.select(b.cmpi("ne", pre, b.i32(0)), w1, w)
    w2 = clip(fadd(b, w, fmul(b, b.f32(c.a_plus), apre)))
    return b.select(b.cmpi("ne", post, b.i32(0)), w2, w)


def stdp_dense_kernel(name: str, c: Stdp, loc: LocationAttr) -> kern.KernelOp:
    """STDP on dense weights. Bindings: W, spk_pre, spk_post, apre, apost. Grid [nq, np]."""
    kb = KernelBuilder(name, 2, [F2, I1, I1, F1, F1], loc)
    w, spre, spost, apre, apost = kb.args
    i, j = kb.point(0), kb.point(1)
    new = _update(kb, kb.load(w, j, i), kb.load(spre, j), kb.load(spost, i), kb.load(apre, j),
                  kb.load(apost, i), c)
    kb.store(new, w, j, i)
    return kb.finish()


def stdp_csr_kernel(name: str, nq: int, c: Stdp, loc: LocationAttr) -> kern.KernelOp:
    """STDP on the stored entries of CSR weights, one point per source row.
    Bindings: indptr, indices, data, spk_pre, spk_post, apre, apost. Grid [np]."""
    kb = KernelBuilder(name, 1, [I1, I1, F1, I1, I1, F1, F1], loc)
    ptr, idx, data, spre, spost, apre, apost = kb.args
    j = kb.point(0)
    pre, tr = kb.load(spre, j), kb.load(apre, j)
    lo, hi = kb.load_index(ptr, j), kb.mini(kb.load_index(ptr, kb.addi(j, kb.index(1))), kb.dim(data, 0))

    def entry(b: IRBuilder, p: SSAValue, _c: list[SSAValue]) -> list[SSAValue]:
        i = b.clamp(b.load_index(idx, p), b.index(nq))
        b.store(_update(b, b.load(data, p), pre, b.load(spost, i), tr, b.load(apost, i), c), data, p)
        return []
    kb.loop(lo, hi, [], entry)
    return kb.finish()


def csr_to_dense_kernel(name: str, nq: int, loc: LocationAttr) -> kern.KernelOp:
    """Row j of a zeroed dense matrix from CSR. Bindings: indptr, indices, data, D. Grid [np]."""
    kb = KernelBuilder(name, 1, [I1, I1, F1, F2], loc)
    ptr, idx, data, dense = kb.args
    j = kb.point(0)
    lo, hi = kb.load_index(ptr, j), kb.mini(kb.load_index(ptr, kb.addi(j, kb.index(1))), kb.dim(data, 0))

    def entry(b: IRBuilder, p: SSAValue, _c: list[SSAValue]) -> list[SSAValue]:
        b.store(b.load(data, p), dense, j, b.clamp(b.load_index(idx, p), b.index(nq)))
        return []
    kb.loop(lo, hi, [], entry)
    return kb.finish()


def copy2_kernel(name: str, loc: LocationAttr) -> kern.KernelOp:
    """``out[j, i] = src[j, i]``. Bindings: src, out. Grid [cols, rows]."""
    kb = KernelBuilder(name, 2, [F2, F2], loc)
    src, out = kb.args
    i, j = kb.point(0), kb.point(1)
    kb.store(kb.load(src, j, i), out, j, i)
    return kb.finish()


def copy1_kernel(name: str, loc: LocationAttr) -> kern.KernelOp:
    """``out[p] = src[p]`` (CSR values learned in a copy). Bindings: src, out. Grid [n]."""
    kb = KernelBuilder(name, 1, [F1, F1], loc)
    src, out = kb.args
    p = kb.point(0)
    kb.store(kb.load(src, p), out, p)
    return kb.finish()


def rows_kernel(name: str, np_: int, nq: int, slots: int, delay: int, loc: LocationAttr,
                flags: bool = True) -> kern.KernelOp:
    """Event-driven delivery by rows, one point per batch: each spiking source's weight
    row is added to a scratch sum (contiguous, so the inner loop vectorises), which is
    then added to the ring — the same order of additions as :func:`event_kernel`, so the
    same bits. Sources come from the spike flags (no compaction launch) or a list.
    Bindings: spk (``flags``) or list, count; then W, ring, t, B. The scratch sum is the
    target's state buffer's part ``slots + 1`` (after the ring and the membrane:
    ``Population.reals``), so it needs no allocation of its own. Grid [B]."""
    sources = [I1] if flags else [I1, I1]
    kb = KernelBuilder(name, 1, [*sources, F2, F1, i32, i32], loc)
    src, (w, ring, t, batch) = kb.args[:len(sources)], kb.args[len(sources):]
    acc = ring
    bi = kb.point(0)
    base, row = kb.muli(bi, kb.index(np_)), kb.muli(bi, kb.index(nq))
    row0 = kb.addi(kb.muli(kb.muli(kb.to_index(batch), kb.index(nq)), kb.index(slots + 1)), row)
    zero = kb.f32(0.0)

    def clear(b: IRBuilder, i: SSAValue, _c: list[SSAValue]) -> list[SSAValue]:
        b.store(zero, acc, b.addi(row0, i))
        return []
    kb.loop(kb.index(0), kb.index(nq), [], clear)

    def source(b: IRBuilder, j: SSAValue) -> None:
        def add(b: IRBuilder, i: SSAValue, _c: list[SSAValue]) -> list[SSAValue]:
            at = b.addi(row0, i)
            b.store(fadd(b, b.load(acc, at), b.load(w, j, i)), acc, at)
            return []
        b.loop(b.index(0), b.index(nq), [], add)
    _each_source(kb, flags, list(src), base, np_, source)
    out = kb.addi(_ring_slot(kb, t, batch, nq, slots, delay), row)

    def flush(b: IRBuilder, i: SSAValue, _c: list[SSAValue]) -> list[SSAValue]:
        at = b.addi(out, i)
        b.store(fadd(b, b.load(ring, at), b.load(acc, b.addi(row0, i))), ring, at)
        return []
    kb.loop(kb.index(0), kb.index(nq), [], flush)
    return kb.finish()
