"""snn-lower's delivery cost rule and what it reports: the path per connection (csr for
sparse weights, event-driven below the spiking-fraction threshold, dense above), the
reason ``ccomp run --explain`` prints, and that the path never changes a spike."""

from __future__ import annotations

import numpy as np
import pytest

import ccomp
from ccomp.diagnostics import Source
from ccomp.dialects.snn import delivery_lines
from ccomp.driver.pipeline import lower
from ccomp.frontend import lower_to_l1
from ccomp.passes import snn_lower
from ccomp.passes.lowering import snn_delivery as dl

NET = """
network n(x: tensor<16xf32>, w: tensor<16x8xf32>, ws: tensor<8x8xf32, csr>) -> tensor<8xi32> steps 30 dt 1ms {{
    input s = poisson(x, max_rate: {rate})
    layer h = lif(8, tau: 10ms, refractory: {refractory}) <- s weights w <- h weights ws
    return spike_count(h)
}}
"""


def test_rule_thresholds():
    assert dl.choose(True, 0.9, "x").path == "csr"
    assert dl.choose(False, dl.EVENT_FRACTION * 0.99, "x").path == "event"
    assert dl.choose(False, dl.EVENT_FRACTION, "x").path == "dense"
    frac, why = dl.expected_fraction("poisson", 100.0, 1e-3, 0)
    assert frac == pytest.approx(0.1) and "100Hz" in why
    assert dl.expected_fraction("latency", 0.02, 1e-3, 0)[0] == pytest.approx(0.05)
    assert dl.expected_fraction("lif", 0.0, 1e-3, 5)[0] == pytest.approx(0.02)


@pytest.mark.parametrize("rate,path", [("100Hz", "event"), ("600Hz", "dense")])
def test_explain_names_each_connection_and_why(rate, path):
    module = lower_to_l1(Source(NET.format(rate=rate, refractory="2ms"), "n.cn"))
    lines = snn_lower.explain(module)
    assert lines[0].startswith(f"s -> h: {path} delivery; expected spiking fraction")
    assert lines[1].startswith("h -> h: csr delivery; sparse weights")
    lower(module, "kern")
    fn = next(op for op in module.body.block.ops if op.name == "func.func")
    assert delivery_lines(fn) == lines  # what the lowered program keeps for --explain


def test_program_explanation():
    prog = ccomp.compile(NET.format(rate="100Hz", refractory="2ms"), cache=False)
    assert [line.split(";")[0] for line in prog.explanation] == ["s -> h: event delivery", "h -> h: csr delivery"]


def test_dense_and_event_delivery_give_the_same_spikes(monkeypatch):
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 1, 16).astype(np.float32)
    w = rng.uniform(-0.2, 1.0, (16, 8)).astype(np.float32)
    import scipy.sparse as sp
    ws = sp.random(8, 8, density=0.3, format="csr", dtype=np.float32, random_state=1)
    text = NET.format(rate="300Hz", refractory="0ms").replace("spike_count(h)", "spike_count(h), voltage(h)") \
        .replace("-> tensor<8xi32>", "-> (c: tensor<8xi32>, v: tensor<8xf32>)")
    results = []
    for threshold in (0.0, 1.1):  # everything dense, then everything event-driven
        monkeypatch.setattr(dl, "EVENT_FRACTION", threshold)
        prog = ccomp.compile(text, cache=False)
        assert prog.explanation[0].startswith("s -> h: " + ("dense" if threshold == 0.0 else "event"))
        results.append(prog(x=x, w=w, ws=ws))
    (c0, v0), (c1, v1) = results
    assert c0.sum() > 10
    assert np.array_equal(c0, c1) and np.array_equal(v0, v1)  # bit-identical
