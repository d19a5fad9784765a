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


def run(prog, actor: str, message: str, state: dict, n: int, columns: dict, offsets: dict | None = None):
    return prog.actors[actor].handlers[message].run(state, Batch(message, n, columns, offsets or {}))


@pytest.mark.parametrize("target", TARGETS)
def test_vector_add_ragged_fields_and_failed_rows(target):
    prog = program("vector_add.cn", target)
    rng = np.random.default_rng(2)
    n = 40
    a, off = ragged(rng, n)
    b = rng.standard_normal(a.size).astype(np.float32)
    res = run(prog, "add", "Pair", {}, n, {"a": a, "b": b}, {"a": off, "b": off})
    assert not res.failed.any()
    np.testing.assert_array_equal(res.replies.offsets["c"], off)
    np.testing.assert_allclose(res.replies.columns["c"], a + b, atol=1e-6)
    # row 3's b is one element short: that row fails, located at the '+'; the rest are served
    lens = np.diff(off)
    lens_b = lens.copy()
    lens_b[3] = lens[3] + 1
    off_b = np.concatenate([[0], np.cumsum(lens_b)])
    b2 = rng.standard_normal(int(off_b[-1])).astype(np.float32)
    res = run(prog, "add", "Pair", {}, n, {"a": a, "b": b2}, {"a": off, "b": off_b})
    assert res.failed.tolist() == [i == 3 for i in range(n)]
    assert list(res.errors) == [3]
    assert "vector_add.cn:9:28: error: message 3 of the batch failed" in res.errors[3]
    assert "different lengths" in res.errors[3] and "^" in res.errors[3]
    ok = [i for i in range(n) if i != 3]
    want = [a[off[i]:off[i + 1]] + b2[off_b[i]:off_b[i] + lens[i]] for i in ok]
    assert res.replies.n == n - 1
    np.testing.assert_array_equal(np.diff(res.replies.offsets["c"]), [len(w) for w in want])
    np.testing.assert_allclose(res.replies.columns["c"], np.concatenate(want), atol=1e-6)


@pytest.mark.parametrize("target", TARGETS)
def test_classifier_stages_chain_like_numpy(target):
    prog = program("classify_stream.cn", target)
    assert prog.pipelines["classify_stream"].edges == (("normalise", "square"), ("square", "classify"))
    v = np.random.default_rng(3).uniform(-20, 140, 1000).astype(np.float32)
    x = run(prog, "normalise", "Reading", {}, v.size, {"v": v}).replies
    y = run(prog, "square", "Scaled", {}, x.n, x.columns).replies
    label = run(prog, "classify", "Squared", {}, y.n, y.columns).replies
    want_x = np.clip(v / np.float32(100), 0, 1)
    want_y = want_x * want_x
    np.testing.assert_allclose(x.columns["x"], want_x, rtol=1e-6)
    np.testing.assert_allclose(y.columns["y"], want_y, rtol=1e-6)
    assert label.columns["class"].dtype == np.int32
    np.testing.assert_array_equal(label.columns["class"], (want_y >= 0.3).astype(np.int32) + (want_y >= 0.7))


SENDS = """\
message In { v: f32, w: vec3, data: tensor<?xf32>, k: tensor<4xf32>, other: tensor<?xf32> }
message Out { r: f32, t: tensor<?xf32>, q: tensor<4xf32>, hits: i64 }
message Note { total: f32 }

actor a {
    queue 8 backpressure reject
    state acc: f32 = 0.5
    state hits: i64 = 0
    on In(m) -> Out {
        let s = m.v * 2.0
        acc = acc * 0.5 + sum(m.data * m.other)
        hits = hits + 1
        send log Note { total: acc }
        reply Out { r: s + sum(m.w) + acc, t: m.data * s - m.v, q: m.k * 2.0 + fill(4, 1.0), hits: hits }
    }
}

actor log {
    on Note(n) -> Note { reply Note { total: n.total } }
}

actor left { on Note(n) -> Note { reply Note { total: n.total + 1.0 } } }
actor right { on Note(n) -> Note { reply Note { total: n.total * 2.0 } } }

pipeline fan = log -> (left, right) -> log2
actor log2 { on Note(n) { } }
"""


@lru_cache(maxsize=None)
def sends_program(target: str):
    return compile_actor_program(SENDS, target, filename="sends.cn")


@pytest.mark.parametrize("target", TARGETS)
def test_state_sends_fixed_tensors_and_failures(target):
    prog = sends_program(target)
    spec = prog.actors["a"]
    assert spec.handlers["In"].sends == (("log", "Note"),)
    assert [(s.name, s.dtype, s.init) for s in spec.state] == [("acc", "float32", 0.5), ("hits", "int64", 0)]
    rng = np.random.default_rng(4)
    n = 12
    v = rng.standard_normal(n).astype(np.float32)
    w = rng.standard_normal((n, 3)).astype(np.float32)
    k = rng.standard_normal((n, 4)).astype(np.float32)
    data, off = ragged(rng, n)
    other = rng.standard_normal(data.size).astype(np.float32)
    lens = np.diff(off)
    bad = 5  # row 5's 'other' is one longer than its 'data': that row fails
    lens_o = lens.copy()
    lens_o[bad] += 1
    off_o = np.concatenate([[0], np.cumsum(lens_o)])
    other = rng.standard_normal(int(off_o[-1])).astype(np.float32)
    state = {"acc": np.array(0.5, np.float32), "hits": np.array(0, np.int64)}
    res = run(prog, "a", "In", state, n, {"v": v, "w": w, "data": data, "k": k, "other": other},
              {"data": off, "other": off_o})
    assert np.flatnonzero(res.failed).tolist() == [bad]
    assert "sends.cn:11:38: error: message 5 of the batch failed" in res.errors[bad]
    acc, hits, rows = np.float32(0.5), 0, []
    for i in range(n):  # NumPy, in order; the failed row leaves the state as it was
        if i == bad:
            continue
        d, o = data[off[i]:off[i + 1]], other[off_o[i]:off_o[i] + lens[i]]
        acc = acc * np.float32(0.5) + (d * o).sum()
        hits += 1
        s = v[i] * np.float32(2)
        rows.append((s + w[i].sum() + acc, d * s - v[i], k[i] * 2 + 1, hits, acc))
    out, note = res.replies, res.sends["log"]
    assert out.n == note.n == n - 1
    np.testing.assert_allclose(out.columns["r"], [r[0] for r in rows], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out.columns["t"], np.concatenate([r[1] for r in rows]), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.diff(out.offsets["t"]), [len(r[1]) for r in rows])
    np.testing.assert_allclose(out.columns["q"], [r[2] for r in rows], rtol=1e-6)
    np.testing.assert_array_equal(out.columns["hits"], [r[3] for r in rows])
    np.testing.assert_allclose(note.columns["total"], [r[4] for r in rows], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(state["acc"], acc, rtol=1e-5)
    assert int(state["hits"]) == n - 1


def test_fan_out_and_fan_in_pipeline():
    p = sends_program("llvm").pipelines["fan"]
    assert p.stages == ("log", "left", "right", "log2")
    assert set(p.edges) == {("log", "left"), ("log", "right"), ("left", "log2"), ("right", "log2")}
    assert (p.entries, p.exits) == (("log",), ("log2",))
    spec = sends_program("llvm").actors["log2"].handlers["Note"]
    assert spec.reply is None
    res = spec.run({}, Batch("Note", 3, {"total": np.ones(3, np.float32)}))
    assert res.replies is None and not res.failed.any()


PICK = """\
message M { data: tensor<?xf32>, i: i32 }
message R { y: f32 }
actor pick { on M(m) -> R { reply R { y: m.data[m.i] * 2.0 } } }
"""


@pytest.mark.parametrize("target", TARGETS)
def test_index_out_of_range_fails_only_its_row(target):
    prog = compile_actor_program(PICK, target, filename="pick.cn")
    off = np.array([0, 3, 3, 5, 6], np.int64)  # row 1 is empty
    data = np.arange(6, dtype=np.float32)
    res = run(prog, "pick", "M", {}, 4, {"data": data, "i": np.array([2, 0, -1, 0], np.int32)}, {"data": off})
    assert res.failed.tolist() == [False, True, True, False]
    assert all("pick.cn:3:44: error: message" in res.errors[r] and "index out of range" in res.errors[r]
               for r in (1, 2))
    np.testing.assert_array_equal(res.replies.columns["y"], [4.0, 10.0])


FLAGS = """\
message M { x: f32, on: bool }
message R { y: f32, seen: bool }
actor a {
    state flag: bool = true
    state n: f64 = 1
    on M(m) -> R {
        flag = m.on && flag
        n = n + 1
        reply R { y: m.x * 2.0, seen: flag }
    }
}
"""


@pytest.mark.parametrize("target", TARGETS)
def test_bool_fields_and_states(target):
    """bools travel as i32 0/1 in kernels (GLSL has no bool buffers) and come back as bools."""
    prog = compile_actor_program(FLAGS, target, filename="flags.cn")
    assert [(s.name, s.dtype, s.init) for s in prog.actors["a"].state] == [("flag", "bool", True), ("n", "float64", 1.0)]
    state = {"flag": np.array(True), "n": np.array(1.0)}
    on = np.array([True, True, False, True])
    res = run(prog, "a", "M", state, 4, {"x": np.arange(4, dtype=np.float32), "on": on})
    assert res.replies.columns["seen"].dtype == bool
    np.testing.assert_array_equal(res.replies.columns["seen"], np.logical_and.accumulate(on))
    np.testing.assert_array_equal(res.replies.columns["y"], np.arange(4) * 2.0)
    assert state["flag"].dtype == bool and not state["flag"] and float(state["n"]) == 5.0


COUNTER = """\
message Add { v: f32 }
message Reset { to: f32 }
message Peek { k: i32 }
message Total { t: f32 }
actor counter {
    state total: f32 = 0
    on Add(a) -> Total { total = total + a.v  reply Total { t: total } }
    on Reset(r) -> Total { total = r.to  reply Total { t: total } }
    on Peek(p) -> Total { reply Total { t: total * p.k } }
}
"""


@pytest.mark.parametrize("target", TARGETS)
def test_several_handlers_share_the_state(target):
    prog = compile_actor_program(COUNTER, target, filename="counter.cn")
    assert set(prog.actors["counter"].handlers) == {"Add", "Reset", "Peek"}
    state = {"total": np.array(0.0, np.float32)}
    add = run(prog, "counter", "Add", state, 3, {"v": np.array([1, 2, 3], np.float32)})
    np.testing.assert_array_equal(add.replies.columns["t"], [1, 3, 6])
    peek = run(prog, "counter", "Peek", state, 2, {"k": np.array([1, 10], np.int32)})  # reads, writes nothing
    np.testing.assert_array_equal(peek.replies.columns["t"], [6, 60])
    run(prog, "counter", "Reset", state, 2, {"to": np.array([5, -1], np.float32)})
    assert float(state["total"]) == -1.0


def test_batches_the_kernel_cannot_trust_are_refused():
    """Shapes and offsets are checked before a launch reads by them."""
    add = program("vector_add.cn", "llvm").actors["add"].handlers["Pair"]
    a = np.ones(4, np.float32)
    with pytest.raises(ValueError, match="non-decreasing offsets"):
        add.run({}, Batch("Pair", 2, {"a": a, "b": a}, {"a": np.array([0, 3, 2]), "b": np.array([0, 2, 4])}))
    with pytest.raises(ValueError, match="non-decreasing offsets"):  # past the end of its values
        add.run({}, Batch("Pair", 2, {"a": a, "b": a}, {"a": np.array([0, 2, 9]), "b": np.array([0, 2, 4])}))
    norm = program("classify_stream.cn", "llvm").actors["normalise"].handlers["Reading"]
    with pytest.raises(ValueError, match=r"shape \(3,\) expected, got \(2,\)"):
        norm.run({}, Batch("Reading", 3, {"v": np.ones(2, np.float32)}))


@pytest.mark.parametrize("target", TARGETS)
def test_a_long_message_sums_like_float64(target):
    """Sums accumulate in f64 and round once: the values sum to float64's result within
    f32 rounding (an f32 running sum drifts by about 1e-6 relative here). On glsl
    (llvmpipe stops a shader after 65535 loop iterations) the message is shorter."""
    handler = program("stats.cn", target).actors["summarise"].handlers["Samples"]
    size = 30_000 if target == "glsl" else 100_000
    values = np.random.default_rng(6).uniform(0, 1, size).astype(np.float32)
    res = handler.run({"seen": np.array(0, np.int64)},
                      Batch("Samples", 1, {"data": values}, {"data": np.array([0, values.size])}))
    want = values.sum(dtype=np.float64)
    np.testing.assert_allclose(res.replies.columns["total"], [want], rtol=2e-7)
    np.testing.assert_allclose(res.replies.columns["mean"], [want / values.size], rtol=2e-7)


def test_llvmpipe_loop_budget_splits_batches_and_fails_what_cannot_fit():
    """llvmpipe ends a shader invocation after 65535 loop iterations in all, silently; a
    stateful batch of 70,000 messages runs as parts that fit, and a message that alone
    needs more fails with a located error instead of returning a partial sum."""
    prog = compile_actor_program(COUNTER, "glsl", filename="counter.cn")
    handler = prog.actors["counter"].handlers["Add"]
    if not handler.run.budget:
        pytest.skip("the glsl device is not llvmpipe: no loop budget to respect")
    state = {"total": np.array(0.0, np.float32)}
    res = handler.run(state, Batch("Add", 70_000, {"v": np.ones(70_000, np.float32)}))
    assert float(state["total"]) == 70_000.0 and res.replies.n == 70_000
    np.testing.assert_array_equal(res.replies.columns["t"][[0, 65_000, 69_999]], [1, 65_001, 70_000])
    stats = program("stats.cn", "glsl").actors["summarise"].handlers["Samples"]
    state = {"seen": np.array(0, np.int64)}
    off = np.array([0, 3, 100_003, 100_005])
    res = stats.run(state, Batch("Samples", 3, {"data": np.ones(100_005, np.float32)}, {"data": off}))
    assert res.failed.tolist() == [False, True, False]
    assert "stats.cn:8:5: error: message 1 of the batch failed: handling it takes 100001 loop iterations" in res.errors[1]
    np.testing.assert_array_equal(res.replies.columns["count"], [3, 5])
    assert int(state["seen"]) == 5


FIXED_INTO_RAGGED = """\
message M { d: tensor<?xf32>, k: tensor<4xf32> }
message R { t: tensor<?xf32> }
actor a { on M(m) -> R { reply R { t: m.d * m.k } } }
"""


@pytest.mark.parametrize("target", TARGETS)
def test_a_fixed_length_result_in_a_ragged_field(target):
    """m.d * m.k has k's 4 elements: the reply's offsets step by 4, and a message whose d
    has not 4 elements fails at the '*'."""
    prog = compile_actor_program(FIXED_INTO_RAGGED, target, filename="fv.cn")
    d, k = np.arange(11, dtype=np.float32), np.full((3, 4), 2, np.float32)
    res = run(prog, "a", "M", {}, 3, {"d": d, "k": k}, {"d": np.array([0, 4, 7, 11])})
    assert res.failed.tolist() == [False, True, False]
    assert "fv.cn:3:43: error: message 1 of the batch failed: this operation needs tensors of 4 elements" \
        in res.errors[1]
    np.testing.assert_array_equal(res.replies.offsets["t"], [0, 4, 8])
    np.testing.assert_array_equal(res.replies.columns["t"], np.concatenate([d[0:4], d[7:11]]) * 2)


SPLIT = """\
message In { v: f32, d: tensor<?xf32> }
message Half { h: f32 }
message Part { p: tensor<?xf32> }
actor split {
    on In(m) {
        send low Half { h: m.v * 0.5 }
        send high Part { p: m.d + m.v }
    }
}
actor low { on Half(x) { } }
actor high { on Part(x) { } }
"""


@pytest.mark.parametrize("target", TARGETS)
def test_a_handler_sends_to_several_actors_without_replying(target):
    prog = compile_actor_program(SPLIT, target, filename="split.cn")
    handler = prog.actors["split"].handlers["In"]
    assert handler.reply is None and handler.sends == (("low", "Half"), ("high", "Part"))
    v = np.array([2, 4, 6], np.float32)
    d, off = np.arange(5, dtype=np.float32), np.array([0, 2, 2, 5])
    res = run(prog, "split", "In", {}, 3, {"v": v, "d": d}, {"d": off})
    assert res.replies is None and not res.failed.any()
    assert (res.sends["low"].message, res.sends["high"].message) == ("Half", "Part")
    np.testing.assert_array_equal(res.sends["low"].columns["h"], v / 2)
    np.testing.assert_array_equal(res.sends["high"].offsets["p"], off)
    np.testing.assert_array_equal(res.sends["high"].columns["p"], d + np.repeat(v, np.diff(off)))
