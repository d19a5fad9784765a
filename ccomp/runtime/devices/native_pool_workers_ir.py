"""The LLVM IR of the pool's threads: the worker loop, their start, their stop and join,
and the reset of a forked child (``native_pool_ir`` holds the launcher's side and
the protocol both follow; ``pool_ir`` joins the two texts).

A worker waits for a new generation in ``@work`` (spinning ``@spin_limit`` pause
iterations, then asleep on ``@cond`` counted in ``@sleepers``), reads the job
descriptor and validates it against ``@work`` (seqlock), joins the job only if its id
is below the job's helper count (the launcher's ``nthreads - 1``), and claims chunks
until none is left. Workers are created by the first launcher that owns the pool, with
every signal blocked, so Ctrl-C always reaches a Python thread.
"""

from __future__ import annotations

WORKERS_IR = r"""
define internal ptr @worker(ptr %arg) {
entry:
  %id = ptrtoint ptr %arg to i64
  %seen.p = alloca i64
  %k.p = alloca i64
  %w0 = load atomic i64, ptr @work acquire, align 8
  %g0 = and i64 %w0, {HI}
  store i64 %g0, ptr %seen.p
  br label %idle
idle:
  store i64 0, ptr %k.p
  br label %spin
spin:
  %halt = load atomic i32, ptr @stop monotonic, align 4
  %stopping = icmp ne i32 %halt, 0
  br i1 %stopping, label %exit, label %look
look:
  %w = load atomic i64, ptr @work acquire, align 8
  %g = and i64 %w, {HI}
  %seen = load i64, ptr %seen.p
  %new = icmp ne i64 %g, %seen
  br i1 %new, label %arrived, label %spin.more
spin.more:
  %k = load i64, ptr %k.p
  %limit = load atomic i64, ptr @spin_limit monotonic, align 8
  %more = icmp ult i64 %k, %limit
  br i1 %more, label %spin.pause, label %sleep
spin.pause:
  call void @pause()
  %k.now = load i64, ptr %k.p
  %k1 = add i64 %k.now, 1
  store i64 %k1, ptr %k.p
  br label %spin
sleep:
  %l = call i32 @pthread_mutex_lock(ptr @mutex)
  %s.in = atomicrmw add ptr @sleepers, i32 1 seq_cst
  br label %sleep.check
sleep.check:
  %ws = load atomic i64, ptr @work seq_cst, align 8
  %gs = and i64 %ws, {HI}
  %seen2 = load i64, ptr %seen.p
  %same = icmp eq i64 %gs, %seen2
  %st = load atomic i32, ptr @stop seq_cst, align 4
  %live = icmp eq i32 %st, 0
  %wait = and i1 %same, %live
  br i1 %wait, label %sleep.wait, label %sleep.done
sleep.wait:
  %cw = call i32 @pthread_cond_wait(ptr @cond, ptr @mutex)
  br label %sleep.check
sleep.done:
  %s.out = atomicrmw sub ptr @sleepers, i32 1 seq_cst
  %u = call i32 @pthread_mutex_unlock(ptr @mutex)
  br label %idle
arrived:
  %lo = and i64 %w, {LO}
  %writing = icmp eq i64 %lo, {LO}
  br i1 %writing, label %spin.pause, label %read
read:
  %f.kernel = load atomic ptr, ptr @job monotonic, align 8
  %p.ctx = getelementptr %job, ptr @job, i64 0, i32 1
  %f.ctx = load atomic ptr, ptr %p.ctx monotonic, align 8
  %p.rows = getelementptr %job, ptr @job, i64 0, i32 2
  %f.rows = load atomic i64, ptr %p.rows monotonic, align 8
  %p.n = getelementptr %job, ptr @job, i64 0, i32 3
  %f.n = load atomic i64, ptr %p.n monotonic, align 8
  %p.partials = getelementptr %job, ptr @job, i64 0, i32 4
  %f.partials = load atomic ptr, ptr %p.partials monotonic, align 8
  %p.stride = getelementptr %job, ptr @job, i64 0, i32 5
  %f.stride = load atomic i64, ptr %p.stride monotonic, align 8
  %p.helpers = getelementptr %job, ptr @job, i64 0, i32 6
  %f.helpers = load atomic i64, ptr %p.helpers monotonic, align 8
  fence acquire
  %w2 = load atomic i64, ptr @work monotonic, align 8
  %g2 = and i64 %w2, {HI}
  %valid = icmp eq i64 %g2, %g
  br i1 %valid, label %join, label %spin
join:
  store i64 %g, ptr %seen.p
  %mine = icmp ult i64 %id, %f.helpers
  br i1 %mine, label %help, label %idle
help:
  call void @work_loop(i64 %g, ptr %f.kernel, ptr %f.ctx, i64 %f.rows, i64 %f.n, ptr %f.partials, i64 %f.stride)
  br label %idle
exit:
  ret ptr null
}

; Called by the owner only: create the workers with every signal blocked.
define internal void @start_workers() {
entry:
  %mi = call i32 @pthread_mutex_init(ptr @mutex, ptr null)
  %ci = call i32 @pthread_cond_init(ptr @cond, ptr null)
  store atomic i32 0, ptr @stop monotonic, align 4
  store atomic i32 0, ptr @sleepers monotonic, align 4
  %arr = call ptr @malloc(i64 {thread_bytes})
  store ptr %arr, ptr @threads
  %old = getelementptr i8, ptr @sigsets, i64 256
  %ff = call i32 @sigfillset(ptr @sigsets)
  %m1 = call i32 @pthread_sigmask(i32 {SIG_BLOCK}, ptr @sigsets, ptr %old)
  %null = icmp eq ptr %arr, null
  %nobody = icmp sle i64 {workers}, 0
  %none = or i1 %null, %nobody
  br i1 %none, label %made, label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %next, %ok ]
  %slot = getelementptr i64, ptr %arr, i64 %i
  %arg = inttoptr i64 %i to ptr
  %rc = call i32 @pthread_create(ptr %slot, ptr null, ptr @worker, ptr %arg)
  %failed = icmp ne i32 %rc, 0
  br i1 %failed, label %made, label %ok
ok:
  %next = add i64 %i, 1
  %more = icmp slt i64 %next, {workers}
  br i1 %more, label %loop, label %made
made:
  %count = phi i64 [ 0, %entry ], [ %i, %loop ], [ %next, %ok ]
  %m2 = call i32 @pthread_sigmask(i32 {SIG_SETMASK}, ptr %old, ptr null)
  store atomic i64 %count, ptr @running monotonic, align 8
  store atomic i32 1, ptr @state monotonic, align 4
  ret void
}

; Stop and join the workers (waits for a launch in progress); later launches run serially.
define void @ccomp_pool_stop() {
entry:
  br label %acquire
acquire:
  %r = cmpxchg ptr @owner, i32 0, i32 1 acquire monotonic
  %owned = extractvalue { i32, i1 } %r, 1
  br i1 %owned, label %owned.bb, label %busy
busy:
  %y = call i32 @sched_yield()
  br label %acquire
owned.bb:
  %st = load atomic i32, ptr @state monotonic, align 4
  %up = icmp eq i32 %st, 1
  br i1 %up, label %halt, label %mark
halt:
  store atomic i32 1, ptr @stop seq_cst, align 4
  call void @wake_all()
  %count = load atomic i64, ptr @running monotonic, align 8
  %arr = load ptr, ptr @threads
  %any = icmp sgt i64 %count, 0
  br i1 %any, label %join, label %joined
join:
  %i = phi i64 [ 0, %halt ], [ %next, %join ]
  %slot = getelementptr i64, ptr %arr, i64 %i
  %t = load i64, ptr %slot
  %jr = call i32 @pthread_join(i64 %t, ptr null)
  %next = add i64 %i, 1
  %more = icmp slt i64 %next, %count
  br i1 %more, label %join, label %joined
joined:
  call void @free(ptr %arr)
  store ptr null, ptr @threads
  store atomic i64 0, ptr @running monotonic, align 8
  br label %mark
mark:
  store atomic i32 2, ptr @state monotonic, align 4
  store atomic i32 0, ptr @owner release, align 4
  ret void
}

; In a forked child no worker exists: forget them (the next parallel launch starts new ones).
define void @ccomp_pool_after_fork() {
  store atomic i32 0, ptr @stop monotonic, align 4
  store atomic i32 0, ptr @sleepers monotonic, align 4
  store atomic i64 0, ptr @running monotonic, align 8
  store ptr null, ptr @threads
  store atomic i32 0, ptr @state monotonic, align 4
  store atomic i32 0, ptr @owner release, align 4
  ret void
}
"""
