"""Checking and reading raw sparse inputs: shapes, index structures and values a user passes.

Every reader here validates before anything indexes memory with the stored indices, and bad
input becomes a :class:`SparseInputError` with a message. Validation of compressed index
structures is cached by the identity of the index arrays (:class:`IdentityCache`). The readers
return (row, col, data) coordinates, validated but not yet canonical;
:mod:`ccomp.runtime.sparse.formats` turns those into the arrays kernels read.
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Hashable
from typing import Any

import numpy as np

INDEX_LIMIT = int(np.iinfo(np.int32).max)  # largest index or count a kernel can address
_AXES = {"csr": ("row", "column"), "csc": ("column", "row"), "bsr": ("block row", "block column")}


class SparseInputError(ValueError):
    """Bad sparse input; message says what is wrong (the caller adds the input's name/location)."""


class IdentityCache:
    """Results computed from live objects, keyed by their id()s plus a hashable extra.

    Checking or measuring a big matrix is O(nnz) but programs run many times on the same
    inputs. An id is unique while its object lives, and a weakref.finalize on every keyed
    object drops the entry when one dies, before its id can be reused. Objects that cannot be
    weakly referenced are not cached. In-place mutation of a keyed object is not noticed.
    """

    def __init__(self) -> None:
        self._entries: dict[Hashable, Any] = {}

    def get(self, objs: tuple[Any, ...], extra: Hashable = ()) -> Any:
        """The cached value, or None."""
        return self._entries.get((tuple(map(id, objs)), extra))

    def put(self, objs: tuple[Any, ...], extra: Hashable, value: Any) -> None:
        """Remember ``value`` while every object in ``objs`` lives."""
        key = (tuple(map(id, objs)), extra)
        if key not in self._entries:
            try:
                for obj in objs:
                    weakref.finalize(obj, self._entries.pop, key, None)
            except TypeError:  # not weakly referenceable: cannot know when its id is reused
                return
        self._entries[key] = value

    def __len__(self) -> int:
        return len(self._entries)


_checked = IdentityCache()  # compressed index structures already validated -> "is canonical"


def _is_scipy(value: Any) -> bool:
    return hasattr(value, "tocoo") and hasattr(value, "shape") and isinstance(getattr(value, "format", None), str)


def identity(value: Any) -> tuple[Any, ...] | None:
    """The objects whose identity stands for ``value``'s contents, for :class:`IdentityCache`;
    None for inputs mutable in place by design (lil, dok, lists), which are never cached."""
    from ccomp.runtime.sparse.formats import SparseArrays  # the data type; importing it at the top would be circular

    if isinstance(value, np.ndarray):
        return (value,)
    if isinstance(value, SparseArrays):
        return tuple(value.parts.values())
    if _is_scipy(value) and value.format in ("csr", "csc", "bsr", "coo"):
        names = ("row", "col", "data") if value.format == "coo" else ("indptr", "indices", "data")
        return tuple(getattr(value, n) for n in names)
    if all(hasattr(value, n) for n in ("shape", "row", "col", "data")):  # CooInput
        return (value.row, value.col, value.data)
    return None


def check_shape(shape: Any) -> tuple[int, int]:
    """Two non-negative integers, each addressable by an int32 index."""
    try:
        dims = tuple(operator.index(d) for d in shape)
    except TypeError:
        raise SparseInputError(f"shape must be two non-negative integers, got {shape!r}") from None
    if len(dims) != 2:
        raise SparseInputError(f"must be a 2-D matrix, got shape {dims}")
    if min(dims) < 0:
        raise SparseInputError(f"shape {dims} has a negative size")
    if max(dims) > INDEX_LIMIT:
        raise SparseInputError(f"shape {dims} is too big: sparse indices are 32-bit (at most {INDEX_LIMIT})")
    return dims


def _values(data: Any, name: str = "values") -> np.ndarray:
    data = np.asarray(data)
    if data.dtype.kind not in "iuf":
        raise SparseInputError(f"{name} must hold real numbers, got {data.dtype}")
    return data


def _index_array(arr: Any, name: str) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise SparseInputError(f"{name} must be a 1-D array of integers, got a {arr.ndim}-D {arr.dtype} array")
    return arr


def _in_range(arr: np.ndarray, axis: str, limit: int) -> None:
    if arr.size:
        lo, hi = arr.min(), arr.max()
        if lo < 0:
            raise SparseInputError(f"{axis} index {lo} is negative")
        if hi >= limit:
            raise SparseInputError(f"{axis} index {hi} is out of range for {limit} {axis}s")


def _validate_compressed(kind: str, dims: tuple[int, int], indptr: Any, indices: Any) -> bool:
    """O(nnz) check of a compressed index over a (major, minor) grid; returns whether every
    major slice is strictly increasing. Entries past indptr[-1] are unused slack (scipy allows it)."""
    major, minor = _AXES[kind]
    indptr, indices = _index_array(indptr, "indptr").astype(np.int64), _index_array(indices, "indices")
    if len(indptr) != dims[0] + 1:
        raise SparseInputError(f"indptr has {len(indptr)} entries; {dims[0]} {major}s need {dims[0] + 1}")
    if indptr[0] != 0:
        raise SparseInputError(f"indptr must start at 0, got {indptr[0]}")
    down = np.flatnonzero(np.diff(indptr) < 0)
    if down.size:
        i = down[0]
        raise SparseInputError(f"indptr is not monotonic: {indptr[i]} then {indptr[i + 1]} at position {i + 1}")
    if indptr[-1] > len(indices):
        raise SparseInputError(f"indptr ends at {indptr[-1]} but only {len(indices)} indices are stored")
    used = indices[: indptr[-1]]
    _in_range(used, minor, dims[1])
    if used.size < 2:
        return True
    rising = np.diff(used.astype(np.int64) if used.dtype.kind == "u" else used) > 0
    starts = indptr[1:-1]
    rising[starts[(starts > 0) & (starts < used.size)] - 1] = True  # a new slice may restart low
    return bool(rising.all())


def _check_compressed(kind: str, dims: tuple[int, int], indptr: Any, indices: Any) -> bool:
    """:func:`_validate_compressed`, cached on the identity of the index arrays."""
    hit = _checked.get((indptr, indices), (kind, dims))
    if hit is None:
        hit = _validate_compressed(kind, dims, indptr, indices)
        _checked.put((indptr, indices), (kind, dims), hit)
    return hit


def compressed_coords(kind: str, shape: tuple[int, int], indptr: Any, indices: Any, data: Any):
    """Validated (row, col, data) of a csr or csc structure (data in its own dtype)."""
    dims = shape if kind == "csr" else shape[::-1]
    _check_compressed(kind, dims, indptr, indices)
    indptr, data = np.asarray(indptr).astype(np.int64, copy=False), _values(data)
    if data.ndim != 1 or len(data) != len(indices):
        raise SparseInputError(f"data has shape {data.shape} but there are {len(indices)} indices")
    n = int(indptr[-1])
    major = np.repeat(np.arange(dims[0], dtype=np.int64), np.diff(indptr))
    minor = np.asarray(indices[:n], dtype=np.int64)
    return (major, minor, data[:n]) if kind == "csr" else (minor, major, data[:n])


def bsr_coords(shape: tuple[int, int], block: tuple[int, int], indptr: Any, indices: Any, data: Any):
    """Validated (row, col, data) of a bsr structure; data is scipy's (nnzb, R, C) or ccomp's flat form."""
    (rows, cols), (R, C) = shape, block
    grid = (-(-rows // R), -(-cols // C))
    _check_compressed("bsr", grid, indptr, indices)
    indptr, data = np.asarray(indptr).astype(np.int64, copy=False), _values(data)
    nnzb = int(indptr[-1])
    if data.ndim == 3 and (data.shape[1:] != (R, C) or len(data) != len(indices)):
        raise SparseInputError(f"bsr data has shape {data.shape}; {len(indices)} blocks of {R}x{C} need "
                               f"({len(indices)}, {R}, {C})")
    if data.ndim not in (1, 3) or data.size < nnzb * R * C:
        raise SparseInputError(f"bsr data has {data.size} values; {nnzb} blocks of {R}x{C} need {nnzb * R * C}")
    data = data.reshape(-1)[: nnzb * R * C].reshape(nnzb, R, C)
    brow = np.repeat(np.arange(grid[0], dtype=np.int64), np.diff(indptr))[:, None, None]
    bcol = np.asarray(indices[:nnzb], dtype=np.int64)[:, None, None]
    row = np.broadcast_to(brow * R + np.arange(R)[None, :, None], data.shape)
    col = np.broadcast_to(bcol * C + np.arange(C)[None, None, :], data.shape)
    inside = (row < rows) & (col < cols)
    if np.any(data[~inside] != 0):
        raise SparseInputError(f"bsr padding outside the {rows}x{cols} shape must be zero")
    keep = inside & (data != 0)  # zeros add nothing to duplicate sums, so dropping them early is exact
    return row[keep], col[keep], data[keep]


def coo_coords(shape: tuple[int, int], row: Any, col: Any, data: Any):
    """Validated (row, col, data) of raw coordinates."""
    row, col, data = _index_array(row, "row"), _index_array(col, "col"), _values(data)
    if data.ndim != 1 or not len(row) == len(col) == len(data):
        raise SparseInputError(f"row, col and data have different shapes ({row.shape}, {col.shape}, {data.shape})")
    _in_range(row, "row", shape[0])
    _in_range(col, "column", shape[1])
    return row.astype(np.int64), col.astype(np.int64), data


def _dense_coords(value: Any):
    if not isinstance(value, (np.ndarray, list, tuple)):
        raise SparseInputError("expected a scipy.sparse matrix or array, a 2-D NumPy array or a sparse .npz "
                               f"file, got {type(value).__name__}")
    try:
        a = np.asarray(value)
    except ValueError as e:
        raise SparseInputError(f"is not a rectangular matrix ({e})") from None
    if a.ndim != 2:
        raise SparseInputError(f"must be a 2-D matrix, got a {a.ndim}-D array")
    shape, a = check_shape(a.shape), _values(a)
    row, col = np.nonzero(a)
    return shape, (row, col, a[row, col])


def _packed_order(key: np.ndarray, bits: int) -> np.ndarray:
    """Stable sorting permutation of a non-negative key with key << bits < 2**63: sorting the packed
    int64 values (key << bits | position) directly is several times faster than a stable argsort."""
    packed = (key.astype(np.int64) << bits) | np.arange(len(key), dtype=np.int64)
    packed.sort()
    return packed & ((1 << bits) - 1)


def stable_order(major: np.ndarray, minor: np.ndarray, spans: tuple[int, int]) -> np.ndarray:
    """The permutation sorting by (major, minor), ties kept in input order; 0 <= major < spans[0],
    0 <= minor < spans[1] <= 2**31. One packed sort when the combined key fits, else two passes."""
    bits = max(len(major) - 1, 1).bit_length()
    if bits > 32:
        return np.lexsort((minor, major))
    if (spans[0] * spans[1]).bit_length() + bits <= 63:
        return _packed_order(major * spans[1] + minor, bits)
    first = _packed_order(minor, bits)
    return first[_packed_order(major[first], bits)]
