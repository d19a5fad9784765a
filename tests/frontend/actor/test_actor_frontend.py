"""Actor programs in the frontend: stats.cn parses and generates the ``actor`` dialect;
every mistake is a located diagnostic (line, column, the source line, a caret)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccomp.diagnostics import CompileError, Source
from ccomp.dialects import actor
from ccomp.frontend import lower_to_l1

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"

GOOD = """\
message In { v: f32, data: tensor<?xf32>, w: vec3 }
message Out { r: f32, t: tensor<?xf32> }
actor a {
    queue 8 backpressure reject
    state n: i32 = 0
    on In(m) -> Out {
        let s = m.v * 2.0
        n = n + 1
        reply Out { r: s + sum(m.w), t: m.data * s }
    }
}
actor b {
    on Out(o) { send c Out { r: o.r, t: o.t } }
}
actor c { queue 4 backpressure drop_oldest on Out(o) -> Out { reply Out { r: o.r, t: o.t } } }
pipeline p = a -> (b, c)
"""


def l1(text: str):
    return lower_to_l1(Source(text, "t.cn"))


def test_stats_generates_the_actor_dialect():
    module = lower_to_l1(Source((EXAMPLES / "stats.cn").read_text(), "stats.cn"))
    ops = list(module.body.block.ops)
    msgs = {m.sym_name.data: [n for n, _ in m.fields] for m in ops if isinstance(m, actor.MessageOp)}
    assert msgs == {"Samples": ["data"], "Summary": ["total", "count", "mean"]}
    (act,) = [op for op in ops if isinstance(op, actor.ActorOp)]
    assert (act.capacity.value.data, act.policy.data) == (1024, "block")
    assert [s.sym_name.data for s in act.states] == ["seen"]
    (h,) = act.handlers
    assert h.message.root_reference.data == "Samples" and h.reply.root_reference.data == "Summary"
    (p,) = [op for op in ops if isinstance(op, actor.PipelineOp)]
    assert [s.data for s in p.stages.data] == ["summarise"]


def test_fan_out_pipeline_and_sends():
    module = l1(GOOD)
    (p,) = [op for op in module.body.block.ops if isinstance(op, actor.PipelineOp)]
    assert p.edge_list == [("a", "b"), ("a", "c")]
    assert [s.data for s in p.exits.data] == ["b", "c"]


BAD = [
    ("message M { x: tensor<?xf32> }\nactor a { on M(m) { let y = m.x[1.5] } }", 2, 33, "an index is an integer"),
    ("message M { x: f32 }\nactor a { on M(m) { let y = m.x[0] } }", 2, 31, "indexing reads one element"),
    ("message M { x: tensor<?xf32> }\nactor a { on M(m) { let y = repeat 3 (s = 0.0) { yield s } } }", 2, 29,
     "repeat zones are not available"),
    ("message M { x: f32 }\nactor a { on N(m) { } }", 2, 14, "unknown message type 'N'"),
    ("message M { x: f32 }\nactor a { on M(m) { let y = m.z } }", 2, 31, "message M has no field 'z'"),
    ("message M { x: f32 }\nmessage R { y: f32 }\nactor a { on M(m) -> R { reply R { y: m } } }", 3, 39,
     "'m' is the M message"),
    ("message M { x: tensor<?xf32> }\nmessage R { y: f32 }\nactor a { on M(m) -> R { reply R { y: m.x } } }", 3, 41,
     "field 'y' of R is f32, got tensor<?xf32>"),
    ("message M { x: f32 }\nmessage R { y: f32 }\nmessage Q { y: f32 }\nactor a { on M(m) -> R { reply Q { y: m.x } } }",
     4, 32, "this handler replies R, not Q"),
    ("message M { x: f32 }\nactor a { on M(m) { send nobody M { x: m.x } } }", 2, 26, "unknown actor 'nobody'"),
    ("message M { x: f32 }\nactor a { state s: image<f32> = 0 on M(m) { } }", 2, 20, "state 's' must be a scalar"),
    ("message M { x: f32 }\nactor a { state s: i32 = 1.5 on M(m) { } }", 2, 26, "is i32, but its initial value 1.5"),
    ("message M { x: f32 }\nactor a { queue 0 backpressure block on M(m) { } }", 2, 17, "queue capacity"),
    ("message M { x: f32 }\nactor a { queue 8 backpressure blok on M(m) { } }", 2, 32, "did you mean 'block'"),
    ("message M { x: f32 }\nactor a { on M(m) { } }\npipeline p = a -> zz", 3, 19, "unknown actor 'zz'"),
    ("message M { x: f32 }\nactor a { on M(m) -> M { reply M { x: m.x } } }\npipeline p = a -> a", 3, 19,
     "appears twice"),
    ("message M { x: f32 }\nactor a { state s: f32 = 0 on M(m) { s = m.x > 1.0 } }", 2, 46, "state 's' is f32, but this is bool"),
    ("message M { x: f32 }\nactor a { on M(m) { q = 1 } }", 2, 21, "cannot assign 'q'"),
    ("message M { x: f32 }\nmessage R { y: f32 }\nactor a { on M(m) -> R { let z = 1 } }", 3, 11, "never replies"),
    ("message M { x: f32 }\nmessage R { y: f32, z: f32 }\nactor a { on M(m) -> R { reply R { y: 1.0 } } }", 3, 26,
     "R needs field z"),
    ("message M { x: f32 }\nmessage R { y: f32 }\nactor a { on M(m) -> R { reply R { y: 1.0, w: 2.0 } } }", 3, 44,
     "message R has no field 'w'"),
    ("message M { x: f32, x: i32 }\nactor a { on M(m) { } }", 1, 21, "declared twice"),
    ("message M { x: tensor<?x?xf32> }\nactor a { on M(m) { } }", 1, 16, "dense rank-1 tensor"),
    ("message M { x: f32 }\nactor a { on M(m) { } on M(k) { } }", 2, 23, "already has a handler for M"),
    ("message M { x: f32 }\nmessage R { y: f32 }\nactor a { on M(m) { } }\nactor b { on R(r) { } }\npipeline p = a -> b",
     5, 14, "'a' sends no replies"),
    ("message M { x: f32 }\nactor a { on M(m) -> M { reply M { x: m.x } } }\nactor b { on M(m) { send a R { x: 1.0 } } }",
     3, 28, "unknown message type 'R'"),
]


@pytest.mark.parametrize("text,line,col,needle", BAD, ids=[b[3][:30] for b in BAD])
def test_bad_input_is_located(text, line, col, needle):
    with pytest.raises(CompileError) as info:
        l1(text)
    d = info.value.diagnostic
    assert needle in d.message, d.message
    assert (d.loc.line, d.loc.col) == (line, col), str(info.value)
    assert "^" in str(info.value)
