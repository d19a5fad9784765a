"""Spiking networks (issue 11): ccomp ``network`` programs against the alternatives a
user would pick. The contenders' calls are interleaved round by round and each is
reported by its median (and best) time; ratios are of medians, and the load average is
printed with every table (this machine is shared: compare figures of one run only).

    python bench/snn.py [--rounds 5] [--target llvm] [--no-brian2] [--only PART]

1. 784→128→10, 100 steps of 1 ms, input spikes drawn beforehand (``spikes(S)``), batch 1
   and 64: ccomp against an event-driven Numba loop (prange over the batch).
2. 10,000 uncoupled LIF neurons for 1 s at 0.1 ms (10,000 steps, 10^8 neuron updates):
   ccomp against Brian2 ``cpp_standalone`` and a Numba ``parallel=True`` loop; neuron
   updates per second.
3. 4,000 neurons with 2% random recurrent connectivity (CSR weights) for 1 s at 0.1 ms:
   ccomp against Brian2 ``cpp_standalone``.

Each contender's spike counts are compared with ccomp's (a disagreement is printed
beside the figures, not hidden). A contender that is
not installed (Numba, Brian2, g++) is reported as such. Brian2 times are its own
measurement of its main loop (no code generation or compilation).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).parent))
from common import timed  # noqa: E402
import snn_rivals  # noqa: E402

FEEDFORWARD = """
network ff(S: tensor<{batch}100x784xf32>, w1: tensor<784x128xf32>, w2: tensor<128x10xf32>)
    -> (c: tensor<{batch}10xi32>) steps 100 dt 1ms
{{
    input s = spikes(S)
    layer h = lif(128, tau: 10ms, v_th: 1.0, v_reset: 0.0, refractory: 2ms) <- s weights w1
    layer o = lif(10, tau: 10ms, v_th: 1.0) <- h weights w2
    return spike_count(o)
}}
"""
UNCOUPLED = """
network uncoupled() -> (c: tensor<{n}xi32>) steps {steps} dt 0.1ms {{
    layer n = lif({n}, tau: 10ms, v_th: 1.0, v_reset: 0.0, refractory: 2ms, bias: 1.5)
    return spike_count(n)
}}
"""
RECURRENT = """
network recurrent(W: tensor<{n}x{n}xf32, csr>) -> (c: tensor<{n}xi32>) steps {steps} dt 0.1ms {{
    layer n = lif({n}, tau: 10ms, v_th: 1.0, v_reset: 0.0, bias: 1.5) <- n weights W
    return spike_count(n)
}}
"""
DECAY_1MS = np.float32(np.exp(-0.1))


def interleaved(fns: list, rounds: int) -> list[tuple[float, float]]:
    """``(median, best)`` seconds of each of ``fns``, called in turn once per round (after
    one warm-up call each), so that a change of load touches them all alike."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for fn, got in zip(fns, times):
            got.append(timed(fn)[1])
    return [(statistics.median(t), min(t)) for t in times]


def table(title: str, rows: list[tuple[str, tuple[float, float] | None, str]], unit: str, amount: float,
          baseline: str) -> None:
    """One line per contender: median and best time, throughput at the median (``amount``
    per second in ``unit``), and the ratio of ``baseline``'s median to the contender's
    (above 1: faster)."""
    print(f"\n{title} (load average {' '.join(f'{x:.1f}' for x in os.getloadavg())})")
    base = dict((name, s) for name, s, _ in rows).get(baseline)
    print(f"  {'contender':30} {'median (ms)':>12} {'best (ms)':>10} {unit:>12} {'vs ' + baseline:>22}  note")
    for name, seconds, note in rows:
        if seconds is None:
            print(f"  {name:30} {'-':>12} {'-':>10} {'-':>12} {'-':>22}  {note}")
            continue
        ratio = f"{base[0] / seconds[0]:.2f}x" if base else "-"
        print(f"  {name:30} {seconds[0] * 1e3:12.3f} {seconds[1] * 1e3:10.3f} {amount / seconds[0]:12.4g} "
              f"{ratio:>22}  {note}")


def numba_or_none(make):
    try:
        return make(), ""
    except ImportError as exc:
        return None, f"not installed ({exc})"


def agreement(got: np.ndarray, want: np.ndarray) -> str:
    if np.array_equal(got, want):
        return "counts agree with ccomp"
    return f"counts DIFFER from ccomp's ({int(np.sum(got != want))} neurons, {int(want.sum())} spikes)"


def feedforward(ccomp, target: str, rounds: int) -> None:
    rng = np.random.default_rng(0)
    w1 = rng.uniform(0.0, 0.06, (784, 128)).astype(np.float32)
    w2 = rng.uniform(0.0, 0.4, (128, 10)).astype(np.float32)
    run_nb, why = numba_or_none(snn_rivals.make_feedforward)
    for batch in (1, 64):
        S = (rng.random((batch, 100, 784)) < 0.05).astype(np.float32)  # 50 Hz inputs, drawn beforehand
        src = FEEDFORWARD.format(batch="" if batch == 1 else "?x")
        prog, compile_s = timed(lambda: ccomp.compile(src, target=target))
        args = dict(S=S[0] if batch == 1 else S, w1=w1, w2=w2)
        got = np.asarray(prog(**args)).reshape(batch, 10)
        mine = lambda: prog(**args)  # noqa: E731
        if run_nb is None:
            rows = [(f"ccomp ({target})", interleaved([mine], rounds)[0], f"compile {compile_s:.2f} s"),
                    ("numba event-driven", None, why)]
        else:
            Sb = S.astype(np.bool_)
            call = lambda: run_nb(Sb, w1, w2, DECAY_1MS, 2)  # noqa: E731
            ours, theirs = interleaved([mine, call], rounds)
            rows = [(f"ccomp ({target})", ours, f"compile {compile_s:.2f} s"),
                    ("numba event-driven", theirs, agreement(got, call()))]
        table(f"784->128->10, 100 steps of 1 ms, batch {batch}, input spikes given "
              f"({int(S.sum())} input spikes, {int(got.sum())} output spikes)",
              rows, "steps/s", 100 * batch, "numba event-driven")


def uncoupled(ccomp, target: str, rounds: int, brian: bool, n: int = 10_000, steps: int = 10_000) -> None:
    prog, compile_s = timed(lambda: ccomp.compile(UNCOUPLED.format(n=n, steps=steps), target=target))
    got = np.asarray(prog())
    note = f"compile {compile_s:.2f} s, {int(got.sum())} spikes"
    run_nb, why = numba_or_none(snn_rivals.make_uncoupled)
    if run_nb is None:
        rows = [(f"ccomp ({target})", interleaved([prog], rounds)[0], note), ("numba parallel=True", None, why)]
    else:
        decay = np.float32(np.exp(-0.01))
        call = lambda: run_nb(n, steps, np.float32(1.5), decay, np.float32(1.0), 20)  # noqa: E731
        ours, theirs = interleaved([prog, call], rounds)
        rows = [(f"ccomp ({target})", ours, note), ("numba parallel=True", theirs, agreement(got, call()))]
    if brian:
        seconds, note = snn_rivals.brian2_standalone("uncoupled", n, steps, 0.1, 1.5, 10.0, 2.0, repeat=rounds)
        rows.append(("brian2 cpp_standalone", seconds, note))
    table(f"{n} uncoupled LIF neurons, 1 s at 0.1 ms ({steps} steps)", rows, "updates/s", n * steps,
          "brian2 cpp_standalone" if brian else "numba parallel=True")


def recurrent(ccomp, target: str, rounds: int, brian: bool, n: int = 4_000, steps: int = 10_000) -> None:
    W = sp.random(n, n, density=0.02, format="csr", dtype=np.float32, random_state=3)
    # uniform(-0.2, 0.2): excitation and inhibition. No refractory period: with one, the
    # neurons (identical, started together) would all fire at once and every recurrent
    # input would land in their refractory step and be lost, which is no network at all.
    W.data = (W.data * 0.4 - 0.2).astype(np.float32)
    prog, compile_s = timed(lambda: ccomp.compile(RECURRENT.format(n=n, steps=steps), target=target))
    got = np.asarray(prog(W=W))
    rows = [(f"ccomp ({target})", interleaved([lambda: prog(W=W)], rounds)[0],
             f"compile {compile_s:.2f} s, {int(got.sum())} spikes")]
    if brian:
        coo = W.tocoo()
        seconds, note = snn_rivals.brian2_standalone(
            "recurrent", n, steps, 0.1, 1.5, 10.0, 0.0, repeat=rounds,
            synapses={"i": coo.row.astype(np.int32), "j": coo.col.astype(np.int32), "w": coo.data.astype(np.float64)})
        rows.append(("brian2 cpp_standalone", seconds, note))
    table(f"{n} LIF neurons, 2% random recurrent synapses ({W.nnz}), 1 s at 0.1 ms", rows, "updates/s",
          n * steps, "brian2 cpp_standalone" if brian else f"ccomp ({target})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", default="llvm")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-brian2", dest="brian", action="store_false", help="skip the Brian2 contenders")
    ap.add_argument("--only", choices=["feedforward", "uncoupled", "recurrent"], help="run one part")
    args = ap.parse_args()
    import ccomp

    for name, part in [("feedforward", lambda: feedforward(ccomp, args.target, args.rounds)),
                       ("uncoupled", lambda: uncoupled(ccomp, args.target, args.rounds, args.brian)),
                       ("recurrent", lambda: recurrent(ccomp, args.target, args.rounds, args.brian))]:
        if args.only in (None, name):
            try:
                part()
            except ccomp.CompileError as exc:
                print(f"\n{name}: ccomp cannot compile it here: {exc}")


if __name__ == "__main__":
    main()
