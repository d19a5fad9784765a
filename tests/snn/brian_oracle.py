"""Brian2 as the oracle for ``network`` programs: the issue-11 model built from plain arrays.

The model (the exact one docs/language.md states for ``network``), in Brian2's terms:

- each layer is a ``NeuronGroup`` with ``dv/dt = (v_rest - v + R*(I + bias))/tau
  (unless refractory)``, ``method='exact'`` — over a step with I constant this is
  ``v <- v_rest + R*I' + (v - v_rest - R*I')*exp(-dt/tau)`` with ``I' = I + bias``;
- ``threshold='v >= v_th'``, ``reset='v = v_reset'``, ``refractory`` as Brian2 counts
  it (a neuron spiking at step s skips steps s+1 .. s+r-1, r = round(refractory/dt));
- ``I`` is set by the synapses' ``on_pre`` (``I_post += w``) and cleared right after
  the state update (``run_regularly('I = 0', when='after_groups')``): a spike at step s
  is felt at step s+1, or s+1+d with ``delay = d*dt``;
- STDP as Brian2's classic example with unit jumps: event-driven traces ``apre``
  (tau_plus) and ``apost`` (tau_minus); on a pre spike ``I_post += w; apre += 1;
  w = clip(w - a_minus*apost, w_min, w_max)`` (the weight delivered is the one before
  the update), on a post spike ``apost += 1; w = clip(w + a_plus*apre, w_min, w_max)``.
  When both spike in one step the pre pathway runs first (Brian2's order -1 vs 1).
- Inputs are given spike trains (``SpikeGeneratorGroup``), so no randomness enters.

Brian2 runs with its ``numpy`` code generation target (no C++ compiler needed) in
float64; the caller compares spike trains exactly on cases built away from threshold
ties, and weights to a tolerance.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Lif:
    """One LIF layer's parameters (times in ms, everything else dimensionless)."""

    n: int
    tau_ms: float
    v_th: float = 1.0
    v_reset: float = 0.0
    v_rest: float = 0.0
    R: float = 1.0
    refractory_ms: float = 0.0
    bias: float = 0.0


@dataclass(frozen=True)
class Conn:
    """``post <- pre weights W``: ``weights`` is (n_pre, n_post); with ``mask`` only the
    True entries exist (a sparse connection); ``delay_steps`` whole steps are added to
    the one-step delivery."""

    pre: str
    post: str
    weights: np.ndarray
    mask: np.ndarray | None = None
    delay_steps: int = 0


@dataclass(frozen=True)
class Stdp:
    pre: str
    post: str
    a_plus: float
    a_minus: float
    tau_plus_ms: float
    tau_minus_ms: float
    w_min: float = 0.0
    w_max: float = 1.0


@dataclass
class Result:
    """Per layer: ``rasters`` int32 (k, 2) of (step, neuron) sorted by step then neuron,
    ``voltage`` the final v, ``traces`` (steps, n) v at the end of every step (after the
    reset), ``margin`` the least |v - v_th| of any integrated v before the threshold test
    (how far the case is from a tie); per connection ``(pre, post)``: ``weights``
    (n_pre, n_post) at the end (zero where a sparse connection has no synapse)."""

    rasters: dict[str, np.ndarray] = field(default_factory=dict)
    margin: dict[str, float] = field(default_factory=dict)
    voltage: dict[str, np.ndarray] = field(default_factory=dict)
    traces: dict[str, np.ndarray] = field(default_factory=dict)
    weights: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    def counts(self, layer: str, n: int) -> np.ndarray:
        return np.bincount(self.rasters[layer][:, 1], minlength=n).astype(np.int32)


def raster_of(spikes: np.ndarray) -> np.ndarray:
    """(step, neuron) pairs of a (steps, n) boolean spike array, sorted like ``Result``'s."""
    steps, neurons = np.nonzero(np.asarray(spikes, bool))
    return np.stack([steps, neurons], axis=1).astype(np.int32)


def simulate(inputs: Mapping[str, np.ndarray], layers: Mapping[str, Lif], conns: Sequence[Conn], steps: int,
             dt_ms: float, stdp: Sequence[Stdp] = ()) -> Result:
    """Run the network for ``steps`` steps of ``dt_ms`` in Brian2. ``inputs`` maps an
    input's name to its given (steps, n) boolean spike train; ``layers`` are built in
    order; ``conns`` may connect inputs and layers, a layer to itself included."""
    import brian2 as b2

    logging.getLogger("brian2").setLevel(logging.ERROR)
    b2.prefs.codegen.target = "numpy"
    ms, dt = b2.ms, dt_ms * b2.ms
    groups: dict[str, object] = {}
    objects: list[object] = []
    for name, train in inputs.items():
        train = np.asarray(train, bool)
        r = raster_of(train)
        groups[name] = b2.SpikeGeneratorGroup(train.shape[1], r[:, 1], r[:, 0] * dt, dt=dt, name=f"in_{name}")
        objects.append(groups[name])
    monitors = {}
    for name, p in layers.items():
        g = b2.NeuronGroup(
            p.n, "dv/dt = (v_rest - v + R*(I + bias)) / tau : 1 (unless refractory)\nI : 1",
            threshold="v >= v_th", reset="v = v_reset", refractory=p.refractory_ms * ms, method="exact",
            dt=dt, name=f"layer_{name}",
            namespace={"tau": p.tau_ms * ms, "v_rest": p.v_rest, "R": p.R, "bias": p.bias, "v_th": p.v_th,
                       "v_reset": p.v_reset})
        g.v = p.v_rest
        clear = g.run_regularly("I = 0", when="after_groups", name=f"clear_{name}")
        monitors[name] = (b2.SpikeMonitor(g, name=f"spikes_{name}"),
                          b2.StateMonitor(g, "v", record=True, when="end", name=f"v_{name}"),
                          b2.StateMonitor(g, ["v", "not_refractory"], record=True, when="before_thresholds",
                                          name=f"pre_{name}"))
        groups[name] = g
        objects += [g, clear, *monitors[name]]
    learning = {(s.pre, s.post): s for s in stdp}
    synapses = {}
    for c in conns:
        rule = learning.get((c.pre, c.post))
        syn = _synapses(b2, groups[c.pre], groups[c.post], rule, dt, f"syn_{c.pre}_{c.post}")
        w = np.asarray(c.weights, np.float64)
        ii, jj = np.nonzero(np.ones(w.shape, bool) if c.mask is None else np.asarray(c.mask, bool))
        syn.connect(i=ii, j=jj)
        syn.w = w[ii, jj]
        syn.delay = c.delay_steps * dt
        synapses[(c.pre, c.post)] = (syn, ii, jj, w.shape)
        objects.append(syn)
    net = b2.Network(*objects)
    net.run(steps * dt)
    result = Result()
    for name, (spikes, trace, before) in monitors.items():
        integrated = np.asarray(before.not_refractory, bool)
        gap = np.abs(np.asarray(before.v) - layers[name].v_th)[integrated]
        result.margin[name] = float(gap.min()) if gap.size else float("inf")
        step = np.round(np.asarray(spikes.t / dt)).astype(np.int64)
        order = np.lexsort((np.asarray(spikes.i), step))
        result.rasters[name] = np.stack([step[order], np.asarray(spikes.i)[order]], axis=1).astype(np.int32)
        result.voltage[name] = np.asarray(groups[name].v[:], np.float64)
        result.traces[name] = np.asarray(trace.v, np.float64).T
    for key, (syn, ii, jj, shape) in synapses.items():
        w = np.zeros(shape)
        w[ii, jj] = np.asarray(syn.w[:])
        result.weights[key] = w
    return result


def _synapses(b2, pre, post, rule: Stdp | None, dt, name: str):
    if rule is None:
        return b2.Synapses(pre, post, "w : 1", on_pre="I_post += w", dt=dt, name=name)
    ms = b2.ms
    return b2.Synapses(
        pre, post,
        "w : 1\ndapre/dt = -apre / tau_plus : 1 (event-driven)\ndapost/dt = -apost / tau_minus : 1 (event-driven)",
        on_pre="I_post += w\napre += 1\nw = clip(w - a_minus * apost, w_min, w_max)",
        on_post="apost += 1\nw = clip(w + a_plus * apre, w_min, w_max)",
        dt=dt, name=name,
        namespace={"tau_plus": rule.tau_plus_ms * ms, "tau_minus": rule.tau_minus_ms * ms, "a_plus": rule.a_plus,
                   "a_minus": rule.a_minus, "w_min": rule.w_min, "w_max": rule.w_max})
