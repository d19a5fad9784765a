"""Make the weights of examples/classify.cn (w1.npy, w2.npy) and its sample input.

A tiny, fully synthetic task: ten classes of 28x28 images, each a bar through the
middle at angle k·18° (k = 0..9), shifted by up to ±3 pixels, with salt noise. The
hidden layer's weights are a seeded random projection (each hidden neuron sums a
random subset of pixels, with some inhibition); the readout is trained on the spiking
network itself: the hidden spike counts of 40 training images per class are measured by
running the network (llvm, batched), and output neuron k's weights are the normalised
excess of class k's mean hidden counts over the mean of all classes (a prototype
readout; weights stay in STDP's [0, 1]). The script then runs examples/classify.cn as
shipped on fresh test images and reports its accuracy. Seeded: the same files every run.

    python tools/make_classify_weights.py        # writes examples/w1.npy, w2.npy, data/bar3.npy
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

import ccomp

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
log = logging.getLogger("make_classify_weights")

HIDDEN = """
network hidden(pixels: tensor<?x784xf32>, w1: tensor<784x128xf32>) -> tensor<?x128xi32>
    steps 100 dt 1ms
{
    input s = poisson(pixels, max_rate: 100Hz)
    layer h = lif(128, tau: 10ms, v_th: 1.0, v_reset: 0.0, refractory: 2ms) <- s weights w1
    return spike_count(h)
}
"""


def bars(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One 28x28 image (flattened, float32 in [0, 1]) per label (a fractional label is an
    angle between classes)."""
    yy, xx = np.mgrid[0:28, 0:28].astype(np.float32)
    out = np.zeros((len(labels), 784), np.float32)
    for n, k in enumerate(labels):
        theta = np.pi * k / 10
        dx, dy = rng.integers(-3, 4, 2)
        cx, cy = 13.5 + dx, 13.5 + dy
        dist = np.abs(-(xx - cx) * np.sin(theta) + (yy - cy) * np.cos(theta))
        along = np.abs((xx - cx) * np.cos(theta) + (yy - cy) * np.sin(theta))
        img = np.clip(1.6 - dist, 0, 1) * (along < 11)
        img = np.maximum(img, (rng.uniform(size=(28, 28)) < 0.03) * rng.uniform(0.3, 1, (28, 28)))
        out[n] = img.reshape(-1)
    return out


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rng = np.random.default_rng(20261206)
    # hidden neuron j prefers a bar at a random angle: its weights are such a bar's image
    # (excitation along it) less a uniform inhibition
    angles = rng.uniform(0, 10, 128)
    w1 = (bars(angles, rng).T * 2.0 - 0.3).astype(np.float32)
    labels = np.repeat(np.arange(10), 40)
    train = bars(labels, rng)
    hidden = ccomp.compile(HIDDEN, target="llvm", cache=False)
    counts = hidden(pixels=train, w1=w1).astype(np.float64)
    log.info("hidden spikes per image: mean %.1f, active neurons per image %.1f",
             counts.sum(1).mean(), (counts > 0).sum(1).mean())
    means = np.stack([counts[labels == k].mean(0) for k in range(10)])
    excess = np.clip(means - means.mean(0), 0, None)
    w2 = (excess / excess.max(axis=1, keepdims=True).clip(1e-9)).T  # (128, 10), each column max 1
    w2 = np.minimum(w2 * 1.6, 1.0).astype(np.float32)  # stronger drive; STDP keeps w in [0, 1]
    np.save(EXAMPLES / "w1.npy", w1)
    np.save(EXAMPLES / "w2.npy", w2)
    prog = ccomp.compile_file(EXAMPLES / "classify.cn", target="llvm", cache=False)
    test_labels = np.tile(np.arange(10), 5)
    test = bars(test_labels, rng)
    got = np.array([prog(pixels=x) for x in test])
    guessed = got.argmax(1)
    silent = int((got.sum(1) == 0).sum())
    log.info("classify.cn on %d test images: accuracy %.0f%% (chance 10%%), %d with no output spike, "
             "output spikes per image %.1f", len(test), 100 * (guessed == test_labels).mean(), silent,
             got.sum(1).mean())
    sample = test[list(test_labels).index(3)]  # the first test image of class 3
    np.save(EXAMPLES / "data" / "bar3.npy", sample)
    log.info("examples/data/bar3.npy (class 3): output counts %s", prog(pixels=sample).tolist())


if __name__ == "__main__":
    main()
