"""Sparse matrices in ``.npz`` files, as ``scipy.sparse.save_npz`` writes and ``load_npz`` reads them.

The CLI takes sparse inputs as files, and scipy's ``.npz`` layout is the common currency: a zip
of ``.npy`` arrays named ``format`` (b"csr", b"csc", b"bsr", b"coo" or b"dia"), ``shape``,
``data`` and either ``indices``/``indptr``, ``row``/``col`` (or ``coords``), or ``offsets``.
This module reads and writes that layout with NumPy alone (``np.load(allow_pickle=False)``:
a file can never run code), so the CLI does not need scipy.

A file is untrusted input: whatever is wrong with it (not a zip, truncated, a missing or
mis-shaped array, an index out of range) becomes a :class:`SparseInputError` naming the file,
never another exception.
"""

from __future__ import annotations

import logging
import os
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np

from ccomp.runtime.sparse.formats import (
    Format, SparseArrays, SparseInputError, bsr_coords, check_shape, compressed_coords, convert, coo_coords,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CooInput:
    """Raw coordinates read from a file; :func:`~ccomp.runtime.sparse.formats.canonical_coo`
    validates, sorts and sums them like any other input."""

    shape: tuple[int, int]
    row: np.ndarray
    col: np.ndarray
    data: np.ndarray


class _Named(SparseInputError):
    """A message that already names the file."""


def is_sparse_npz(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an ``.npz`` holding a ``format`` array (how the CLI tells a sparse
    input from a dense ``.npy``/``.npz`` or an image). Never raises."""
    try:
        with zipfile.ZipFile(path) as z:
            return "format.npy" in z.namelist()
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return False


def _dia_coords(shape: tuple[int, int], data: np.ndarray, offsets: np.ndarray):
    """dia stores diagonal ``offsets[k]`` in ``data[k]``, element j at (j - offsets[k], j)."""
    if data.ndim != 2 or offsets.ndim != 1 or len(offsets) != len(data) or offsets.dtype.kind not in "iu":
        raise SparseInputError(f"dia data {data.shape} and offsets {offsets.shape} do not match")
    width = min(data.shape[1], shape[1])
    col = np.broadcast_to(np.arange(width, dtype=np.int64), (len(offsets), width))
    row = col - offsets.astype(np.int64)[:, None]
    keep = (row >= 0) & (row < shape[0])
    return row[keep], col[keep], data[:, :width][keep]


def _read(f: Any, name: str) -> CooInput:
    def get(key: str) -> np.ndarray:
        if key not in f.files:
            raise _Named(f"{name!r} has no {key!r} array; is it a scipy.sparse.save_npz file?")
        return f[key]

    fmt = get("format")
    if fmt.size != 1 or fmt.dtype.kind not in "SU":
        raise SparseInputError(f"its 'format' must be a string such as 'csr', got a {fmt.dtype} array")
    kind = fmt.item()
    kind = kind.decode("ascii", "replace") if isinstance(kind, bytes) else kind
    shape = check_shape(get("shape"))
    if kind in ("csr", "csc"):
        coords = compressed_coords(kind, shape, get("indptr"), get("indices"), get("data"))
    elif kind == "bsr":
        data = get("data")
        if data.ndim != 3 or min(data.shape[1:]) < 1:
            raise SparseInputError(f"bsr data must have shape (blocks, R, C), got {data.shape}")
        coords = bsr_coords(shape, data.shape[1:], get("indptr"), get("indices"), data)
    elif kind == "coo":
        if "coords" in f.files:
            rc = get("coords")
            if rc.ndim != 2 or len(rc) != 2:
                raise SparseInputError(f"coo coords must have shape (2, nnz), got {rc.shape}")
            coords = (rc[0], rc[1], get("data"))
        else:
            coords = (get("row"), get("col"), get("data"))
    elif kind == "dia":
        coords = _dia_coords(shape, get("data"), get("offsets"))
    else:
        raise SparseInputError(f"unknown sparse format {kind!r}; expected csr, csc, coo, bsr or dia")
    return CooInput(shape, *coo_coords(shape, *coords))  # so a bad file fails here, naming the file


def load_npz(path: str | os.PathLike) -> CooInput:
    """The matrix in ``path`` as raw coordinates (canonical_coo/from_value take it like any input)."""
    name = os.path.basename(os.fspath(path))
    try:
        with open(path, "rb") as fh:  # ours to close: np.load leaks its own handle when the zip is bad
            f = np.load(fh, allow_pickle=False)
            if not isinstance(f, np.lib.npyio.NpzFile):
                raise _Named(f"{name!r} holds a single array, not a scipy.sparse.save_npz matrix")
            with f:
                result = _read(f, name)
    except _Named:
        raise
    except SparseInputError as e:
        raise SparseInputError(f"{name!r}: {e}") from None
    except Exception as e:  # untrusted file: zipfile, zlib and numpy raise many kinds of error
        raise SparseInputError(f"{name!r} is not a readable sparse .npz file ({type(e).__name__}: {e})") from None
    log.debug("loaded %s: %s, %d stored entries", name, result.shape, len(result.data))
    return result


def save_npz(path: str | os.PathLike, arrays: SparseArrays) -> None:
    """Write ``arrays`` so that ``scipy.sparse.load_npz`` reads it back (csr/csc/coo as they
    are, bsr as bsr when its shape is a block multiple, anything else as csr). The arrays are
    canonicalised first, so the file holds exactly the nonzeros, without padding."""
    fmt, (rows, cols) = arrays.format, arrays.shape
    if fmt.kind == "dense" or (fmt.kind == "bsr" and (rows % fmt.block[0] or cols % fmt.block[1])):
        fmt = Format("csr")
    arrays = convert(arrays, fmt)
    p, n = arrays.parts, arrays.nnz
    if fmt.kind == "coo":
        body = {"row": p["row"][:n], "col": p["col"][:n], "data": p["data"][:n]}
    elif fmt.kind == "bsr":
        (R, C), nnzb = fmt.block, int(p["indptr"][-1])
        body = {"indices": p["indices"][:nnzb], "indptr": p["indptr"],
                "data": p["data"][: nnzb * R * C].reshape(nnzb, R, C)}
    else:
        body = {"indices": p["indices"][:n], "indptr": p["indptr"], "data": p["data"][:n]}
    np.savez_compressed(path, format=np.array(fmt.kind.encode("ascii")),
                        shape=np.array(arrays.shape, dtype=np.int64), **body)
