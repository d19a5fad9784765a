"""The calling convention between Python and a host schedule compiled to native code.

On the llvm target the LLVM backend lowers each host schedule (an L2 ``func.func``:
allocations, sizes, repeat-zone loops, launches, checks, reduction combines) into
the same LLVM module as the kernels, as one exported function::

    i32 <name>.host(i64* rt, i64* args, i64* outs, i64* status)

so a program call crosses from Python into native code once, whatever the number of
launches. Both sides derive every offset below from the ``func.func`` alone
(``describe_host``), the way kernels and the device agree through ``llvm_abi``.

``args`` — one group of words per function argument, in order: a memref of rank r
is ``[header, data, d0 .. d(r-1)]``; a scalar is ``[address of its value]`` (stored
in its natural layout, ``i1`` as one byte, vectors packed).

``outs`` — the same for results, written by the host function: memrefs as
``[header, data, dims]``, scalars by value at the word's address (``lanes`` words).

Buffers are reference counted so that a buffer nobody holds goes back to the pool
at once and buffers with disjoint lifetimes share storage, as under the Python
host: a *header* is three words ``[refs, id, data]``. Python allocates every buffer
(``RT_ALLOC`` returns a header with ``refs = 1``) so its :class:`BufferPool` keeps
doing reuse and budgets; the native code counts references and calls
``RT_RELEASE(id)`` when one drops to zero. Inputs have ``id < 0`` and are never
released to Python.

``rt`` — the runtime table, filled by Python once per runner (a few words per call).
``status`` — why the call stopped early: ``[check index, value words...]``.
"""

from __future__ import annotations

import ctypes
import hashlib
from dataclasses import dataclass

from xdsl.dialects import func, memref
from xdsl.dialects.builtin import MemRefType
from xdsl.ir import Attribute

from ccomp.dialects import kern
from ccomp.runtime.devices.base import element_layout

# ----- rt words ---------------------------------------------------------------------
RT_PARALLEL_FOR = 0  # void (ptr kernel, ptr ctx, i64 rows, i64 nchunks, ptr partials, i64 stride, i64 nthreads)
RT_ALLOC = 1  # ptr header (i64 alloc_index, ptr dims)  — null: Python raised, stop; see RT_PREPARED
RT_RELEASE = 2  # void (i64 id)
RT_POLL = 3  # i32 (i64 done, i64 total)  — non-zero: stop (Ctrl-C, or progress raised)
RT_ALIAS = 4  # ptr (i64 kernel_index): the kernel's may-alias variant — null: stop
RT_THREADS = 5  # threads a launch may use
RT_PROGRESS = 6  # 1: poll after every outermost iteration (a progress callback is set)
RT_LOG = 7  # i64* launch log: 4 words per launch (kernel index, grid x, y, z)
RT_LOG_COUNT = 8  # entries written (the native code increments it)
RT_LOG_CAPACITY = 9
RT_FLUSH = 10  # void (): the log is full; Python takes the entries and resets the count
RT_POLL_NS = 11  # poll at least this often (nanoseconds) when no progress callback is set
RT_LAST_POLL = 12  # native state: the clock at the last poll
RT_MIN_PARALLEL = 13  # points below which a launch runs on the calling thread
RT_CHUNKS_PER_THREAD = 14
RT_PROFILE = 15  # i64* or 0: per launch-log entry, [start ns, end ns] (CLOCK_MONOTONIC) when profiling
RT_DIMS = 16  # 3 words: the sizes of the buffer RT_ALLOC is asked for (also its ``dims`` argument)
RT_PREPARED = 19  # i64* or 0: buffers Python allocated before the call, taken in order (below)
RT_WORDS = 20

# The prepared table: ``[count, taken, entries...]``, each entry ``[alloc_index, d0, d1,
# d2, header]`` (unused dims 0). An allocation whose index and sizes equal entry
# ``taken`` takes its header (refs 1) without calling Python; any other goes to
# RT_ALLOC. Python allocates the entries from the pool (same checks) and drops the
# ones not taken once the call returns.
PREPARED_ENTRY = 5
PREPARED_MAX = 8

# Bumped whenever the words above change meaning: it is part of the fingerprint, so a
# build folder compiled against an older layout runs on the Python host instead.
ABI_VERSION = 2

# A loaded build's launch guards (``ccomp.runtime.launch_guard``) are checks the compiled
# schedule never had: they do not count in the ABI, and the native host, which runs
# the schedule the backend compiled rather than the loaded text, does not need them.
GUARD_PREFIX = "build check:"

MAX_CHUNKS = 256  # partials kept per reduce launch: chunks are capped to it
LOG_WORDS = 4

# ----- return codes -----------------------------------------------------------------
OK, CHECK_FAILED, STOPPED, ALLOC_FAILED, ALIAS_FAILED = 0, 1, 2, 3, 4

ALLOC_FN = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p)
RELEASE_FN = ctypes.CFUNCTYPE(None, ctypes.c_int64)
POLL_FN = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_int64, ctypes.c_int64)
ALIAS_FN = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_int64)
FLUSH_FN = ctypes.CFUNCTYPE(None)
HOST_FN = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


def host_symbol(fn: func.FuncOp) -> str:
    """The exported LLVM name of ``fn``'s native host function (its fingerprint is
    returned by ``<symbol>.abi``)."""
    return fn.sym_name.data + ".host"


def words_of(t: Attribute) -> int:
    """Words a value of type ``t`` takes in ``args``/``outs``."""
    if isinstance(t, MemRefType):
        return 2 + t.get_num_dims()
    layout = element_layout(t)
    return max(1, (layout.lanes * layout.dtype.itemsize + 7) // 8)


def _offsets(types: list[Attribute], scalars_by_address: bool) -> tuple[list[int], int]:
    offsets, at = [], 0
    for t in types:
        offsets.append(at)
        at += words_of(t) if isinstance(t, MemRefType) or not scalars_by_address else 1
    return offsets, at


@dataclass(frozen=True)
class HostABI:
    """Offsets and tables of one host function, the same on both sides of the call."""

    symbol: str
    arg_types: tuple[Attribute, ...]
    arg_offsets: tuple[int, ...]
    arg_words: int
    result_types: tuple[Attribute, ...]
    result_offsets: tuple[int, ...]
    result_words: int
    allocs: tuple[MemRefType, ...]  # RT_ALLOC's alloc_index -> the buffer type
    checks: tuple[kern.CheckOp, ...]  # status[0] -> the check that failed
    kernels: tuple[str, ...]  # kernel index (launch log, RT_ALIAS) -> kernel name
    status_words: int

    schedule: str  # the schedule's text without launch guards

    @property
    def fingerprint(self) -> int:
        """A 64-bit digest of the schedule. The backend compiles it into
        ``<symbol>.abi()``; the runtime uses the native host only when it equals the
        digest of the ``func.func`` it loaded, so a build folder whose ``host.mlir`` was
        edited after its ``.ll`` was made runs the loaded schedule on the Python host,
        launch guards and all, rather than the compiled one or words at wrong offsets.
        ``ABI_VERSION`` is in it too: a native host compiled against another layout of
        the ``rt`` words is refused the same way."""
        text = f"native host ABI {ABI_VERSION}\n{self.schedule}"
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little", signed=True)


def _without_guards(fn: func.FuncOp) -> func.FuncOp:
    """``fn`` as the compiler made it: a loaded build's launch guards (checks with
    ``GUARD_PREFIX``, and the ops that only compute their operands) taken out."""
    guards = [op for op in fn.walk() if isinstance(op, kern.CheckOp) and op.message.data.startswith(GUARD_PREFIX)]
    if not guards:
        return fn
    clone = fn.clone()
    ops = list(fn.walk())
    twin = dict(zip(ops, clone.walk(), strict=True))
    dead = set(guards)
    for op in reversed(ops):  # operands are defined before their uses: one backward pass
        uses = [use.operation for r in op.results for use in r.uses]
        if uses and not op.regions and all(user in dead for user in uses):
            dead.add(op)
    for op in reversed(ops):
        if op in dead:
            twin[op].detach()
            twin[op].erase()
    return clone


def describe_host(fn: func.FuncOp) -> HostABI:
    """The ABI of ``fn``: walks it in program order, so allocations, checks and
    launched kernels are numbered identically by the backend and the runtime."""
    arg_types = [a.type for a in fn.body.block.args]
    result_types = list(fn.function_type.outputs.data)
    arg_offsets, arg_words = _offsets(arg_types, scalars_by_address=True)
    result_offsets, result_words = _offsets(result_types, scalars_by_address=False)
    allocs: list[MemRefType] = []
    checks: list[kern.CheckOp] = []
    kernels: list[str] = []
    for op in fn.walk():
        if isinstance(op, memref.AllocOp):
            allocs.append(op.memref.type)
        elif isinstance(op, kern.CheckOp) and not op.message.data.startswith(GUARD_PREFIX):
            checks.append(op)
        elif isinstance(op, kern.LaunchOp) and op.kernel_name not in kernels:
            kernels.append(op.kernel_name)
    schedule = str(_without_guards(fn))
    status = 1 + max([sum(words_of(v.type) for v in c.values) for c in checks] or [0])
    return HostABI(host_symbol(fn), tuple(arg_types), tuple(arg_offsets), arg_words, tuple(result_types),
                   tuple(result_offsets), result_words, tuple(allocs), tuple(checks), tuple(kernels), status,
                   schedule)
