"""Reading and writing program inputs and outputs: PNG, ``.npy`` and ``.npz`` files.

PNG pixels become float32 in [0, 1]; the channel count follows the input's element
type (``f32`` greyscale, ``vec3`` RGB, ``vec4`` RGBA). Written PNGs clip to [0, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ccomp.diagnostics import CompileError

_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


def read_array(path: str, lanes: int, what: str, grid_dims: int = 2) -> np.ndarray:
    """Load an input file for an image (``grid_dims`` 3: a volume) with ``lanes`` channels."""
    p = Path(path)
    if not p.is_file():
        raise CompileError(f"{what}: no such file '{path}'")
    suffix = p.suffix.lower()
    try:
        if suffix == ".npy":
            return np.load(p, allow_pickle=False)
        if suffix == ".npz":
            with np.load(p, allow_pickle=False) as z:
                if len(z.files) != 1:
                    raise CompileError(f"{what}: '{path}' holds {len(z.files)} arrays; expected one")
                return z[z.files[0]]
        if suffix == ".png":
            from PIL import Image

            if grid_dims == 3:
                raise CompileError(f"{what}: a PNG holds one 2-D image, not a volume; use .npy (depth, height, width)")
            if lanes not in _MODES:
                raise CompileError(f"{what}: a PNG cannot hold {lanes}-channel elements; use .npy")
            with Image.open(p) as img:
                arr = np.asarray(img.convert(_MODES[lanes]), dtype=np.float32) / 255.0
            return np.ascontiguousarray(arr)
    except CompileError:
        raise
    except Exception as exc:
        raise CompileError(f"{what}: cannot read '{path}': {exc}") from None
    raise CompileError(f"{what}: unsupported file type '{suffix}' (use .png, .npy or .npz)")


def write_array(path: str, value: np.ndarray, what: str, grid_dims: int = 2) -> None:
    """Save an output array as PNG (clipped to [0, 1]) or ``.npy``; a volume
    (``grid_dims`` 3), whose (D, H, W) would pass for an image's (H, W, lanes), only as ``.npy``."""
    p = Path(path)
    suffix = p.suffix.lower()
    if p.parent and not p.parent.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
    try:
        if suffix == ".npy":
            np.save(p, value)
            return
        if suffix == ".png":
            from PIL import Image

            if grid_dims == 3:
                raise CompileError(f"{what}: a PNG holds one 2-D image, not a volume; write .npy")
            lanes = 1 if value.ndim == 2 else value.shape[-1]
            if lanes not in _MODES:
                raise CompileError(f"{what}: a PNG cannot hold {lanes}-channel elements; write .npy")
            data = (np.clip(np.nan_to_num(value.astype(np.float32)), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
            Image.fromarray(data, _MODES[lanes]).save(p)
            return
    except CompileError:
        raise
    except OSError as exc:
        raise CompileError(f"{what}: cannot write '{path}': {exc}") from None
    raise CompileError(f"{what}: unsupported output file type '{suffix}' (use .png or .npy)")
