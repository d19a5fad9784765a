"""The LLVM IR of the native worker pool (``native_pool`` compiles and drives it).

Written as IR text rather than C because no C compiler may be needed to install or run
ccomp: llvmlite's MCJIT turns this into machine code at first use, against the
libc/libpthread symbols already loaded in the process.

Protocol (every word on its own cache line):

* ``@work`` packs the job generation (high 32 bits) and the next unclaimed chunk (low
  32 bits). A thread claims chunk ``i`` of generation ``g`` by a compare-and-swap from
  ``(g, i)`` to ``(g, i + 1)``, so a worker that wakes late, still holding an old
  generation, can never take a chunk of a newer job: its CAS fails.
* The job descriptor (``@job``) is guarded like a seqlock: the launcher first stores
  ``(g + 1, 0xFFFFFFFF)`` ("being written"), then the fields, then ``(g + 1, 0)`` with
  seq_cst. A worker reads the fields, fences, and re-reads ``@work``: an unchanged
  generation proves the fields it read are that job's.
* ``@done`` counts finished chunks; the launcher claims chunks itself from the first
  moment and returns once ``@done`` reaches the chunk count, so it never waits for a
  worker that has not woken (it only waits for chunks already running).
* ``@owner`` is the one-launcher-at-a-time flag: a caller that cannot take it runs
  its chunks on its own thread.
* Idle workers spin on ``@work`` for ``@spin_limit`` pause iterations (calibrated by
  the Python side to tens of microseconds), then sleep on a pthread condition
  variable, counted in ``@sleepers``. The launcher's seq_cst store of the new
  generation and its seq_cst load of ``@sleepers`` against the sleeper's seq_cst
  increment and re-check (Dekker) mean a wake-up is sent exactly when someone may be
  asleep, and never lost. pthread mutex/cond rather than a raw futex: they are POSIX
  (Linux and macOS alike, no per-architecture syscall numbers), and sleeping is the
  slow path already, the fast path being the spin.

The workers' own code (their loop, start, stop) is in ``native_pool_workers_ir``.
"""

from __future__ import annotations

import platform

from ccomp.runtime.devices.native_pool_workers_ir import WORKERS_IR

HI = -4294967296  # 0xFFFFFFFF00000000 as i64: the generation half of @work
LO = 4294967295  # the chunk half; all ones = job being written
GEN = 4294967296  # one generation

_PAUSE = {
    "x86_64": ("declare void @llvm.x86.sse2.pause()", "call void @llvm.x86.sse2.pause()"),
    "amd64": ("declare void @llvm.x86.sse2.pause()", "call void @llvm.x86.sse2.pause()"),
    "aarch64": ("declare void @llvm.aarch64.hint(i32)", "call void @llvm.aarch64.hint(i32 1)"),
    "arm64": ("declare void @llvm.aarch64.hint(i32)", "call void @llvm.aarch64.hint(i32 1)"),
}

_TEMPLATE = r"""
%job = type { ptr, ptr, i64, i64, ptr, i64, i64 }

@work = internal global i64 0, align 64
@done = internal global i64 0, align 64
@job = internal global %job zeroinitializer, align 64
@owner = internal global i32 0, align 64
@sleepers = internal global i32 0, align 64
@stop = internal global i32 0, align 64
@state = internal global i32 0, align 64        ; 0 not started, 1 running, 2 stopped
@running = internal global i64 0, align 64      ; workers created
@threads = internal global ptr null, align 8
@spin_limit = internal global i64 2000, align 64
@mutex = internal global [256 x i8] zeroinitializer, align 64
@cond = internal global [256 x i8] zeroinitializer, align 64
@sigsets = internal global [512 x i8] zeroinitializer, align 64

declare i32 @pthread_create(ptr, ptr, ptr, ptr)
declare i32 @pthread_join(i64, ptr)
declare i32 @pthread_mutex_init(ptr, ptr)
declare i32 @pthread_mutex_lock(ptr)
declare i32 @pthread_mutex_unlock(ptr)
declare i32 @pthread_cond_init(ptr, ptr)
declare i32 @pthread_cond_wait(ptr, ptr)
declare i32 @pthread_cond_broadcast(ptr)
declare i32 @pthread_sigmask(i32, ptr, ptr)
declare i32 @sigfillset(ptr)
declare i32 @sched_yield()
declare ptr @malloc(i64)
declare void @free(ptr)
{pause_decl}

define internal void @pause() alwaysinline {
  {pause_call}
  ret void
}

define internal void @run_chunk(ptr %kernel, ptr %ctx, i64 %rows, i64 %n, ptr %partials, i64 %stride, i64 %i) {
  %a = mul i64 %rows, %i
  %lo = udiv i64 %a, %n
  %i1 = add i64 %i, 1
  %b = mul i64 %rows, %i1
  %hi = udiv i64 %b, %n
  %off = mul i64 %i, %stride
  %part = getelementptr i8, ptr %partials, i64 %off
  call void %kernel(ptr %ctx, i64 %lo, i64 %hi, ptr %part)
  ret void
}

define internal void @run_serial(ptr %kernel, ptr %ctx, i64 %rows, i64 %n, ptr %partials, i64 %stride) {
entry:
  %any = icmp sgt i64 %n, 0
  br i1 %any, label %loop, label %exit
loop:
  %i = phi i64 [ 0, %entry ], [ %next, %loop ]
  call void @run_chunk(ptr %kernel, ptr %ctx, i64 %rows, i64 %n, ptr %partials, i64 %stride, i64 %i)
  %next = add i64 %i, 1
  %more = icmp slt i64 %next, %n
  br i1 %more, label %loop, label %exit
exit:
  ret void
}

; The next chunk of generation %gen, or -1 when none is left (or the job is over).
define internal i64 @claim(i64 %gen, i64 %n) {
entry:
  %w0 = load atomic i64, ptr @work monotonic, align 8
  br label %loop
loop:
  %w = phi i64 [ %w0, %entry ], [ %seen, %try ]
  %g = and i64 %w, {HI}
  %same = icmp eq i64 %g, %gen
  br i1 %same, label %check, label %none
check:
  %i = and i64 %w, {LO}
  %left = icmp ult i64 %i, %n
  br i1 %left, label %try, label %none
try:
  %w1 = add i64 %w, 1
  %r = cmpxchg ptr @work, i64 %w, i64 %w1 acq_rel monotonic
  %seen = extractvalue { i64, i1 } %r, 0
  %ok = extractvalue { i64, i1 } %r, 1
  br i1 %ok, label %got, label %loop
got:
  ret i64 %i
none:
  ret i64 -1
}

define internal void @work_loop(i64 %gen, ptr %kernel, ptr %ctx, i64 %rows, i64 %n, ptr %partials, i64 %stride) {
entry:
  br label %loop
loop:
  %i = call i64 @claim(i64 %gen, i64 %n)
  %has = icmp sge i64 %i, 0
  br i1 %has, label %run, label %exit
run:
  call void @run_chunk(ptr %kernel, ptr %ctx, i64 %rows, i64 %n, ptr %partials, i64 %stride, i64 %i)
  %d = atomicrmw add ptr @done, i64 1 release
  br label %loop
exit:
  ret void
}

define internal void @wake_all() {
  %l = call i32 @pthread_mutex_lock(ptr @mutex)
  %b = call i32 @pthread_cond_broadcast(ptr @cond)
  %u = call i32 @pthread_mutex_unlock(ptr @mutex)
  ret void
}

define void @ccomp_parallel_for(ptr %kernel, ptr %ctx, i64 %rows, i64 %n, ptr %partials, i64 %stride, i64 %nthreads) {
entry:
  %many = icmp sgt i64 %n, 1
  %fits = icmp slt i64 %n, 2147483647
  %helped = icmp sgt i64 %nthreads, 1
  %c0 = and i1 %many, %fits
  %c1 = and i1 %c0, %helped
  br i1 %c1, label %own, label %serial
own:
  %r = cmpxchg ptr @owner, i32 0, i32 1 acquire monotonic
  %owned = extractvalue { i32, i1 } %r, 1
  br i1 %owned, label %ready, label %serial
ready:
  %st = load atomic i32, ptr @state monotonic, align 4
  %fresh = icmp eq i32 %st, 0
  br i1 %fresh, label %start, label %check
start:
  call void @start_workers()
  br label %check
check:
  %st2 = load atomic i32, ptr @state monotonic, align 4
  %up = icmp eq i32 %st2, 1
  %running = load atomic i64, ptr @running monotonic, align 8
  %some = icmp sgt i64 %running, 0
  %go = and i1 %up, %some
  br i1 %go, label %publish, label %serial.owned
serial.owned:
  call void @run_serial(ptr %kernel, ptr %ctx, i64 %rows, i64 %n, ptr %partials, i64 %stride)
  store atomic i32 0, ptr @owner release, align 4
  ret void
publish:
  %want = sub i64 %nthreads, 1
  %fewer = icmp slt i64 %want, %running
  %helpers = select i1 %fewer, i64 %want, i64 %running
  %w = load atomic i64, ptr @work monotonic, align 8
  %g = and i64 %w, {HI}
  %gen = add i64 %g, {GEN}
  %busy = or i64 %gen, {LO}
  store atomic i64 %busy, ptr @work monotonic, align 8
  fence release
  store atomic ptr %kernel, ptr @job monotonic, align 8
  %p.ctx = getelementptr %job, ptr @job, i64 0, i32 1
  store atomic ptr %ctx, ptr %p.ctx monotonic, align 8
  %p.rows = getelementptr %job, ptr @job, i64 0, i32 2
  store atomic i64 %rows, ptr %p.rows monotonic, align 8
  %p.n = getelementptr %job, ptr @job, i64 0, i32 3
  store atomic i64 %n, ptr %p.n monotonic, align 8
  %p.partials = getelementptr %job, ptr @job, i64 0, i32 4
  store atomic ptr %partials, ptr %p.partials monotonic, align 8
  %p.stride = getelementptr %job, ptr @job, i64 0, i32 5
  store atomic i64 %stride, ptr %p.stride monotonic, align 8
  %p.helpers = getelementptr %job, ptr @job, i64 0, i32 6
  store atomic i64 %helpers, ptr %p.helpers monotonic, align 8
  store atomic i64 0, ptr @done monotonic, align 8
  store atomic i64 %gen, ptr @work seq_cst, align 8
  %asleep = load atomic i32, ptr @sleepers seq_cst, align 4
  %wake = icmp sgt i32 %asleep, 0
  br i1 %wake, label %wake.all, label %work
wake.all:
  call void @wake_all()
  br label %work
work:
  call void @work_loop(i64 %gen, ptr %kernel, ptr %ctx, i64 %rows, i64 %n, ptr %partials, i64 %stride)
  br label %wait
wait:
  %k = phi i64 [ 0, %work ], [ %k1, %waited ]
  %d = load atomic i64, ptr @done acquire, align 8
  %all = icmp eq i64 %d, %n
  br i1 %all, label %finish, label %more
more:
  %limit = load atomic i64, ptr @spin_limit monotonic, align 8
  %spinning = icmp ult i64 %k, %limit
  br i1 %spinning, label %pausing, label %yielding
pausing:
  call void @pause()
  br label %waited
yielding:
  %y = call i32 @sched_yield()
  br label %waited
waited:
  %k1 = add i64 %k, 1
  br label %wait
finish:
  store atomic i32 0, ptr @owner release, align 4
  ret void
serial:
  call void @run_serial(ptr %kernel, ptr %ctx, i64 %rows, i64 %n, ptr %partials, i64 %stride)
  ret void
}

define void @ccomp_pool_set_spin(i64 %n) {
  store atomic i64 %n, ptr @spin_limit monotonic, align 8
  ret void
}

define i64 @ccomp_pool_workers() {
  %n = load atomic i64, ptr @running monotonic, align 8
  ret i64 %n
}

; The idle spin's body %n times, so the Python side can time one iteration.
define i64 @ccomp_pool_spin_probe(i64 %n) {
entry:
  %any = icmp sgt i64 %n, 0
  br i1 %any, label %loop, label %exit
loop:
  %i = phi i64 [ 0, %entry ], [ %next, %loop ]
  %halt = load atomic i32, ptr @stop monotonic, align 4
  %w = load atomic i64, ptr @work acquire, align 8
  call void @pause()
  %next = add i64 %i, 1
  %more = icmp slt i64 %next, %n
  br i1 %more, label %loop, label %exit
exit:
  ret i64 %n
}
"""

SYMBOLS = ("ccomp_parallel_for", "ccomp_pool_stop", "ccomp_pool_after_fork", "ccomp_pool_set_spin",
           "ccomp_pool_workers", "ccomp_pool_spin_probe")


def pool_ir(workers: int, sig_block: int, sig_setmask: int, machine: str | None = None) -> str:
    """The pool module for ``workers`` threads; ``sig_block``/``sig_setmask`` are the
    platform's ``SIG_BLOCK``/``SIG_SETMASK`` (Python's ``signal`` module knows them).
    The pause hint is x86's ``pause`` or AArch64's ``yield``; elsewhere the idle spin
    is a plain bounded loop."""
    decl, call = _PAUSE.get((machine or platform.machine()).lower(), ("", ""))
    text = _TEMPLATE + WORKERS_IR
    for key, value in (("{pause_decl}", decl), ("{pause_call}", call), ("{HI}", HI), ("{LO}", LO),
                       ("{GEN}", GEN), ("{workers}", workers), ("{thread_bytes}", 8 * max(workers, 1)),
                       ("{SIG_BLOCK}", sig_block), ("{SIG_SETMASK}", sig_setmask)):
        text = text.replace(key, str(value))
    return text
