"""The NumPy meaning of the randomness in ``network`` programs: Philox4x32-10.

Spiking networks draw Poisson input spikes and initial weights from a counter-based
generator so that every target, every run and every batch element gets the same
numbers without any state: a draw is a pure function of ``(key, counter)``.

The contract (issue 11, shared by the encoder/initialiser kernels and the tests):

- Generator: Philox4x32-10 of Random123 (Salmon et al., SC'11) — multipliers
  ``0xD2511F53``/``0xCD9E8D57``, Weyl constants ``0x9E3779B9``/``0xBB67AE85``,
  10 rounds, the first round with the unbumped key. This is the algorithm of
  ``numpy.random.Philox`` (whose own instance is the 64-bit variant, Philox4x64-10:
  NumPy ships no 4x32). ``philox`` below is one implementation for both widths, and
  the tests prove its 64-bit instance equals ``numpy.random.Philox`` word for word
  and its 32-bit instance equals Random123's published known answers.
- Key: ``(seed & 0xFFFFFFFF, seed >> 32)`` for the network's u64 ``seed``.
- Counter words: ``c0`` = step (or weight row), ``c1`` = neuron/element (or weight
  column), ``c2`` = batch index, ``c3`` = stream (``0x100 + k`` for the k-th ``poisson``
  encoder, ``0x200 + c`` for the initialiser of connection number ``c``).
- ``uniform01(u) = float32((u >> 8) * 2**-24)``, in [0, 1) and exact in f32.
- Poisson: a spike when ``uniform01(word0) < x * p`` with ``p = float32(rate * dt)``
  (the rate·dt product is a compile-time constant rounded once to f32, then one f32
  multiply by the input value).
- ``uniform(lo, hi) = lo + (hi - lo) * uniform01(word0)`` and
  ``normal(mu, sigma) = mu + sigma * sqrt(-2 ln(1 - u0)) * cos(2π u1)`` in f32.

``passes/lowering/philox.py`` builds the same computation in IR; it must keep
step with this file (``tests/semantics/test_philox.py`` runs both).
"""

from __future__ import annotations

import numpy as np

ROUNDS = 10
STREAM_POISSON = 0x100
STREAM_INIT = 0x200

# (multipliers M0, M1; Weyl constants W0, W1) per word width, from Random123.
CONSTANTS: dict[int, tuple[int, int, int, int]] = {
    32: (0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85),
    64: (0xD2E7470EE14C6C93, 0xCA5A826395121157, 0x9E3779B97F4A7C15, 0xBB67AE8584CAA73B),
}
_LOW32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)


def _mulhilo(m: int, x: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The high and low ``width`` bits of the full product ``m * x``. For 64-bit words
    the 128-bit product is assembled from four 32×32→64 partial products (NumPy has no
    128-bit integers); every sum below stays within 64 bits."""
    if width == 32:
        p = x.astype(np.uint64) * np.uint64(m)
        return (p >> _S32).astype(np.uint32), (p & _LOW32).astype(np.uint32)
    mh, ml = np.uint64(m >> 32), np.uint64(m & 0xFFFFFFFF)
    xh, xl = x >> _S32, x & _LOW32
    ll, lh, hl, hh = xl * ml, xl * mh, xh * ml, xh * mh
    mid = (ll >> _S32) + (lh & _LOW32) + (hl & _LOW32)
    hi = hh + (lh >> _S32) + (hl >> _S32) + (mid >> _S32)
    return hi, x * np.uint64(m)  # uint64 multiplication wraps: the low word


def philox(key: np.ndarray, counter: np.ndarray, width: int = 32, rounds: int = ROUNDS) -> np.ndarray:
    """Philox4x``width``-``rounds`` of every counter: ``key`` (2,), ``counter`` (..., 4),
    both of dtype ``uint{width}``; returns (..., 4) of the same dtype."""
    dtype = np.uint32 if width == 32 else np.uint64
    m0, m1, w0, w1 = CONSTANTS[width]
    ctr = np.asarray(counter, dtype)
    k0, k1 = (dtype(v) for v in np.asarray(key, dtype))
    c0, c1, c2, c3 = (ctr[..., i] for i in range(4))
    with np.errstate(over="ignore"):
        for r in range(rounds):
            if r:
                k0, k1 = k0 + dtype(w0), k1 + dtype(w1)  # wraps in uint{width}
            hi0, lo0 = _mulhilo(m0, c0, width)
            hi1, lo1 = _mulhilo(m1, c2, width)
            c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return np.stack([c0, c1, c2, c3], axis=-1).astype(dtype)


def philox4x32_10(key: np.ndarray, counter: np.ndarray) -> np.ndarray:
    """Philox4x32-10: ``key`` (2,) uint32, ``counter`` (..., 4) uint32 -> (..., 4) uint32."""
    return philox(key, counter, 32)


def key_of(seed: int) -> np.ndarray:
    """The Philox key of a network's u64 ``seed``: (low word, high word)."""
    seed = int(seed) & 0xFFFFFFFFFFFFFFFF
    return np.array([seed & 0xFFFFFFFF, seed >> 32], np.uint32)


def counters(c0: object, c1: object, c2: object, c3: object) -> np.ndarray:
    """Counter words broadcast against each other into one (..., 4) uint32 array."""
    parts = np.broadcast_arrays(*(np.asarray(c, np.int64) for c in (c0, c1, c2, c3)))
    return np.stack([p.astype(np.uint32) for p in parts], axis=-1)


def uniform01(word: np.ndarray) -> np.ndarray:
    """A float32 in [0, 1) from each raw u32 word: its top 24 bits times 2**-24."""
    return ((np.asarray(word, np.uint32) >> np.uint32(8)).astype(np.float32) * np.float32(2.0 ** -24))


def poisson_spikes(x: np.ndarray, rate_hz: float, dt_s: float, seed: int, step: int, batch: int | np.ndarray,
                   stream: int) -> np.ndarray:
    """Spikes (bool, shape of ``x``) of a ``poisson`` encoder at ``step``: neuron ``i`` of
    the last axis of ``x`` spikes when ``uniform01(word0) < x[i] * float32(rate * dt)``.
    ``batch`` is the batch index (an int, or an array broadcasting against ``x``'s
    leading axes, e.g. ``np.arange(B)[:, None]``)."""
    x = np.asarray(x, np.float32)
    words = philox4x32_10(key_of(seed), counters(step, np.arange(x.shape[-1]), batch, stream))
    return uniform01(words[..., 0]) < x * np.float32(rate_hz * dt_s)


def _weight_words(shape: tuple[int, int], seed: int, stream: int) -> np.ndarray:
    rows, cols = shape
    return philox4x32_10(key_of(seed), counters(np.arange(rows)[:, None], np.arange(cols)[None, :], 0, stream))


def init_uniform(shape: tuple[int, int], lo: float, hi: float, seed: int, stream: int) -> np.ndarray:
    """A (rows, cols) float32 weight matrix from ``uniform(lo, hi)``: counter
    ``(row, column, 0, stream)``, ``lo + (hi - lo) * uniform01(word0)`` in f32."""
    u = uniform01(_weight_words(shape, seed, stream)[..., 0])
    return np.float32(lo) + (np.float32(hi) - np.float32(lo)) * u


def init_normal(shape: tuple[int, int], mu: float, sigma: float, seed: int, stream: int) -> np.ndarray:
    """A (rows, cols) float32 weight matrix from ``normal(mu, sigma)``: Box–Muller on
    words 0 and 1 of counter ``(row, column, 0, stream)``, in f32. ``1 - u0`` is in
    (0, 1], so the logarithm is finite."""
    words = _weight_words(shape, seed, stream)
    u0, u1 = uniform01(words[..., 0]), uniform01(words[..., 1])
    radius = np.sqrt(np.float32(-2.0) * np.log(np.float32(1.0) - u0))
    return np.float32(mu) + np.float32(sigma) * radius * np.cos(np.float32(2.0 * np.pi) * u1)
