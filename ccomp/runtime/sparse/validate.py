"""Checking raw sparse inputs: the shapes, index structures and values a user passes.

scipy.sparse checks little when a matrix is built from arrays (index ranges, slack, block
padding and element types are not checked at all), and what it does check it reports in
its own words. Kernels index memory with the stored indices, so everything is validated
here first, and bad input becomes a :class:`SparseInputError` saying what is wrong in
ccomp's words. The checkers return the arrays they checked (trimmed to the used entries),
ready for :mod:`ccomp.runtime.sparse.formats` to hand to scipy without copying.
Validation of compressed index structures is cached by the identity of the index arrays
(:class:`IdentityCache`).
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


def check_values(data: Any, name: str = "values") -> np.ndarray:
    """Real numbers; float16 (which scipy.sparse cannot hold) widened exactly to float32."""
    data = np.asarray(data)
    if data.dtype.kind not in "iuf":
        raise SparseInputError(f"{name} must hold real numbers, got {data.dtype}")
    return data.astype(np.float32) if data.dtype == np.float16 else data


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
    major slice is strictly increasing (scipy's "canonical format": sorted, no duplicates).
    Entries past indptr[-1] are unused slack (scipy allows it)."""
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


def check_compressed(kind: str, shape: tuple[int, int], indptr: Any, indices: Any, data: Any):
    """(indptr, indices, data, canonical) of a valid csr or csc structure, trimmed to the used entries."""
    dims = shape if kind == "csr" else shape[::-1]
    canonical = _check_compressed(kind, dims, indptr, indices)
    data = check_values(data)
    if data.ndim != 1 or len(data) != len(indices):
        raise SparseInputError(f"data has shape {data.shape} but there are {len(indices)} indices")
    n = int(indptr[-1])
    return np.asarray(indptr), np.asarray(indices)[:n], data[:n], canonical


def check_bsr(shape: tuple[int, int], block: tuple[int, int], indptr: Any, indices: Any, data: Any):
    """(indptr, indices, data as (nnzb, R, C), canonical) of a valid bsr structure; data is
    scipy's (nnzb, R, C) or ccomp's flat form. Blocks may reach past a shape that is not a
    block multiple; what lies outside the shape must be zero."""
    (rows, cols), (R, C) = shape, block
    grid = (-(-rows // R), -(-cols // C))
    canonical = _check_compressed("bsr", grid, indptr, indices)
    data = check_values(data)
    nnzb = int(indptr[-1])
    if data.ndim == 3 and (data.shape[1:] != (R, C) or len(data) != len(indices)):
        raise SparseInputError(f"bsr data has shape {data.shape}; {len(indices)} blocks of {R}x{C} need "
                               f"({len(indices)}, {R}, {C})")
    if data.ndim not in (1, 3) or data.size < nnzb * R * C:
        raise SparseInputError(f"bsr data has {data.size} values; {nnzb} blocks of {R}x{C} need {nnzb * R * C}")
    data = data.reshape(-1)[: nnzb * R * C].reshape(nnzb, R, C)
    indices = np.asarray(indices)[:nnzb]
    edge_rows = data[np.repeat(np.arange(grid[0]), np.diff(np.asarray(indptr)))[:nnzb] == grid[0] - 1, rows % R:] \
        if rows % R else data[:0]
    edge_cols = data[indices == grid[1] - 1, :, cols % C:] if cols % C else data[:0]
    if edge_rows.any() or edge_cols.any():
        raise SparseInputError(f"bsr padding outside the {rows}x{cols} shape must be zero")
    return np.asarray(indptr), indices, data, canonical


def check_coo(shape: tuple[int, int], row: Any, col: Any, data: Any):
    """(row, col, data) of valid raw coordinates (duplicates and any order allowed)."""
    row, col, data = _index_array(row, "row"), _index_array(col, "col"), check_values(data)
    if data.ndim != 1 or not len(row) == len(col) == len(data):
        raise SparseInputError(f"row, col and data have different shapes ({row.shape}, {col.shape}, {data.shape})")
    _in_range(row, "row", shape[0])
    _in_range(col, "column", shape[1])
    return row, col, data


def check_dense(value: Any) -> np.ndarray:
    """A 2-D array of real numbers from a NumPy array or nested lists."""
    if not isinstance(value, (np.ndarray, list, tuple)):
        raise SparseInputError("expected a scipy.sparse matrix or array, a 2-D NumPy array or a sparse .npz "
                               f"file, got {type(value).__name__}")
    try:
        a = np.asarray(value)
    except ValueError as e:
        raise SparseInputError(f"is not a rectangular matrix ({e})") from None
    if a.ndim != 2:
        raise SparseInputError(f"must be a 2-D matrix, got a {a.ndim}-D array")
    check_shape(a.shape)
    return check_values(a)
