"""The Brian2 oracle (``brian_oracle``) checked against spike steps and voltages
derived by hand, before it is trusted to judge ccomp's ``network`` programs.

Hand derivations (dt = 1 ms, tau = 10 ms, v_rest = v_reset = 0, v_th = 1, R = 1): with a
constant drive ``bias = 1.5`` and I = 0, v after k updates from rest is
``1.5 (1 - e^(-k/10))``, which first reaches 1 at k = ceil(10 ln 3) = 11 (10.99, far
from a tie). Steps count from 0, the first update is step 0: spikes at steps 10, 21,
32, ... With ``refractory = r ms`` a neuron spiking at s next integrates at s + r, so
the period is r - 1 + 11 steps: 12 for 2 ms (10, 22, 34), 15 for 5 ms (10, 25, 40).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("brian2", reason="Brian2 (the test extra) is the oracle these tests check")
from brian_oracle import Conn, Lif, Stdp, raster_of, simulate  # noqa: E402

# Brian2 2.9.0 calls pyparsing's camelCase names, which pyparsing 3.3 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning")


def _steps(result, layer: str = "h") -> list[int]:
    return result.rasters[layer][:, 0].tolist()


@pytest.mark.parametrize("refractory_ms,want", [(0.0, [10, 21, 32]), (2.0, [10, 22, 34]), (5.0, [10, 25, 40])])
def test_constant_drive_spike_steps(refractory_ms: float, want: list[int]) -> None:
    result = simulate({}, {"h": Lif(1, 10.0, bias=1.5, refractory_ms=refractory_ms)}, [], 41, 1.0)
    assert _steps(result) == want
    trace = result.traces["h"][:, 0]
    k = np.arange(1, 11)
    np.testing.assert_allclose(trace[:10], 1.5 * (1 - np.exp(-k / 10)), rtol=1e-12)
    assert trace[10] == 0.0  # reset at the spike step
    # the closest any update came to v_th: 11 updates from rest, 1.5 (1 - e^-1.1) = 1.00069
    assert result.margin["h"] == pytest.approx(1.5 * (1 - math.exp(-1.1)) - 1, rel=1e-9)
    if refractory_ms == 2.0:
        assert trace[11] == 0.0 and trace[12] == pytest.approx(1.5 * (1 - math.exp(-0.1)))  # step 11 skipped


@pytest.mark.parametrize("delay_steps", [0, 2])
def test_input_spike_is_felt_one_step_later_plus_delay(delay_steps: int) -> None:
    s = np.zeros((12, 1), bool)
    s[2, 0] = True
    result = simulate({"s": s}, {"h": Lif(1, 10.0)}, [Conn("s", "h", np.array([[0.5]]), delay_steps=delay_steps)],
                      12, 1.0)
    at = 3 + delay_steps
    v = result.traces["h"][:, 0]
    assert (v[:at] == 0).all()
    jump = 0.5 * (1 - math.exp(-0.1))  # I = 0.5 for exactly one step, then cleared
    np.testing.assert_allclose(v[at:], jump * np.exp(-np.arange(12 - at) / 10), rtol=1e-12)
    assert result.rasters["h"].shape == (0, 2)
    np.testing.assert_allclose(result.voltage["h"], v[-1:])


def test_feed_forward_and_sparse_recurrent_delivery() -> None:
    """Two input spikes summed in one step cross the threshold where one does not; a
    sparse recurrent synapse carries the spike of neuron 0 to neuron 1 only."""
    s = np.zeros((8, 2), bool)
    s[1, :] = True  # both inputs spike at step 1
    w_in = np.array([[6.0, 6.0], [6.0, 0.0]])  # neuron 0 gets 12, neuron 1 gets 6
    mask = np.array([[False, True], [False, False]])
    w_rec = np.array([[0.0, 12.0], [0.0, 0.0]])
    result = simulate({"s": s}, {"h": Lif(2, 10.0)}, [Conn("s", "h", w_in), Conn("h", "h", w_rec, mask=mask)],
                      8, 1.0)
    # step 2: v0 = 12 (1 - e^-0.1) = 1.142 >= 1 spikes, v1 = 0.571 does not;
    # step 3: neuron 1 gets 12 from the recurrent synapse: 0.571 e^-0.1 + 1.142 >= 1
    assert result.rasters["h"].tolist() == [[2, 0], [3, 1]]
    assert result.counts("h", 2).tolist() == [1, 1]
    assert result.weights[("h", "h")].tolist() == w_rec.tolist()


def test_stdp_weight_change_by_hand() -> None:
    """Pre spikes at steps 2 and 9, the post neuron is driven to spike at step 6:
    w = w0 + a_plus e^(-4/20) (at the post spike) - a_minus e^(-3/20) (at the second pre spike)."""
    pre = np.zeros((12, 1), bool)
    pre[[2, 9], 0] = True
    drive = np.zeros((12, 1), bool)
    drive[5, 0] = True
    rule = Stdp("pre", "h", a_plus=0.01, a_minus=0.012, tau_plus_ms=20.0, tau_minus_ms=20.0)
    conns = [Conn("pre", "h", np.array([[0.1]])), Conn("drive", "h", np.array([[20.0]]))]
    result = simulate({"pre": pre, "drive": drive}, {"h": Lif(1, 10.0)}, conns, 12, 1.0, stdp=[rule])
    assert _steps(result) == [6]
    want = 0.1 + 0.01 * math.exp(-4 / 20) - 0.012 * math.exp(-3 / 20)
    assert result.weights[("pre", "h")][0, 0] == pytest.approx(want, abs=1e-12)
    assert result.weights[("drive", "h")][0, 0] == 20.0  # not learned
    clamped = simulate({"pre": pre, "drive": drive}, {"h": Lif(1, 10.0)}, conns, 12, 1.0,
                       stdp=[Stdp("pre", "h", 0.01, 0.012, 20.0, 20.0, w_min=0.0, w_max=0.105)])
    assert clamped.weights[("pre", "h")][0, 0] == pytest.approx(0.105 - 0.012 * math.exp(-3 / 20), abs=1e-12)


def test_raster_of_orders_by_step_then_neuron() -> None:
    spikes = np.zeros((3, 4), bool)
    spikes[2, 1] = spikes[0, 3] = spikes[2, 0] = True
    assert raster_of(spikes).tolist() == [[0, 3], [2, 0], [2, 1]]
    assert raster_of(spikes).dtype == np.int32
