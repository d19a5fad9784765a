"""The per-neuron kernels ``snn-lower`` builds: buffer fills, input encoders, the LIF
membrane step, weight initialisers and the decoders' final copies.

Index spaces are ``[N, B]`` (neuron along x, batch along y) unless said otherwise; a
population's per-neuron state is a flat buffer of B·N elements, element ``b*N + i``.
The membrane step follows docs/language.md ("Spiking networks") to the letter: a
refractory neuron (countdown > 0) counts down and neither integrates nor spikes;
otherwise ``v <- v_inf + (v - v_inf)·exp(-dt/tau)`` with ``v_inf = v_rest + R·I``,
a spike when ``v >= v_th``, then ``v = v_reset`` and the countdown ``r - 1`` with
``r = round(refractory/dt)``. The input I of the step is ``bias`` plus the slot of the
input ring (:mod:`ccomp.passes.lowering.snn_delivery`) for this step, cleared as read.
"""

from __future__ import annotations

import math as pymath
from dataclasses import dataclass

from xdsl.dialects import arith, math
from xdsl.dialects.builtin import DYNAMIC_INDEX, LocationAttr, MemRefType, f32, i32
from xdsl.ir import Attribute, SSAValue

from ccomp.dialects import kern
from ccomp.passes.lowering import philox
from ccomp.passes.lowering.builder import IRBuilder, KernelBuilder

F1 = MemRefType(f32, [DYNAMIC_INDEX])
I1 = MemRefType(i32, [DYNAMIC_INDEX])
F2 = MemRefType(f32, [DYNAMIC_INDEX, DYNAMIC_INDEX])
I2 = MemRefType(i32, [DYNAMIC_INDEX, DYNAMIC_INDEX])
F3 = MemRefType(f32, [DYNAMIC_INDEX] * 3)


def memref(elem: Attribute, rank: int) -> MemRefType:
    return MemRefType(elem, [DYNAMIC_INDEX] * rank)


def fadd(b: IRBuilder, x: SSAValue, y: SSAValue) -> SSAValue:
    return b.add(arith.AddfOp(x, y))


def fsub(b: IRBuilder, x: SSAValue, y: SSAValue) -> SSAValue:
    return b.add(arith.SubfOp(x, y))


def fmul(b: IRBuilder, x: SSAValue, y: SSAValue) -> SSAValue:
    return b.add(arith.MulfOp(x, y))


def cmpf(b: IRBuilder, pred: str, x: SSAValue, y: SSAValue) -> SSAValue:
    return b.add(arith.CmpfOp(x, y, pred))


def flat(b: IRBuilder, n: int) -> tuple[SSAValue, SSAValue, SSAValue]:
    """``(i, batch, b*n + i)`` of the current point of an ``[n, B]`` space."""
    i, bi = b.point(0), b.point(1)
    return i, bi, b.addi(b.muli(bi, b.index(n)), i)


def fill_kernel(name: str, elem: Attribute, loc: LocationAttr) -> kern.KernelOp:
    """``buf[i] = value`` over a flat buffer. Bindings: buf, value."""
    kb = KernelBuilder(name, 1, [memref(elem, 1), elem], loc)
    buf, value = kb.args
    kb.store(value, buf, kb.point(0))
    return kb.finish()


def split_fill_kernel(name: str, elem: Attribute, loc: LocationAttr) -> kern.KernelOp:
    """``buf[i] = i < at ? lo : hi``: a packed state buffer's initial values in one
    launch. Bindings: buf, at (i32), lo, hi."""
    kb = KernelBuilder(name, 1, [memref(elem, 1), i32, elem, elem], loc)
    buf, at, lo, hi = kb.args
    i = kb.point(0)
    kb.store(kb.select(kb.cmpi("slt", i, kb.to_index(at)), lo, hi), buf, i)
    return kb.finish()


def _input_value(kb: KernelBuilder, x: SSAValue, j: SSAValue, bi: SSAValue, batched: bool) -> SSAValue:
    return kb.load(x, *([bi, j] if batched else [j]))


def poisson_kernel(name: str, n: int, rate_dt: float, stream: int, batched: bool, loc: LocationAttr
                   ) -> kern.KernelOp:
    """Spikes of a ``poisson`` encoder at step t: ``uniform01(word0) < x·float32(rate·dt)``
    with Philox counter (t, j, b, stream). Bindings: x, spk, t, key0, key1. Grid [n, B]."""
    kb = KernelBuilder(name, 2, [memref(f32, 2 if batched else 1), I1, i32, i32, i32], loc)
    x, spk, t, k0, k1 = kb.args
    j, bi, k = flat(kb, n)
    words = philox.philox4x32_10(kb, (k0, k1), (t, j, bi, kb.i32(stream)))
    u = philox.uniform01(kb, words[0])
    p = fmul(kb, _input_value(kb, x, j, bi, batched), kb.f32(rate_dt))
    kb.store(kb.add(arith.ExtUIOp(cmpf(kb, "olt", u, p), i32)), spk, k)
    return kb.finish()


def latency_kernel(name: str, n: int, steps_max: float, batched: bool, loc: LocationAttr) -> kern.KernelOp:
    """One spike per input, at step ``round((1 - clamp(x, 0, 1))·t_max/dt)``; none where
    x <= 0. Bindings: x, spk, t. Grid [n, B]."""
    kb = KernelBuilder(name, 2, [memref(f32, 2 if batched else 1), I1, i32], loc)
    x, spk, t = kb.args
    j, bi, k = flat(kb, n)
    v = _input_value(kb, x, j, bi, batched)
    c = kb.add(arith.MinimumfOp(v, kb.f32(1.0)))
    at = fmul(kb, fsub(kb, kb.f32(1.0), c), kb.f32(steps_max))
    step = kb.add(arith.FPToSIOp(kb.add(math.FloorOp(fadd(kb, at, kb.f32(0.5)))), i32))
    fire = kb.add(arith.AndIOp(cmpf(kb, "ogt", v, kb.f32(0.0)), kb.cmpi("eq", step, t)))
    kb.store(kb.add(arith.ExtUIOp(fire, i32)), spk, k)
    return kb.finish()


def spikes_kernel(name: str, n: int, batched: bool, loc: LocationAttr) -> kern.KernelOp:
    """The given train: ``spk = S[t, j] != 0`` while t < T, no spike after. Bindings: S,
    spk, t. Grid [n, B]."""
    kb = KernelBuilder(name, 2, [memref(f32, 3 if batched else 2), I1, i32], loc)
    s, spk, t = kb.args
    j, bi, k = flat(kb, n)
    ti = kb.to_index(t)
    rows = kb.dim(s, 1 if batched else 0)
    inside = kb.cmpi("slt", ti, rows)
    row = kb.mini(ti, kb.subi(rows, kb.index(1)))
    v = kb.load(s, *([bi, row, j] if batched else [row, j]))
    fire = kb.add(arith.AndIOp(inside, cmpf(kb, "une", v, kb.f32(0.0))))
    kb.store(kb.add(arith.ExtUIOp(fire, i32)), spk, k)
    return kb.finish()


@dataclass(frozen=True)
class Lif:
    """A layer's constants as the membrane kernel bakes them in (f32 where used)."""

    n: int
    decay: float  # exp(-dt/tau)
    v_th: float
    v_reset: float
    v_rest: float
    r: float
    bias: float
    refractory_steps: int  # round(refractory/dt)
    slots: int  # of the input ring
    record: bool  # raster: spikes kept per step
    trace: int  # 0: no trace; else the rank of the trace output (2, or 3 when batched)
    ints: tuple[str, ...] = ("spk", "cd", "first")  # the parts of the packed int buffer, in order
    count: bool = True  # spike counts kept (a decoder reads them): memory traffic only for what is read

    @staticmethod
    def of(op, dt: float, slots: int, record: bool, trace: int, ints: tuple[str, ...] = ("spk", "cd", "first"),
           count: bool = True) -> "Lif":
        return Lif(op.size.value.data, pymath.exp(-dt / op.value("tau")), op.value("v_th"), op.value("v_reset"),
                   op.value("v_rest"), op.value("r"), op.value("bias"), int(round(op.value("refractory") / dt)),
                   slots, record, trace, ints, count)


def _part(kb: KernelBuilder, c: Lif, name: str, bn: SSAValue, k: SSAValue) -> SSAValue:
    """Element ``k`` of part ``name`` of the packed int buffer (``Population.ints``)."""
    at = c.ints.index(name)
    return k if at == 0 else kb.addi(kb.muli(bn, kb.index(at)), k)


def membrane_kernel(name: str, c: Lif, loc: LocationAttr) -> kern.KernelOp:
    """One step of a LIF layer. Bindings: reals (the ring's ``slots`` parts, then v),
    ints (the parts ``c.ints``)[, count], t (i32), B (i32)[, record][, trace]. Grid [n, B]."""
    binds: list[Attribute] = [F1, I1] + ([I1] if c.count else []) + [i32, i32]
    if c.record:
        binds.append(I1)
    if c.trace:
        binds.append(memref(f32, c.trace))
    kb = KernelBuilder(name, 2, binds, loc)
    rest = list(kb.args)
    reals, ints = rest.pop(0), rest.pop(0)
    count = rest.pop(0) if c.count else None
    t, batch = rest.pop(0), rest.pop(0)
    i, bi, k = flat(kb, c.n)
    bn = kb.muli(kb.to_index(batch), kb.index(c.n))
    ti = kb.to_index(t)
    slot = kb.addi(kb.muli(kb.remi(ti, kb.index(c.slots)), bn), k)
    current = fadd(kb, kb.f32(c.bias), kb.load(reals, slot))
    kb.store(kb.f32(0.0), reals, slot)
    kv, kcd = kb.addi(kb.muli(bn, kb.index(c.slots)), k), _part(kb, c, "cd", bn, k)
    left = kb.load(ints, kcd)
    resting = kb.cmpi("sgt", left, kb.i32(0))
    v0 = kb.load(reals, kv)
    v_inf = fadd(kb, kb.f32(c.v_rest), fmul(kb, kb.f32(c.r), current))
    v1 = fadd(kb, v_inf, fmul(kb, fsub(kb, v0, v_inf), kb.f32(c.decay)))
    crossed = cmpf(kb, "oge", v1, kb.f32(c.v_th))
    fired = kb.add(arith.AndIOp(crossed, kb.cmpi("sle", left, kb.i32(0))))
    v_new = kb.select(resting, v0, kb.select(fired, kb.f32(c.v_reset), v1))
    kb.store(v_new, reals, kv)
    after = kb.i32(max(c.refractory_steps - 1, 0))
    kb.store(kb.select(resting, kb.subi(left, kb.i32(1)), kb.select(fired, after, kb.i32(0))), ints, kcd)
    one = kb.add(arith.ExtUIOp(fired, i32))
    if "spk" in c.ints:  # read by deliveries and STDP
        kb.store(one, ints, _part(kb, c, "spk", bn, k))
    if count is not None:
        kb.store(kb.addi(kb.load(count, k), one), count, k)
    if "first" in c.ints:
        kf = _part(kb, c, "first", bn, k)
        f0 = kb.load(ints, kf)
        kb.store(kb.select(kb.add(arith.AndIOp(fired, kb.cmpi("slt", f0, kb.i32(0)))), t, f0), ints, kf)
    if c.record:
        rec = rest.pop(0)
        kb.store(one, rec, kb.addi(kb.muli(ti, bn), k))
    if c.trace:
        tr = rest.pop(0)
        kb.store(v_new, tr, *([ti, i] if c.trace == 2 else [bi, ti, i]))
    return kb.finish()


def init_weights_kernel(name: str, kind: str, a: float, b_: float, stream: int, loc: LocationAttr
                        ) -> kern.KernelOp:
    """``W[row, col]`` from Philox counter (row, col, 0, stream): ``uniform`` a + (b - a)·u0,
    ``normal`` a + b·sqrt(-2 ln(1 - u0))·cos(2π u1), in f32. Bindings: W, key0, key1.
    Grid [cols, rows]."""
    kb = KernelBuilder(name, 2, [F2, i32, i32], loc)
    w, k0, k1 = kb.args
    col, row = kb.point(0), kb.point(1)
    words = philox.philox4x32_10(kb, (k0, k1), (row, col, kb.i32(0), kb.i32(stream)))
    u0 = philox.uniform01(kb, words[0])
    if kind == "uniform":
        lo, hi = kb.f32(a), kb.f32(b_)
        value = fadd(kb, lo, fmul(kb, fsub(kb, hi, lo), u0))
    else:
        u1 = philox.uniform01(kb, words[1])
        ln = kb.add(math.LogOp(fsub(kb, kb.f32(1.0), u0)))
        radius = kb.add(math.SqrtOp(fmul(kb, kb.f32(-2.0), ln)))
        angle = kb.add(math.CosOp(fmul(kb, kb.f32(2.0 * pymath.pi), u1)))
        value = fadd(kb, kb.f32(a), fmul(kb, fmul(kb, kb.f32(b_), radius), angle))
    kb.store(value, w, row, col)
    return kb.finish()


UNROLL = 64
"""Neurons per point of :func:`isolated_kernel` (fewer for a smaller layer): independent
dependency chains, which LLVM's SLP vectoriser packs into SIMD registers. Measured on
10,000 neurons x 10,000 steps (llvm, one thread): 2 -> 808 ms, 8 -> 250, 16 -> 98,
32 -> 41, 64 -> 24 ms (4.2 G updates/s); the per-step kernel took about 150-180 ms."""


BLOCK = 64  # steps per inner loop of isolated_kernel


def unroll(n: int) -> int:
    return min(UNROLL, n)


def isolated_kernel(name: str, c: Lif, loc: LocationAttr) -> kern.KernelOp:
    """All steps of a layer that neither receives nor sends spikes (its input is its
    bias), state in registers: the membrane step of :func:`membrane_kernel`, operation
    for operation, looped over the steps inside the kernel, for ``UNROLL`` neurons per
    point (``unroll(n)`` independent dependency chains). Bindings: v, ints (the parts
    countdown, first), count, steps (i32), B (i32). Grid [B, ceil(n / unroll(n))]."""
    U = unroll(c.n)
    kb = KernelBuilder(name, 2, [F1, I1, I1, i32, i32], loc)
    v, ints, count, steps, batch = kb.args
    bi, p = kb.point(0), kb.point(1)  # groups along y: the native host shares rows between threads
    base = kb.muli(bi, kb.index(c.n))
    bn = kb.muli(kb.to_index(batch), kb.index(c.n))
    idx = [kb.addi(base, kb.mini(kb.addi(kb.muli(p, kb.index(U)), kb.index(u)), kb.index(c.n - 1)))
           for u in range(U)]
    places = [[(v, k), (ints, _part(kb, c, "cd", bn, k)), (count, k), (ints, _part(kb, c, "first", bn, k))]
              for k in idx]
    inits: list[SSAValue] = []
    for where in places:
        inits += [kb.load(buf, at) for buf, at in where]
    current = kb.f32(c.bias)
    v_inf = fadd(kb, kb.f32(c.v_rest), fmul(kb, kb.f32(c.r), current))
    decay, v_th, v_reset = kb.f32(c.decay), kb.f32(c.v_th), kb.f32(c.v_reset)
    after, zero, one = kb.i32(max(c.refractory_steps - 1, 0)), kb.i32(0), kb.i32(1)

    def step(b: IRBuilder, ti: SSAValue, carried: list[SSAValue]) -> list[SSAValue]:
        t = b.to_i32(ti)
        out: list[SSAValue] = []
        for u in range(U):
            v0, left, n, f0 = carried[4 * u: 4 * u + 4]
            resting = b.cmpi("sgt", left, zero)
            v1 = fadd(b, v_inf, fmul(b, fsub(b, v0, v_inf), decay))
            fired = b.add(arith.AndIOp(cmpf(b, "oge", v1, v_th), b.cmpi("sle", left, zero)))
            out += [b.select(resting, v0, b.select(fired, v_reset, v1)),
                    b.select(resting, b.subi(left, one), b.select(fired, after, zero)),
                    b.addi(n, b.add(arith.ExtUIOp(fired, i32))),
                    b.select(b.add(arith.AndIOp(fired, b.cmpi("slt", f0, zero))), t, f0)]
        return out
    # steps in blocks of BLOCK: two loop levels tell the runtime (which weighs a point by
    # its loop nesting, llvm_abi.point_weight) that a point is long work, so the points
    # are shared among threads
    total = kb.to_index(steps)

    def block(b: IRBuilder, start: SSAValue, carried: list[SSAValue]) -> list[SSAValue]:
        end = b.mini(b.addi(start, b.index(BLOCK)), total)
        return b.loop(start, end, carried, step)
    final = kb.loop(kb.index(0), total, inits, block, step=BLOCK)
    for u in range(U):
        inside = kb.cmpi("slt", kb.addi(kb.muli(p, kb.index(U)), kb.index(u)), kb.index(c.n))

        def store(b: IRBuilder, u: int = u) -> list[SSAValue]:
            for value, (buf, at) in zip(final[4 * u: 4 * u + 4], places[u]):
                b.store(value, buf, at)
            return []
        kb.if_(inside, store)
    return kb.finish()
