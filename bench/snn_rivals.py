"""The contenders of bench/snn.py that are not ccomp: event-driven and ``parallel=True``
Numba loops, and Brian2 ``cpp_standalone`` runs (each in a child process of its own,
since Brian2's standalone device is global state; the run time is Brian2's own
measurement of its main loop, without code generation and g++).

The models are the ``network`` semantics (docs/language.md): exact integration
``v <- v_rest + R I + (v - v_rest - R I) e^(-dt/tau)``, threshold ``v >= v_th``, reset,
refractory counting the spike step, a spike felt by the targets one step later.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

import numpy as np


def make_feedforward():
    """784→128→10 with given input spikes (B, T, 784), event-driven: each step adds the
    weight rows of the sources that spiked in the previous one. Batch copies in
    parallel (``prange``); a single copy runs serially."""
    import numba

    @numba.njit(inline="always")
    def update(v, current, ref, decay, v_th, r_steps, spiked):
        n = 0
        for j in range(v.shape[0]):
            if ref[j] > 0:
                ref[j] -= 1
                continue
            v[j] = current[j] + (v[j] - current[j]) * decay
            if v[j] >= v_th:
                spiked[n] = j
                n += 1
                v[j] = np.float32(0.0)
                ref[j] = r_steps - 1
        return n

    @numba.njit
    def one(S, w1, w2, decay, r_steps, counts):
        T, n_in = S.shape
        n_h, n_o = w2.shape
        v1, v2 = np.zeros(n_h, np.float32), np.zeros(n_o, np.float32)
        i1, i2 = np.zeros(n_h, np.float32), np.zeros(n_o, np.float32)
        r1, r2 = np.zeros(n_h, np.int32), np.zeros(n_o, np.int32)
        s1, s2 = np.empty(n_h, np.int64), np.empty(n_o, np.int64)
        for t in range(T):
            k1 = update(v1, i1, r1, decay, np.float32(1.0), r_steps, s1)
            k2 = update(v2, i2, r2, decay, np.float32(1.0), 0, s2)
            for q in range(k2):
                counts[s2[q]] += 1
            for j in range(n_h):
                i1[j] = 0.0
            for j in range(n_o):
                i2[j] = 0.0
            for i in range(n_in):  # this step's input spikes, felt at the next step
                if S[t, i]:
                    for j in range(n_h):
                        i1[j] += w1[i, j]
            for q in range(k1):
                for j in range(n_o):
                    i2[j] += w2[s1[q], j]

    @numba.njit(parallel=True)
    def batched(S, w1, w2, decay, r_steps):
        counts = np.zeros((S.shape[0], w2.shape[1]), np.int32)
        for b in numba.prange(S.shape[0]):
            one(S[b], w1, w2, decay, r_steps, counts[b])
        return counts

    def run(S, w1, w2, decay, r_steps):
        """One copy runs without the thread pool (a prange of one is pure overhead)."""
        if S.shape[0] > 1:
            return batched(S, w1, w2, decay, r_steps)
        counts = np.zeros((1, w2.shape[1]), np.int32)
        one(S[0], w1, w2, decay, r_steps, counts[0])
        return counts

    return run


def make_uncoupled():
    """N uncoupled LIF neurons under a constant drive, ``parallel=True``: blocks of
    neurons in parallel (``prange``), the time loop inside each block and a branch-free
    update over the block's neurons innermost, which LLVM vectorises. (The plainer
    ``prange`` over neurons with each neuron's time loop inside ran 14x slower here:
    one neuron's steps form a dependency chain.)"""
    import numba

    @numba.njit(parallel=True, fastmath=False)
    def run(n, steps, drive, decay, v_th, r_steps):
        counts = np.zeros(n, np.int32)
        block = 2048
        for bi in numba.prange((n + block - 1) // block):
            lo = bi * block
            m = min(n, lo + block) - lo
            v = np.zeros(m, np.float32)
            ref = np.zeros(m, np.int32)
            c = np.zeros(m, np.int32)
            for _ in range(steps):
                for j in range(m):
                    active = ref[j] <= 0
                    nv = drive + (v[j] - drive) * decay
                    spike = active and nv >= v_th
                    v[j] = np.float32(0.0) if spike else (nv if active else v[j])
                    ref[j] = r_steps - 1 if spike else max(ref[j] - 1, 0)
                    c[j] += spike
            counts[lo:lo + m] = c
        return counts

    return run


_BRIAN_CHILD = r"""
import json, sys, numpy as np, brian2 as b2
case, n, steps, dt_ms, bias, tau_ms, ref_ms, directory, repeat = sys.argv[1:10]
n, steps, repeat = int(n), int(steps), int(repeat)
b2.set_device("cpp_standalone", directory=directory, build_on_run=True)
b2.prefs.devices.cpp_standalone.openmp_threads = 0
b2.defaultclock.dt = float(dt_ms) * b2.ms
g = b2.NeuronGroup(n, "dv/dt = (-v + R*(I + bias)) / tau : 1 (unless refractory)\nI : 1",
                   threshold="v >= 1.0", reset="v = 0.0", refractory=float(ref_ms) * b2.ms, method="exact",
                   namespace={"R": 1.0, "bias": float(bias), "tau": float(tau_ms) * b2.ms})
objects = [g]
if case == "recurrent":
    g.run_regularly("I = 0", when="after_groups")
    data = np.load(sys.argv[10])
    syn = b2.Synapses(g, g, "w : 1", on_pre="I_post += w")
    syn.connect(i=data["i"], j=data["j"])
    syn.w = data["w"]
monitor = b2.SpikeMonitor(g, record=False)
b2.run(steps * b2.defaultclock.dt)
times = [b2.device._last_run_time]
for _ in range(repeat - 1):
    b2.device.run(directory=directory, with_output=False)
    times.append(b2.device._last_run_time)
print(json.dumps({"seconds": float(np.median(times)), "best": min(times), "spikes": int(monitor.num_spikes)}))
"""


def brian2_standalone(case: str, n: int, steps: int, dt_ms: float, bias: float, tau_ms: float, ref_ms: float,
                      synapses: dict[str, np.ndarray] | None = None, repeat: int = 3,
                      timeout_s: float = 900) -> tuple[tuple[float, float] | None, str]:
    """``(median, best)`` seconds of Brian2 ``cpp_standalone``'s main loop over ``repeat``
    runs of the built binary, or None and why not."""
    try:
        import brian2  # noqa: F401
    except ImportError as exc:
        return None, f"not installed ({exc})"
    with tempfile.TemporaryDirectory(prefix="ccomp-bench-brian2-") as tmp:
        argv = [case, str(n), str(steps), str(dt_ms), str(bias), str(tau_ms), str(ref_ms), f"{tmp}/project",
                str(repeat)]
        if synapses is not None:
            np.savez(f"{tmp}/syn.npz", **synapses)
            argv.append(f"{tmp}/syn.npz")
        try:
            done = subprocess.run([sys.executable, "-c", _BRIAN_CHILD, *argv], capture_output=True, text=True,
                                  timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None, f"timed out after {timeout_s:.0f} s"
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"failed: {tail}"
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return (float(result["seconds"]), float(result["best"])), f"{result['spikes']} spikes"
