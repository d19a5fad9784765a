"""Spiking networks on every target against the NumPy reference (tests/snnref.py):
identical spikes (counts, first spikes, rasters) and membrane values, for dense,
event-driven and CSR delivery, recurrence with delays, STDP, batches and every
encoder; and single neurons whose spike steps are derived by hand."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import ccomp
from snnref import Conn, Input, Layer, Stdp, raster, simulate

TARGETS = ("llvm", "opencl", "glsl")
_programs: dict[tuple[str, str], ccomp.Program] = {}


def program(src: str, target: str) -> ccomp.Program:
    if (src, target) not in _programs:
        _programs[(src, target)] = ccomp.compile(src, target=target)
    return _programs[(src, target)]


ONE = """
network one() -> (r: tensor<?x2xi32>, f: tensor<1xi32>, v: tensor<1xf32>) steps 40 dt 1ms {{
    layer n = lif(1, tau: 10ms, v_th: 1.0, bias: 2.0, refractory: {refractory})
    return raster(n), first_spike(n), voltage(n)
}}
"""


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("refractory,steps", [
    # constant drive: v after k updates from 0 is 2(1 - exp(-k/10)); 1 is first reached at
    # k = 7 (0.903 at 6, 1.007 at 7), so the first spike is at step 6 and, with no
    # refractory period, every 7 steps after it.
    ("0ms", [6, 13, 20, 27, 34]),
    # r = 2: a spike at s skips the update of s+1 only; 7 updates from s+2: period 8.
    ("2ms", [6, 14, 22, 30, 38]),
    # r = 5: updates resume at s+5, spike 7 updates later at s+11.
    ("5ms", [6, 17, 28, 39]),
])
def test_single_neuron_spike_steps(target, refractory, steps):
    r, f, v = program(ONE.format(refractory=refractory), target)()
    assert r.tolist() == [[s, 0] for s in steps]
    assert f.tolist() == [6]
    want = simulate({}, {"n": Layer(1, 0.010, bias=2.0, refractory=float(refractory[:-2]) * 1e-3)}, [], 40, 1e-3)
    assert np.array_equal(v, want.v["n"])


CLASSIFY = """
network classify(pixels: tensor<64xf32>, w1: tensor<64x32xf32>, w2: tensor<32x10xf32>, seed: i64 = 7)
    -> (counts: tensor<10xi32>, hidden: tensor<32xi32>, v: tensor<32xf32>, first: tensor<10xi32>)
    steps 60 dt 1ms
{
    input s = poisson(pixels, max_rate: 400Hz)
    layer h = lif(32, tau: 10ms, v_th: 1.0, v_reset: 0.0, refractory: 2ms) <- s weights w1
    layer o = lif(10, tau: 10ms, v_th: 1.0) <- h weights w2
    return spike_count(o), spike_count(h), voltage(h), first_spike(o)
}
"""


def classify_model(seed: int = 3):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, 64).astype(np.float32)
    w1 = rng.uniform(0, 0.35, (64, 32)).astype(np.float32)
    w2 = rng.uniform(0, 0.5, (32, 10)).astype(np.float32)
    return x, w1, w2


@pytest.mark.parametrize("target", TARGETS)
def test_classify_matches_reference(target):
    x, w1, w2 = classify_model()
    counts, hidden, v, first = program(CLASSIFY, target)(pixels=x, w1=w1, w2=w2)
    want = simulate({"s": Input("poisson", x, 400.0)},
                    {"h": Layer(32, 0.010, refractory=0.002), "o": Layer(10, 0.010)},
                    [Conn("s", "h", w1), Conn("h", "o", w2)], 60, 1e-3, seed=7)
    assert hidden.sum() > 50 and counts.sum() > 5  # real activity, not a silent network
    assert np.array_equal(hidden, want.count["h"])
    assert np.array_equal(counts, want.count["o"])
    assert np.array_equal(first, want.first["o"])
    np.testing.assert_allclose(v, want.v["h"], rtol=0, atol=1e-5)


FEATURES = """
network features(x: tensor<24xf32>, ws: tensor<24x16xf32, csr>, wr: tensor<16x16xf32>, wo: tensor<16x8xf32>)
    -> (r: tensor<?x2xi32>, tr: tensor<50x8xf32>, w: tensor<16x8xf32>, c: tensor<16xi32>, rs: tensor<?x2xi32>)
    steps 50 dt 1ms
{
    input s = latency(x, t_max: 20ms)
    layer h = lif(16, tau: 8ms, v_th: 0.5, refractory: 3ms, bias: 0.3) <- s weights ws <- h weights wr delay: 2ms
    layer o = lif(8, tau: 12ms, v_th: 0.6, v_reset: 0.1) <- h weights wo
    learn stdp(h -> o, a_plus: 0.05, a_minus: 0.04, tau_plus: 15ms, tau_minus: 10ms, w_max: 0.8)
    return raster(o), trace(o), weights(h -> o), spike_count(h), raster(s)
}
"""


def features_model():
    rng = np.random.default_rng(11)
    x = rng.uniform(0, 1.2, 24).astype(np.float32)
    x[:3] = 0  # inputs that never spike
    ws = sp.random(24, 16, density=0.4, format="csr", dtype=np.float32, random_state=5)
    ws.data = (ws.data * 2.7).astype(np.float32)
    wr = (rng.uniform(-0.2, 0.3, (16, 16)) * (rng.uniform(size=(16, 16)) < 0.3)).astype(np.float32)
    wo = np.minimum(rng.uniform(0, 1.5, (16, 8)), 0.8).astype(np.float32)
    return x, ws, wr, wo


@pytest.mark.parametrize("target", TARGETS)
def test_recurrent_sparse_delay_stdp(target):
    x, ws, wr, wo = features_model()
    r, tr, w, c, rs = program(FEATURES, target)(x=x, ws=ws, wr=wr, wo=wo)
    want = simulate({"s": Input("latency", x, 0.020)},
                    {"h": Layer(16, 0.008, v_th=0.5, refractory=0.003, bias=0.3),
                     "o": Layer(8, 0.012, v_th=0.6, v_reset=0.1)},
                    [Conn("s", "h", ws.toarray()), Conn("h", "h", wr, delay_steps=2), Conn("h", "o", wo)],
                    50, 1e-3, stdps=(Stdp(2, 0.05, 0.04, 0.015, 0.010, 0.0, 0.8),))
    assert c.sum() > 20 and len(r) > 5
    assert np.array_equal(c, want.count["h"])
    assert np.array_equal(r, raster(want.spikes["o"], False))
    assert np.array_equal(rs, raster(want.spikes["s"], False))
    np.testing.assert_allclose(tr, want.trace["o"][:, 0], rtol=0, atol=1e-5)
    np.testing.assert_allclose(w, want.weights[2], rtol=0, atol=1e-6)
    assert not np.array_equal(w, wo)  # it learned


BATCH = """
network batch(x: tensor<?x20xf32>, S: tensor<?x30x6xf32>, w1: tensor<20x12xf32>, w2: tensor<6x12xf32>)
    -> (c: tensor<?x12xi32>, r: tensor<?x3xi32>, rate: tensor<?x12xf32>, tr: tensor<?x30x12xf32>)
    steps 30 dt 0.5ms
{
    input p = poisson(x, max_rate: 200Hz)
    input g = spikes(S)
    layer h = lif(12, tau: 5ms, v_th: 0.8, refractory: 1ms) <- p weights w1 <- g weights w2
    return spike_count(h), raster(h), rate(h), trace(h)
}
"""


@pytest.mark.parametrize("target", TARGETS)
def test_batch_runs_independent_copies(target):
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, (3, 20)).astype(np.float32)
    S = (rng.uniform(size=(3, 30, 6)) < 0.2).astype(np.float32)
    w1 = rng.uniform(0, 0.6, (20, 12)).astype(np.float32)
    w2 = rng.uniform(0, 0.6, (6, 12)).astype(np.float32)
    c, r, rate, tr = program(BATCH, target)(x=x, S=S, w1=w1, w2=w2)
    want = simulate({"p": Input("poisson", x, 200.0), "g": Input("spikes", S, stream=0x101)},
                    {"h": Layer(12, 0.005, v_th=0.8, refractory=0.001)},
                    [Conn("p", "h", w1), Conn("g", "h", w2)], 30, 0.5e-3, batch=3)
    assert c.shape == (3, 12) and c.sum() > 10
    assert np.array_equal(c, want.count["h"])
    assert np.array_equal(r, raster(want.spikes["h"], True))
    np.testing.assert_allclose(rate, c / 0.015, rtol=1e-6)
    np.testing.assert_allclose(tr, want.trace["h"].transpose(1, 0, 2), rtol=0, atol=1e-5)
    # copy 0 alone draws the same Poisson spikes (counter word 2 is the batch index)
    alone = program(BATCH, target)(x=x[:1], S=S[:1], w1=w1, w2=w2)[0]
    assert np.array_equal(alone[0], c[0])


ISOLATED = """
network iso(seed: i64 = 0) -> (c: tensor<70xi32>, f: tensor<70xi32>, v: tensor<70xf32>, r: tensor<70xf32>)
    steps 120 dt 0.5ms
{
    layer a = lif(70, tau: 7ms, v_th: 0.9, v_reset: 0.1, v_rest: 0.05, R: 1.3, refractory: 1.5ms, bias: 0.8)
    return spike_count(a), first_spike(a), voltage(a), rate(a)
}
"""


@pytest.mark.parametrize("target", TARGETS)
def test_layer_without_connections_runs_in_one_kernel(target):
    # no connection in or out: all steps in one launch (64 neurons per point, a tail of 6)
    prog = program(ISOLATED, target)
    c, f, v, r = prog()
    assert sum(1 for name, _ in prog.launches if name.startswith("iso")) < 12  # no per-step launches
    want = simulate({}, {"a": Layer(70, 0.007, 0.9, 0.1, 0.05, 1.3, 0.0015, 0.8)}, [], 120, 0.5e-3)
    assert c.sum() > 70
    assert np.array_equal(c, want.count["a"]) and np.array_equal(f, want.first["a"])
    np.testing.assert_allclose(v, want.v["a"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(r, c / 0.06, rtol=1e-6)


INIT = """
network init(x: tensor<6xf32>, seed: i64 = 0) -> (u: tensor<6x5xf32>, g: tensor<5x4xf32>)
    steps 3 dt 1ms
{
    input s = poisson(x, max_rate: 100Hz)
    layer h = lif(5, tau: 10ms) <- s weights uniform(-0.5, 1.5)
    layer o = lif(4, tau: 10ms) <- h weights normal(0.2, 0.3)
    return weights(s -> h), weights(h -> o)
}
"""


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("seed", [0, 0x1234_5678_9ABC])
def test_initialisers_follow_the_philox_contract(target, seed):
    from ccomp.semantics import philox

    u, g = program(INIT, target)(x=np.zeros(6, np.float32), seed=seed)
    # connection k draws from stream 0x200 + k with counter (row, column, 0, stream)
    assert np.array_equal(u, philox.init_uniform((6, 5), -0.5, 1.5, seed, 0x200))
    np.testing.assert_allclose(g, philox.init_normal((5, 4), 0.2, 0.3, seed, 0x201), rtol=0, atol=1e-5)
