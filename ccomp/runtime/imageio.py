"""Reading and writing program inputs and outputs: PNG, ``.npy`` and ``.npz`` files.

PNG pixels become float32 in [0, 1]; the channel count follows the input's element
type (``f32`` greyscale, ``vec3`` RGB, ``vec4`` RGBA). Written PNGs clip to [0, 1].

An input file is untrusted, and a small file can ask for a huge allocation: a PNG of
12000x12000 pixels (a few kilobytes compressed) decodes to 1.8 GB of float32, an
``.npz`` of zeros compresses a thousandfold. So sizes are read from headers and
checked before anything is decoded: images hold at most ``CCOMP_MAX_IMAGE_PIXELS``
pixels (default Pillow's own bound, ``DEFAULT_MAX_PIXELS``), and an array may not
declare more bytes than this machine's memory (or, uncompressed, than its file holds).
Each refusal is a :class:`CompileError` naming the file and its size, never Pillow's
``DecompressionBombWarning`` followed by the allocation.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import IO, Any

import numpy as np

from ccomp.diagnostics import CompileError
from ccomp.runtime.pool import machine_memory, show_bytes

_MODES = {1: "L", 3: "RGB", 4: "RGBA"}
MAX_PIXELS_ENV = "CCOMP_MAX_IMAGE_PIXELS"
DEFAULT_MAX_PIXELS = 89_478_485  # Pillow's MAX_IMAGE_PIXELS: 1.4 GB of vec4 float32


def max_image_pixels() -> int:
    """The pixel limit of decoded images: ``CCOMP_MAX_IMAGE_PIXELS`` if set, else
    ``DEFAULT_MAX_PIXELS``."""
    text = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_PIXELS
    if not text.isdigit() or int(text) < 1:
        raise CompileError(f"{MAX_PIXELS_ENV}: '{text}' is not a positive number of pixels")
    return int(text)


def npy_declared(fh: IO[bytes]) -> tuple[tuple[int, ...], np.dtype] | None:
    """The shape and dtype an ``.npy`` stream's header declares (read without its
    data; the stream is left after the header), or None for a header version this
    NumPy reads only privately and does not expose."""
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
    else:
        reader = getattr(np.lib.format, "_read_array_header", None)
        if reader is None:
            return None
        shape, _, dtype = reader(fh, version)
    return tuple(int(d) for d in shape), dtype


def check_declared(fh: IO[bytes], name: str, what: str, available: int | None = None) -> None:
    """Refuse an ``.npy`` stream whose header declares more bytes than this machine's
    memory, or than ``available`` (the bytes its file holds after the header)."""
    declared = npy_declared(fh)
    if declared is None:
        return
    shape, dtype = declared
    size = math.prod(shape) * dtype.itemsize
    dims = " x ".join(map(str, shape)) or "scalar"
    if size > machine_memory():
        raise CompileError(f"{what}: '{name}' declares a {dims} {dtype} array ({show_bytes(size)}), more than "
                           f"the {show_bytes(machine_memory())} of memory here")
    if available is not None and size > available - fh.tell():
        raise CompileError(f"{what}: '{name}' declares a {dims} {dtype} array ({show_bytes(size)}) but holds "
                           f"only {show_bytes(max(available - fh.tell(), 0))} of data")


def _read_png(p: Path, path: str, lanes: int, what: str) -> np.ndarray:
    """Decode a PNG once its header says it fits the pixel limit (Pillow reads only the
    header on ``open``; its own bomb warning is ours to turn into an error)."""
    from PIL import Image

    limit = max_image_pixels()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            img = Image.open(p)
        except Image.DecompressionBombError as exc:  # over twice Pillow's bound: it refuses to open
            raise CompileError(f"{what}: '{path}' is too large to decode ({exc})") from None
        with img:
            width, height = img.size
            if width * height > limit:
                raise CompileError(
                    f"{what}: '{path}' is {width}x{height} = {width * height} pixels "
                    f"({show_bytes(width * height * lanes * 4)} as float32), more than the limit of {limit} "
                    f"pixels; set {MAX_PIXELS_ENV} to allow larger images")
            arr = np.asarray(img.convert(_MODES[lanes]), dtype=np.float32) / 255.0
    return np.ascontiguousarray(arr)


def read_array(path: str, lanes: int, what: str, grid_dims: int = 2) -> np.ndarray:
    """Load an input file for an image (``grid_dims`` 3: a volume) with ``lanes`` channels."""
    p = Path(path)
    if not p.is_file():
        raise CompileError(f"{what}: no such file '{path}'")
    suffix = p.suffix.lower()
    try:
        if suffix == ".npy":
            with open(p, "rb") as fh:
                check_declared(fh, path, what, os.fstat(fh.fileno()).st_size)
                fh.seek(0)
                return np.load(fh, allow_pickle=False)
        if suffix == ".npz":
            with np.load(p, allow_pickle=False) as z:
                if len(z.files) != 1:
                    raise CompileError(f"{what}: '{path}' holds {len(z.files)} arrays; expected one")
                names = z.zip.namelist()
                member_name = z.files[0] + ".npy" if z.files[0] + ".npy" in names else z.files[0]
                with z.zip.open(member_name) as member:
                    check_declared(member, path, what)
                return z[z.files[0]]
        if suffix == ".png":
            if grid_dims == 3:
                raise CompileError(f"{what}: a PNG holds one 2-D image, not a volume; use .npy (depth, height, width)")
            if lanes not in _MODES:
                raise CompileError(f"{what}: a PNG cannot hold {lanes}-channel elements; use .npy")
            return _read_png(p, path, lanes, what)
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
