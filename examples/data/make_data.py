"""Regenerates the example inputs in this folder (deterministic; no downloads).

    python examples/data/make_data.py
"""

from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).parent


def test_card(width: int = 384, height: int = 256) -> np.ndarray:
    """An RGBA test card: colour gradients, discs, stripes and a checkerboard, so that
    blurs, edges and thresholds all have something to act on."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    u, v = x / width, y / height
    r = u
    g = v
    b = 0.5 + 0.5 * np.sin(6.0 * np.pi * u * v)
    for cx, cy, rad, col in ((0.3, 0.4, 0.18, (1.0, 0.9, 0.2)), (0.7, 0.6, 0.22, (0.1, 0.3, 0.9))):
        inside = (u - cx) ** 2 * (width / height) ** 2 + (v - cy) ** 2 < rad**2
        r, g, b = (np.where(inside, c, ch) for c, ch in zip(col, (r, g, b)))
    stripes = (np.floor(x / 8) % 2 == 0) & (v > 0.85)
    checker = ((np.floor(x / 16) + np.floor(y / 16)) % 2 == 0) & (u > 0.85)
    for mask, val in ((stripes, 0.0), (checker, 1.0)):
        r, g, b = (np.where(mask, val, ch) for ch in (r, g, b))
    a = np.ones_like(r)
    return np.stack([r, g, b, a], axis=-1).astype(np.float32)


if __name__ == "__main__":
    card = test_card()
    Image.fromarray((np.clip(card, 0, 1) * 255 + 0.5).astype(np.uint8), "RGBA").save(HERE / "card.png")
    print("wrote", HERE / "card.png", card.shape)
