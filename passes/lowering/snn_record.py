"""Kernels that record spikes and read results out of a network's state (``snn-lower``):
input tallies and per-step records during the time loop, then copies into the
outputs' shapes, rates, and the raster compacted from the record."""

from __future__ import annotations

from xdsl.dialects import arith
from xdsl.dialects.builtin import LocationAttr, f32, i32
from xdsl.ir import Attribute, SSAValue

from ccomp.dialects import kern
from ccomp.passes.lowering.builder import IRBuilder, KernelBuilder
from ccomp.passes.lowering.snn_kernels import I1, I2, flat, memref


def copy_kernel(name: str, elem: Attribute, out_rank: int, n: int, loc: LocationAttr) -> kern.KernelOp:
    """``out[b, i] = src[at + b*n + i]`` (``out[i]`` for an unbatched rank-1 result): ``at``
    the part of a packed state buffer. Bindings: src, out, at (i32). Grid [n, B]."""
    kb = KernelBuilder(name, 2, [memref(elem, 1), memref(elem, out_rank), i32], loc)
    src, out, at = kb.args
    i, bi, k = flat(kb, n)
    kb.store(kb.load(src, kb.addi(kb.to_index(at), k)), out, *([i] if out_rank == 1 else [bi, i]))
    return kb.finish()


def rate_kernel(name: str, out_rank: int, n: int, loc: LocationAttr) -> kern.KernelOp:
    """``out = count / (steps·dt)`` in Hz. Bindings: count, out, seconds (f32). Grid [n, B]."""
    kb = KernelBuilder(name, 2, [I1, memref(f32, out_rank), f32], loc)
    count, out, seconds = kb.args
    i, bi, k = flat(kb, n)
    c = kb.add(arith.SIToFPOp(kb.load(count, k), f32))
    safe = kb.add(arith.MaximumfOp(seconds, kb.f32(1e-30)))
    kb.store(kb.add(arith.DivfOp(c, safe)), out, *([i] if out_rank == 1 else [bi, i]))
    return kb.finish()


def record_kernel(name: str, n: int, loc: LocationAttr) -> kern.KernelOp:
    """``rec[t·B·n + k] = spk[k]`` (an input population's raster). Bindings: spk, rec, t,
    B. Grid [n, B]."""
    kb = KernelBuilder(name, 2, [I1, I1, i32, i32], loc)
    spk, rec, t, batch = kb.args
    _, _, k = flat(kb, n)
    bn = kb.muli(kb.to_index(batch), kb.index(n))
    kb.store(kb.load(spk, k), rec, kb.addi(kb.muli(kb.to_index(t), bn), k))
    return kb.finish()


def tally_kernel(name: str, n: int, loc: LocationAttr) -> kern.KernelOp:
    """An input population's spike count and first spike. Bindings: spk, count, first,
    t. Grid [n, B]."""
    kb = KernelBuilder(name, 2, [I1, I1, I1, i32], loc)
    spk, count, first, t = kb.args
    _, _, k = flat(kb, n)
    s = kb.load(spk, k)
    kb.store(kb.addi(kb.load(count, k), s), count, k)
    f0 = kb.load(first, k)
    fire = kb.add(arith.AndIOp(kb.cmpi("ne", s, kb.i32(0)), kb.cmpi("slt", f0, kb.i32(0))))
    kb.store(kb.select(fire, t, f0), first, k)
    return kb.finish()


def count_kernel(name: str, loc: LocationAttr) -> kern.KernelOp:
    """The number of recorded spikes (a sum). Bindings: rec. Grid [len(rec)]."""
    kb = KernelBuilder(name, 1, [I1], loc, reduce="add")
    (rec,) = kb.args
    return kb.finish(kb.load(rec, kb.point(0)))


def raster_kernel(name: str, n: int, batched: bool, loc: LocationAttr) -> kern.KernelOp:
    """The recorded spikes as rows (step, neuron) — (batch, step, neuron) when batched —
    sorted by batch, step, neuron. Bindings: rec, out, T (i32), B (i32). Grid [1]."""
    kb = KernelBuilder(name, 1, [I1, I2, i32, i32], loc)
    rec, out, steps, batch = kb.args
    nb = kb.to_index(batch)
    total = kb.dim(out, 0)

    def per_batch(b: IRBuilder, bi: SSAValue, c: list[SSAValue]) -> list[SSAValue]:
        def per_step(b: IRBuilder, t: SSAValue, c: list[SSAValue]) -> list[SSAValue]:
            row = b.muli(b.addi(b.muli(t, nb), bi), b.index(n))

            def per_neuron(b: IRBuilder, j: SSAValue, c: list[SSAValue]) -> list[SSAValue]:
                k = c[0]
                hit = b.add(arith.AndIOp(b.cmpi("ne", b.load(rec, b.addi(row, j)), b.i32(0)),
                                         b.cmpi("slt", k, total)))

                def write(b: IRBuilder) -> list[SSAValue]:
                    cols = ([bi] if batched else []) + [t, j]
                    for col, v in enumerate(cols):
                        b.store(b.to_i32(v), out, k, b.index(col))
                    return [b.addi(k, b.index(1))]
                return b.if_(hit, write, lambda b: [k], [k.type])
            return b.loop(b.index(0), b.index(n), c, per_neuron)
        return b.loop(b.index(0), b.to_index(steps), c, per_step)
    kb.loop(kb.index(0), nb, [kb.index(0)], per_batch)
    return kb.finish()
