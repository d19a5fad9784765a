"""Sparse matrices in ``.npz`` files, read and written by ``scipy.sparse.load_npz``/``save_npz``.

The CLI takes sparse inputs as files, and scipy's ``.npz`` layout is the common currency, so
scipy reads and writes them. scipy opens the file with ``np.load(allow_pickle=False)`` (a file
can never run code; ``tests/runtime/sparse/test_npz.py`` holds it to that).

A file is untrusted input: whatever is wrong with it (not a zip, truncated, a missing or
mis-shaped array, an index out of range) becomes a :class:`SparseInputError` naming the file,
never another exception. scipy refuses many broken files in its own words and accepts some
that kernels must not see (indices out of range, complex values, non-zero bsr padding), so
every matrix scipy reads is validated as any other input is, and when scipy refuses a file,
:func:`_explain` looks at its arrays to say what exactly is wrong.

Sizes come first (:func:`_check_sizes`): a file of a few kilobytes can declare arrays of
gigabytes (zeros compress a thousandfold) or a shape whose index pointers alone fill the
memory, and scipy would allocate them before any check ran. So the shape and the byte
sizes the arrays' headers declare are read, without their data, and refused with a
:class:`SparseInputError` naming the file and the size before scipy reads anything.
"""

from __future__ import annotations

import io
import logging
import math
import os
import zipfile
from typing import Any

import numpy as np
import scipy.sparse as sp

from ccomp.runtime.imageio import npy_declared
from ccomp.runtime.pool import machine_memory, show_bytes
from ccomp.runtime.sparse.formats import (
    Format, SparseArrays, SparseInputError, check_bsr, check_compressed, check_coo, check_input, check_shape,
    from_value, to_scipy,
)

log = logging.getLogger(__name__)


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


def _check_arrays(f: Any, name: str) -> None:
    """Raise the SparseInputError that says what is wrong with the arrays of a sparse ``.npz``."""
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
        check_compressed(kind, shape, get("indptr"), get("indices"), get("data"))
    elif kind == "bsr":
        data = get("data")
        if data.ndim != 3 or min(data.shape[1:]) < 1:
            raise SparseInputError(f"bsr data must have shape (blocks, R, C), got {data.shape}")
        check_bsr(shape, data.shape[1:], get("indptr"), get("indices"), data)
    elif kind == "coo":
        if "coords" in f.files:
            rc = get("coords")
            if rc.ndim != 2 or len(rc) != 2:
                raise SparseInputError(f"coo coords must have shape (2, nnz), got {rc.shape}")
            check_coo(shape, rc[0], rc[1], get("data"))
        else:
            check_coo(shape, get("row"), get("col"), get("data"))
    elif kind == "dia":
        data, offsets = get("data"), get("offsets")
        if data.ndim != 2 or offsets.ndim != 1 or len(offsets) != len(data) or offsets.dtype.kind not in "iu":
            raise SparseInputError(f"dia data {data.shape} and offsets {offsets.shape} do not match")
    else:
        raise SparseInputError(f"unknown sparse format {kind!r}; expected csr, csc, coo, bsr or dia")


def _explain(path: str | os.PathLike, name: str) -> None:
    """Raise what is wrong with a file scipy refused, if its arrays say; else return."""
    try:
        with open(path, "rb") as fh:  # ours to close: np.load leaks its own handle when the zip is bad
            f = np.load(fh, allow_pickle=False)
            if not isinstance(f, np.lib.npyio.NpzFile):
                raise _Named(f"{name!r} holds a single array, not a scipy.sparse.save_npz matrix")
            with f:
                _check_arrays(f, name)
    except SparseInputError:
        raise
    except Exception:  # unreadable here as well: the caller reports scipy's reason
        return


def _declared(path: str | os.PathLike) -> tuple[dict[str, tuple[tuple[int, ...], int]], Any]:
    """Each ``.npy`` member's declared (shape, bytes), and the ``shape`` array when its
    member is small; read from the headers, never the data. Raises what zipfile and
    numpy raise on a file that is not a zip."""
    declared: dict[str, tuple[tuple[int, ...], int]] = {}
    shape = None
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            try:
                with z.open(info) as member:
                    header = npy_declared(member)
            except Exception:  # not an array: scipy never allocates for it
                continue
            if header is not None:
                declared[info.filename] = (header[0], math.prod(header[0]) * header[1].itemsize)
        if declared.get("shape.npy", ((), 1 << 30))[1] <= 64 and z.getinfo("shape.npy").file_size <= 4096:
            shape = np.load(io.BytesIO(z.read("shape.npy")), allow_pickle=False)
    return declared, shape


def _check_sizes(path: str | os.PathLike, name: str) -> None:
    """Refuse a file whose declared shape is out of range, or whose arrays plus an index
    pointer per row or column (what ccomp's formats add, int64 at worst) need more than
    this machine's memory. A file that cannot be read this way is left to scipy."""
    try:
        declared, shape = _declared(path)
    except Exception:  # not a zip, not .npy members: scipy and _explain say what is wrong
        return
    rows = cols = 0
    if shape is not None:
        try:
            rows, cols = check_shape(shape)
        except SparseInputError as e:
            raise _Named(f"{name!r}: {e}") from None
    need = sum(size for _, size in declared.values()) + 8 * (max(rows, cols) + 1)
    if need > machine_memory():
        biggest = max(declared, key=lambda k: declared[k][1])
        dims, size = declared[biggest]
        raise _Named(f"{name!r} declares a {rows} x {cols} matrix whose arrays ({biggest[:-4]!r}: "
                     f"{' x '.join(map(str, dims))}, {show_bytes(size)}) and index pointers need "
                     f"{show_bytes(need)}, more than the {show_bytes(machine_memory())} of memory here")


def load_npz(path: str | os.PathLike) -> Any:
    """The validated scipy.sparse matrix in ``path`` (in the format the file holds)."""
    name = os.path.basename(os.fspath(path))
    _check_sizes(path, name)
    try:
        with open(path, "rb") as fh:
            matrix = sp.load_npz(fh)
    except Exception as e:  # untrusted file: zipfile, zlib, numpy and scipy raise many kinds of error
        try:
            _explain(path, name)
        except _Named:
            raise
        except SparseInputError as why:
            raise SparseInputError(f"{name!r}: {why}") from None
        raise SparseInputError(f"{name!r} is not a readable sparse .npz file ({type(e).__name__}: {e})") from None
    try:
        check_input(matrix)  # scipy checks little; index checks are cached, so from_value repeats none
    except SparseInputError as e:
        raise SparseInputError(f"{name!r}: {e}") from None
    log.debug("loaded %s: %s %s, %d stored entries", name, matrix.format, matrix.shape, matrix.nnz)
    return matrix


def save_npz(path: str | os.PathLike, arrays: SparseArrays, dtype: Any = np.float32) -> None:
    """Write ``arrays`` with ``scipy.sparse.save_npz`` (csr/csc/coo as they are, bsr as bsr when
    its shape is a block multiple, anything else as csr). The arrays are canonicalised first,
    so the file holds exactly the nonzeros, without padding."""
    fmt, (rows, cols) = arrays.format, arrays.shape
    if fmt.kind == "dense" or (fmt.kind == "bsr" and (rows % fmt.block[0] or cols % fmt.block[1])):
        fmt = Format("csr")
    sp.save_npz(path, to_scipy(from_value(arrays, fmt, dtype)))
