"""Compiled actor handlers against NumPy, on batches: state threaded through a batch,
variable-length tensor fields, replies and sends, failed rows.

Each handler runs through ``compile_actor_program`` — frontend, ``actor-lower``, the
target's real backend and device — and its ``HandlerSpec.run`` is called as the actor
runtime calls it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from ccomp.driver.actors import compile_actor_program
from ccomp.runtime.actors.spec import Batch
from refutil import TARGETS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@lru_cache(maxsize=None)
def program(name: str, target: str):
    return compile_actor_program(EXAMPLES / name, target)


def ragged(rng: np.random.Generator, n: int, longest: int = 9) -> tuple[np.ndarray, np.ndarray]:
    lens = rng.integers(0, longest, n)
    off = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    return rng.standard_normal(int(off[-1])).astype(np.float32), off


@pytest.mark.parametrize("target", TARGETS)
def test_stats_matches_numpy_and_threads_state(target):
    prog = program("stats.cn", target)
    summarise = prog.actors["summarise"]
    assert (summarise.capacity, summarise.policy) == (1024, "block")
    assert [(s.name, s.dtype, s.init) for s in summarise.state] == [("seen", "int64", 0)]
    handler = summarise.handlers["Samples"]
    assert (handler.reply, handler.sends) == ("Summary", ())
    rng = np.random.default_rng(1)
    state = {"seen": np.array(0, np.int64)}
    seen = 0
    for n in (1, 17, 64):  # several batches: the state carries over between them
        values, off = ragged(rng, n)
        # a batch may be a slice of a larger buffer: offsets need not start at 0
        pad = rng.standard_normal(3).astype(np.float32)
        res = handler.run(state, Batch("Samples", n, {"data": np.concatenate([pad, values])},
                                       {"data": off + 3}))
        rows = [values[off[i]:off[i + 1]] for i in range(n)]
        counts = seen + np.cumsum([len(r) for r in rows])
        seen = int(counts[-1])
        assert res.failed is not None and not res.failed.any() and res.errors == {}
        out = res.replies
        assert (out.message, out.n) == ("Summary", n)
        assert out.columns["total"].dtype == np.float64 and out.columns["count"].dtype == np.int64
        np.testing.assert_allclose(out.columns["total"], [r.sum(dtype=np.float64) for r in rows], atol=1e-5)
        np.testing.assert_array_equal(out.columns["count"], counts)
        with np.errstate(invalid="ignore"):
            want_mean = np.array([r.mean() if len(r) else np.nan for r in rows], np.float32)
        np.testing.assert_allclose(out.columns["mean"], want_mean, atol=1e-5)
        assert int(state["seen"]) == seen


def test_stats_pipeline_and_empty_batch():
    prog = program("stats.cn", "llvm")
    assert prog.pipelines["stats"].stages == ("summarise",)
    assert prog.pipelines["stats"].entries == prog.pipelines["stats"].exits == ("summarise",)
    state = {"seen": np.array(7, np.int64)}
    res = prog.actors["summarise"].handlers["Samples"].run(
        state, Batch("Samples", 0, {"data": np.zeros(0, np.float32)}, {"data": np.zeros(1, np.int64)}))
    assert res.replies.n == 0 and int(state["seen"]) == 7
