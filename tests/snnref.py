"""A NumPy reference of the spiking-network semantics (docs/language.md, "Spiking
networks"), in float32 with the kernels' order of operations, so targets can be held
to identical spikes. Slow and plain: one Python loop over steps.

A model is described directly (not parsed): ``inputs`` (name -> Input), ``layers``
(name -> Layer, in declaration order), ``conns`` (Conn, in declaration order) and
``stdps``. Arrays carry a leading batch axis when ``batch`` is given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ccomp.semantics import philox

F = np.float32


@dataclass
class Input:
    kind: str  # poisson | latency | spikes
    x: np.ndarray  # (N,) or (B, N); spikes: (T, N) or (B, T, N)
    param: float = 0.0  # max_rate (Hz) or t_max (s)
    stream: int = 0x100


@dataclass
class Layer:
    n: int
    tau: float
    v_th: float = 1.0
    v_reset: float = 0.0
    v_rest: float = 0.0
    R: float = 1.0
    refractory: float = 0.0
    bias: float = 0.0


@dataclass
class Conn:
    pre: str
    post: str
    w: np.ndarray  # (pre, post) float32, dense
    delay_steps: int = 0
    mask: np.ndarray | None = None  # stored entries of sparse weights (STDP updates only these)


@dataclass
class Stdp:
    conn: int
    a_plus: float
    a_minus: float
    tau_plus: float
    tau_minus: float
    w_min: float = 0.0
    w_max: float = 1.0


@dataclass
class Result:
    count: dict[str, np.ndarray] = field(default_factory=dict)
    first: dict[str, np.ndarray] = field(default_factory=dict)
    v: dict[str, np.ndarray] = field(default_factory=dict)
    spikes: dict[str, np.ndarray] = field(default_factory=dict)  # (T, B, N) bool
    trace: dict[str, np.ndarray] = field(default_factory=dict)  # (T, B, N)
    weights: list[np.ndarray] = field(default_factory=list)


def _encode(inp: Input, t: int, dt: float, seed: int, B: int, batched: bool) -> np.ndarray:
    x = inp.x if batched else inp.x[None]
    if inp.kind == "poisson":
        rows = [philox.poisson_spikes(x[b], inp.param, dt, seed, t, b, inp.stream) for b in range(B)]
        return np.array(rows)
    if inp.kind == "latency":
        c = np.minimum(x.astype(F), F(1.0))
        at = (F(1.0) - c) * F(inp.param / dt)
        step = np.floor(at + F(0.5)).astype(np.int64)
        return (x > 0) & (step == t)
    T = x.shape[1]
    return (x[:, t] != 0) if t < T else np.zeros((B, x.shape[2]), bool)


def simulate(inputs: dict[str, Input], layers: dict[str, Layer], conns: list[Conn], steps: int, dt: float,
             seed: int = 0, stdps: tuple[Stdp, ...] = (), batch: int | None = None) -> Result:
    B = batch or 1
    batched = batch is not None
    res = Result()
    spk = {name: np.zeros((B, (i.x.shape[-1])), bool) for name, i in inputs.items()}
    spk.update({name: np.zeros((B, l.n), bool) for name, l in layers.items()})
    slots = {name: 2 + max([c.delay_steps for c in conns if c.post == name], default=0) for name in layers}
    ring = {name: np.zeros((slots[name], B, l.n), F) for name, l in layers.items()}
    v = {name: np.full((B, l.n), F(l.v_rest)) for name, l in layers.items()}
    cd = {name: np.zeros((B, l.n), np.int64) for name, l in layers.items()}
    w = [c.w.astype(F).copy() for c in conns]
    apre = [np.zeros(conns[s.conn].w.shape[0], F) for s in stdps]
    apost = [np.zeros(conns[s.conn].w.shape[1], F) for s in stdps]
    hist = {name: [] for name in spk}
    traces = {name: [] for name in layers}
    for t in range(steps):
        for name, inp in inputs.items():
            spk[name] = _encode(inp, t, dt, seed, B, batched)
        for name, l in layers.items():
            current = F(l.bias) + ring[name][t % slots[name]]
            ring[name][t % slots[name]] = 0
            resting = cd[name] > 0
            v_inf = F(l.v_rest) + F(l.R) * current
            v1 = v_inf + (v[name] - v_inf) * F(math.exp(-dt / l.tau))
            fired = (v1 >= F(l.v_th)) & ~resting
            r = int(round(l.refractory / dt))
            v[name] = np.where(resting, v[name], np.where(fired, F(l.v_reset), v1)).astype(F)
            cd[name] = np.where(resting, cd[name] - 1, np.where(fired, max(r - 1, 0), 0))
            spk[name] = fired
            traces[name].append(v[name].copy())
        for k, c in enumerate(conns):
            for b in range(B):
                acc = np.zeros(w[k].shape[1], F)
                for j in np.flatnonzero(spk[c.pre][b]):
                    acc = acc + w[k][j]
                slot = (t + 1 + c.delay_steps) % slots[c.post]
                ring[c.post][slot, b] = ring[c.post][slot, b] + acc
        for s_i, s in enumerate(stdps):
            c = conns[s.conn]
            pre, post = spk[c.pre][0], spk[c.post][0]
            apre[s_i] = apre[s_i] * F(math.exp(-dt / s.tau_plus)) + pre.astype(F)
            post_tr = apost[s_i] * F(math.exp(-dt / s.tau_minus))
            W = w[s.conn]
            mask = c.mask if c.mask is not None else np.ones_like(W, bool)
            dep = np.clip(W - F(s.a_minus) * post_tr[None, :], F(s.w_min), F(s.w_max))
            W2 = np.where(pre[:, None] & mask, dep, W)
            pot = np.clip(W2 + F(s.a_plus) * apre[s_i][:, None], F(s.w_min), F(s.w_max))
            w[s.conn] = np.where(post[None, :] & mask, pot, W2).astype(F)
            apost[s_i] = post_tr + post.astype(F)
        for name in spk:
            hist[name].append(spk[name].copy())
    for name in spk:
        h = np.array(hist[name]) if steps else np.zeros((0, B, spk[name].shape[1]), bool)
        res.spikes[name] = h
        res.count[name] = h.sum(axis=0).astype(np.int32)
        first = np.where(h.any(axis=0), h.argmax(axis=0), -1).astype(np.int32)
        res.first[name] = first
    for name in layers:
        res.v[name] = v[name]
        res.trace[name] = np.array(traces[name]) if steps else np.zeros((0, B, layers[name].n), F)
    res.weights = w
    if not batched:
        for d in (res.count, res.first, res.v):
            for k in d:
                d[k] = d[k][0]
    return res


def raster(spikes: np.ndarray, batched: bool) -> np.ndarray:
    """(step, neuron) rows — (batch, step, neuron) when batched — sorted as the runtime gives them."""
    t, b, n = np.nonzero(spikes)
    if batched:
        order = np.lexsort((n, t, b))
        return np.stack([b[order], t[order], n[order]], axis=1).astype(np.int32)
    return np.stack([t, n], axis=1).astype(np.int32)
