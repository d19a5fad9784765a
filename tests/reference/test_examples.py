"""The example programs, through the frontend, on the reference evaluator, against NumPy."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ccomp.diagnostics import Source
from ccomp.frontend import lower_to_l1
from ccomp.reference import evaluate

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def box_blur(img: np.ndarray, r: int) -> np.ndarray:
    """Edge-padded box blur in float32: dy outer, dx inner, times the reciprocal."""
    h, w = img.shape[:2]
    padded = np.pad(img, ((r, r), (r, r)) + ((0, 0),) * (img.ndim - 2), mode="edge")
    acc = np.zeros_like(img)
    for dy in range(2 * r + 1):
        for dx in range(2 * r + 1):
            acc = acc + padded[dy: dy + h, dx: dx + w]
    return acc * np.float32(1.0 / (2 * r + 1) ** 2)


def test_edges_example() -> None:
    path = EXAMPLES / "edges.cn"
    module = lower_to_l1(Source(path.read_text(), str(path)))
    src = np.random.default_rng(11).random((9, 13), dtype=np.float32)
    mag, mean_mag = evaluate(module, "edges", [src])
    g = np.pad(box_blur(src, 2), 1, mode="edge")
    gx = g[1:-1, 2:] - g[1:-1, :-2]
    gy = g[2:, 1:-1] - g[:-2, 1:-1]
    expected = np.sqrt(gx * gx + gy * gy)
    np.testing.assert_array_equal(mag, expected)
    assert type(mean_mag) is np.float32 and mean_mag == np.float32(expected.astype(np.float64).mean())
