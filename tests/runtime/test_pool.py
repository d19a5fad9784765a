"""The buffer pool's public budget and what it keeps free.

A program called with changing shapes must not hoard free buffers (it kept a gigabyte
over 120 heat calls of new shapes, with no hit), while a steady loop keeps its pool
hits; ``prog.clear()`` empties the pool. Assertions use the pool's own accounting,
which is deterministic; RSS is only logged.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from xdsl.dialects.builtin import MemRefType, f32

import ccomp
from ccomp.runtime.devices.base import nbytes
from ccomp.runtime.devices.llvm import LLVMDevice
from ccomp.runtime.pool import DEFAULT_BUDGET, KEEP_CALLS, BudgetError, BufferPool, parse_budget

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "differential"))
from looputil import TARGETS, assert_matches, fresh, reference, rss_bytes  # noqa: E402

log = logging.getLogger(__name__)
HEAT = (Path(__file__).resolve().parents[2] / "examples" / "heat.cn").read_text()


@pytest.mark.parametrize("text, size", [
    ("0", 0), ("536870912", 536870912), ("512MB", 512 * 10**6), ("512 mb", 512 * 10**6),
    ("2GiB", 2 << 30), ("2G", 2 << 30), ("1.5KiB", 1536), ("64kB", 64000), ("100B", 100), (1234, 1234),
])
def test_budget_sizes(text, size):
    assert parse_budget(text) == size


@pytest.mark.parametrize("bad", ["", "-1", "12XB", "GiB", "1e9", "lots", -5, 1.5, True, None])
def test_budget_errors_say_what_is_accepted(bad):
    with pytest.raises(BudgetError, match=r"memory_budget: .*512MB, 2GiB"):
        parse_budget(bad)


def test_budget_from_argument_environment_and_default(monkeypatch):
    monkeypatch.delenv("CCOMP_MEMORY_BUDGET", raising=False)
    assert ccomp.compile(HEAT).pool.budget == DEFAULT_BUDGET
    monkeypatch.setenv("CCOMP_MEMORY_BUDGET", "2MiB")
    assert ccomp.compile(HEAT).pool.budget == 2 << 20
    assert ccomp.compile(HEAT, memory_budget="3MB").pool.budget == 3 * 10**6  # the argument wins
    monkeypatch.setenv("CCOMP_MEMORY_BUDGET", "plenty")
    with pytest.raises(ccomp.CompileError, match="CCOMP_MEMORY_BUDGET: 'plenty' is not a size"):
        ccomp.compile(HEAT)


def test_invalid_budget_argument_is_a_compile_error():
    with pytest.raises(ccomp.CompileError, match="memory_budget: a budget cannot be negative"):
        ccomp.compile(HEAT, memory_budget=-1)


def test_budget_is_not_part_of_the_cached_build():
    ccomp.compile(HEAT, memory_budget="1MB")
    prog = ccomp.compile(HEAT, memory_budget="7MB")
    assert prog.cached and prog.pool.budget == 7 * 10**6


@pytest.mark.parametrize("target", TARGETS)
def test_changing_shapes_keep_few_free_buffers(target):
    """120 heat calls, each of a new shape: free buffers of shapes no longer asked for
    go back to the driver, so what the pool holds free stays within the last few calls'
    buffers (all 120 calls' buffers were kept before)."""
    prog = fresh(HEAT, target)
    pool, rss = prog.pool, rss_bytes()
    recent: list[int] = []  # bytes of one image of each call, newest last
    made = 0
    for i in range(120):
        u = np.full((40 + i, 24 + (i % 7)), 1.0, np.float32)
        out = prog(u, 3)
        recent = (recent + [u.nbytes])[-(KEEP_CALLS + 1):]
        made += 3 * u.nbytes
        # at most the two ping-pong buffers and one output of each call still kept
        assert pool.free_bytes <= 3 * sum(recent), (i, pool)
        assert len(pool.free) <= 3 * (KEEP_CALLS + 1)
    assert_matches(out, reference(HEAT, "heat", [u, np.int32(3)])[0])
    assert pool.released > 100 and pool.free_bytes < made / 20
    log.info("%s: 120 shapes, pool %r, RSS %+d MB", target, pool, (rss_bytes() - rss) >> 20)


@pytest.mark.parametrize("target", TARGETS)
def test_steady_calls_keep_reusing_their_buffers(target):
    prog = fresh(HEAT, target)
    u = np.random.default_rng(1).random((64, 48), np.float32)
    for _ in range(3):
        out = prog(u, 20)
    misses, released = prog.pool.misses, prog.pool.released
    for _ in range(30):
        out = prog(u, 20)
    assert prog.pool.misses == misses and prog.pool.released == released
    assert_matches(out, reference(HEAT, "heat", [u, np.int32(20)])[0], atol=1e-4)


@pytest.mark.parametrize("target", TARGETS)
def test_clear_frees_what_the_pool_holds(target):
    prog = fresh(HEAT, target)
    u = np.random.default_rng(2).random((33, 17), np.float32)
    for shape in [(33, 17), (20, 30), (33, 17)]:
        prog(np.resize(u, shape).astype(np.float32), 4)
    assert prog.pool.free_bytes > 0
    prog.clear()
    assert prog.pool.free_bytes == 0 and not prog.pool.free
    assert_matches(prog(u, 4), reference(HEAT, "heat", [u, np.int32(4)])[0])  # still usable


def test_zero_budget_keeps_nothing_and_still_computes():
    prog = ccomp.compile(HEAT, memory_budget=0)
    u = np.random.default_rng(3).random((16, 16), np.float32)
    assert_matches(prog(u, 10), reference(HEAT, "heat", [u, np.int32(10)])[0])
    assert prog.pool.free_bytes == 0


def test_over_budget_drops_shapes_no_longer_requested_first():
    """Least recently *freed* would drop a B buffer here; the A buffer goes instead,
    since A was last requested a call earlier."""
    t = MemRefType(f32, [4, 8])
    a_dims, b_dims = (4, 8), (8, 4)
    size = nbytes(t, a_dims)
    pool = BufferPool(LLVMDevice(), budget=2 * size)
    pool.begin_call()
    a = pool.alloc(t, a_dims)
    pool.begin_call()
    b1, b2 = pool.alloc(t, b_dims), pool.alloc(t, b_dims)
    del b1, a, b2  # freed in this order: b1, then a, then b2 (over budget)
    assert [key[1] for key, *_ in pool.free.values()] == [b_dims, b_dims]
    assert pool.free_bytes == 2 * size and pool.released == 1


def test_free_buffers_unused_for_a_few_calls_are_released():
    t = MemRefType(f32, [4, 8])
    pool = BufferPool(LLVMDevice())
    pool.begin_call()
    buf = pool.alloc(t, (4, 8))
    del buf
    for _ in range(KEEP_CALLS):
        pool.begin_call()
        assert len(pool.free) == 1  # kept while recent
    pool.begin_call()
    assert not pool.free and pool.free_bytes == 0 and pool.released == 1
