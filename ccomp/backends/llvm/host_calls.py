"""The native host's calls back into the runtime table that are emitted once, not per
op: taking a buffer (prepared, or from Python), dropping a buffer reference, and polling Python between repeat-zone iterations
(see ``host.py`` and ``ccomp.runtime.devices.native_host_abi``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llvmlite import ir

from ccomp.backends.llvm.types import I32, I64, PTR
from ccomp.runtime.devices import native_host_abi as abi_

if TYPE_CHECKING:
    from ccomp.backends.llvm.host import HostEmitter

RELEASE = "ccomp.host.release"
ALLOC = "ccomp.host.alloc"


def alloc_function(module: ir.Module) -> ir.Function:
    """``ptr alloc(rt, i64 alloc_index)``, the sizes in ``rt[RT_DIMS..]``: the next
    prepared buffer when its index and sizes match (no call into Python, which costs
    more than the rest of a trivial program's allocation), else ``RT_ALLOC``'s."""
    existing = module.globals.get(ALLOC)
    if existing is not None:
        return existing  # type: ignore[return-value]
    fn = ir.Function(module, ir.FunctionType(PTR, [PTR, I64]), name=ALLOC)
    fn.linkage = "internal"
    rt, index = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    check, compare, take, slow = (fn.append_basic_block(n) for n in ("check", "compare", "take", "slow"))

    def word(base: ir.Value, i: int | ir.Value) -> ir.Value:
        at = ir.Constant(I64, i) if isinstance(i, int) else i
        return b.load(b.gep(base, [at], source_etype=I64), typ=I64, align=8)

    zero = ir.Constant(I64, 0)
    table_word = word(rt, abi_.RT_PREPARED)
    b.cbranch(b.icmp_unsigned("!=", table_word, zero), check, slow)
    b.position_at_end(check)
    table = b.inttoptr(table_word, PTR)
    taken = word(table, 1)
    b.cbranch(b.icmp_signed("<", taken, word(table, 0)), compare, slow)
    b.position_at_end(compare)
    entry = b.gep(table, [b.add(ir.Constant(I64, 2), b.mul(taken, ir.Constant(I64, abi_.PREPARED_ENTRY)))],
                  source_etype=I64)
    same = b.icmp_signed("==", word(entry, 0), index)
    for d in range(3):
        same = b.and_(same, b.icmp_signed("==", word(entry, 1 + d), word(rt, abi_.RT_DIMS + d)))
    b.cbranch(same, take, slow)
    b.position_at_end(take)
    b.store(b.add(taken, ir.Constant(I64, 1)), b.gep(table, [ir.Constant(I64, 1)], source_etype=I64), align=8)
    b.ret(b.inttoptr(word(entry, 4), PTR))
    b.position_at_end(slow)
    slot = word(rt, abi_.RT_ALLOC)
    dims = b.gep(rt, [ir.Constant(I64, abi_.RT_DIMS)], source_etype=I64)
    b.ret(b.call(b.inttoptr(slot, ir.PointerType(ir.FunctionType(PTR, [I64, PTR]))), [index, dims]))
    return fn


def release_function(module: ir.Module) -> ir.Function:
    """``void release(rt, header)``: drop a reference; at zero give the buffer back."""
    existing = module.globals.get(RELEASE)
    if existing is not None:
        return existing  # type: ignore[return-value]
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [PTR, PTR]), name=RELEASE)
    fn.linkage = "internal"
    rt, header = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    refs = b.sub(b.load(header, typ=I64, align=8), ir.Constant(I64, 1))
    b.store(refs, header, align=8)
    dead, call, done = fn.append_basic_block("dead"), fn.append_basic_block("call"), fn.append_basic_block("done")
    b.cbranch(b.icmp_signed("==", refs, ir.Constant(I64, 0)), dead, done)
    b.position_at_end(dead)
    ident = b.load(b.gep(header, [ir.Constant(I64, 1)], source_etype=I64), typ=I64, align=8)
    b.cbranch(b.icmp_signed("<", ident, ir.Constant(I64, 0)), done, call)
    b.position_at_end(call)
    slot = b.load(b.gep(rt, [ir.Constant(I64, abi_.RT_RELEASE)], source_etype=I64), typ=I64, align=8)
    b.call(b.inttoptr(slot, ir.PointerType(ir.FunctionType(ir.VoidType(), [I64]))), [ident])
    b.branch(done)
    b.position_at_end(done)
    b.ret_void()
    return fn


def now_ns(em: HostEmitter) -> ir.Value:
    """``CLOCK_MONOTONIC`` in nanoseconds (Python's ``perf_counter_ns`` on Linux)."""
    b = em.builder
    clock_gettime = em.declare("clock_gettime", I32, [I32, PTR])
    b.call(clock_gettime, [ir.Constant(I32, 1), em.clock])  # CLOCK_MONOTONIC
    seconds, nanos = em.word(em.clock, 0), em.word(em.clock, 1)
    return b.add(b.mul(seconds, ir.Constant(I64, 1_000_000_000)), nanos)


def emit_stamp(em: HostEmitter, entry: ir.Value, which: int) -> None:
    """When profiling (``RT_PROFILE`` set), store the clock as word ``which`` (0: start,
    1: end) of launch-log entry ``entry``'s timestamps. Off, a launch pays one load and
    a branch."""
    b = em.builder
    table = em.word(em.rt, abi_.RT_PROFILE)
    on, after = b.append_basic_block("stamp"), b.append_basic_block("stamped")
    b.cbranch(b.icmp_unsigned("!=", table, ir.Constant(I64, 0)), on, after)
    b.position_at_end(on)
    at = b.add(b.mul(entry, ir.Constant(I64, 2)), ir.Constant(I64, which))
    b.store(now_ns(em), em.word_ptr(b.inttoptr(table, PTR), at), align=8)
    b.branch(after)
    b.position_at_end(after)


def emit_poll(em: HostEmitter, done: ir.Value, total: ir.Value) -> None:
    """After an outermost iteration: call Python when a progress callback wants every
    iteration, or when ``RT_POLL_NS`` passed since the last poll (Ctrl-C)."""
    b = em.builder
    now = now_ns(em)
    elapsed = b.sub(now, em.word(em.rt, abi_.RT_LAST_POLL))
    due = b.or_(b.icmp_signed("!=", em.word(em.rt, abi_.RT_PROGRESS), ir.Constant(I64, 0)),
                b.icmp_signed(">=", elapsed, em.word(em.rt, abi_.RT_POLL_NS)))
    call, after = b.append_basic_block("poll"), b.append_basic_block("polled")
    b.cbranch(due, call, after)
    b.position_at_end(call)
    b.store(now, em.word_ptr(em.rt, abi_.RT_LAST_POLL), align=8)
    stop = em.rt_call(abi_.RT_POLL, I32, [done, total])
    em.exit_if(b.icmp_signed("!=", stop, ir.Constant(I32, 0)), abi_.STOPPED)
    b.branch(after)
    b.position_at_end(after)
