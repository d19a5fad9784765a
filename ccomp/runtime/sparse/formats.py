"""Sparse storage formats: the exact arrays compiled kernels read, built from what users pass.

Users hand the runtime scipy.sparse matrices or arrays of any format, dense 2-D NumPy arrays,
or the contents of a ``.npz`` file. Kernels index memory with the stored indices, so every
input is validated here and bad input becomes a :class:`SparseInputError` with a message,
never a crash or a wrong answer downstream.

Everything goes through one canonical route: an input is reduced to coordinates sorted
row-major with duplicates summed and exact zeros dropped (:func:`canonical_coo`), and every
format is built from those, so N inputs and M formats need N + M converters that share one
validation. All of it is vectorised NumPy; nothing loops over entries in Python.

Layout (kernels rely on it exactly): index parts are int32, values float32, C-contiguous.
csr: indptr (rows+1), indices (column ids strictly increasing per row), data. csc: the same
with columns as the major axis. coo: row, col, data sorted row-major. bsr(RxC): indptr
(ceil(rows/R)+1), indices (block-column ids sorted per block row), data flat with block k's
element (r, c) at data[k*R*C + r*C + c]; shapes need not be block multiples and padding
outside the logical shape is 0. dense: values (rows, cols). Every part has at least one
element (GPU APIs cannot make zero-size buffers): an all-zero matrix stores one padding 0,
indptr stays truthful so kernels never read it, and ``nnz`` reports the true count.

Values are converted to float32: integers and float16/float64 are accepted (float64 rounds to
nearest, magnitudes beyond float32 become inf). Duplicates are summed in the input's own dtype
first, as scipy does, then entries that are zero in float32 are dropped.

Fast path: a scipy csr (csc) already holding float32 data, int32 indices and sorted,
duplicate-free indices is returned without copying for format csr (csc). Its validation is
cached by the identity of its index arrays (:class:`IdentityCache`), so repeated calls cost
O(1). Mutating a checked matrix in place is not re-checked (kernels still clamp indices, so it
cannot crash), and explicit zeros it stores are kept (they are harmless to every kernel).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from ccomp.dialects.sparse_parts import bsr_text, read_bsr, storage_parts
from ccomp.runtime.sparse.validate import (  # noqa: F401  (re-exported: callers import these from here)
    INDEX_LIMIT, IdentityCache, SparseInputError, _check_compressed, _checked, _dense_coords, _is_scipy, _validate_compressed,
    bsr_coords, check_shape, compressed_coords, coo_coords, identity, stable_order,
)

log = logging.getLogger(__name__)

KINDS = ("dense", "csr", "csc", "coo", "bsr")


@dataclass(frozen=True)
class Format:
    """A storage format; ``block`` is (R, C) for bsr only."""

    kind: str
    block: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown sparse format {self.kind!r}; expected one of {', '.join(KINDS)}")
        if (self.kind == "bsr") != (self.block is not None):
            raise ValueError("a block size is required for bsr and only for bsr")
        if self.block is not None:
            object.__setattr__(self, "block", tuple(int(b) for b in self.block))  # hashable, comparable
            if len(self.block) != 2 or min(self.block) < 1:
                raise ValueError(f"bsr block size must be two positive integers, got {self.block}")

    @staticmethod
    def parse(text: str) -> Format:
        """Read "csr", "csc", "coo", "dense", "bsr(4x4)" or "bsr4x4" (as written in programs and CLI flags)."""
        t = text.strip().lower()
        if t in ("dense", "csr", "csc", "coo"):
            return Format(t)
        block = read_bsr(t)
        if block is None or min(block) < 1:
            raise ValueError(f"unknown sparse format {text!r}; expected dense, csr, csc, coo or bsr(RxC)")
        return Format("bsr", block)

    def __str__(self) -> str:
        return bsr_text(self.block) if self.block else self.kind

    @property
    def parts(self) -> tuple[str, ...]:
        """Names of the arrays a kernel receives for this format, in order (the ``sparse.part``
        names the compiler gives them: one spelling, in ``ccomp.dialects.sparse_parts``)."""
        return storage_parts(self.kind)


@dataclass
class SparseArrays:
    """The arrays of one matrix in one format (see the module docstring for the layout)."""

    format: Format
    shape: tuple[int, int]
    parts: dict[str, np.ndarray]

    @property
    def nnz(self) -> int:
        """Stored entries, not counting the one-element padding of an all-zero matrix."""
        kind, p = self.format.kind, self.parts
        if kind == "dense":
            return self.shape[0] * self.shape[1]
        if kind == "coo":
            n = len(p["data"])
            return 0 if n == 1 and p["data"][0] == 0 else n
        used = int(p["indptr"][-1])
        return used * self.format.block[0] * self.format.block[1] if kind == "bsr" else used


def _coords(value: Any):
    """(shape, (row, col, data)) of any accepted input, validated but not yet canonical."""
    if isinstance(value, SparseArrays):
        shape, kind, p = check_shape(value.shape), value.format.kind, value.parts
        missing = [n for n in value.format.parts if n not in p]
        if missing:
            raise SparseInputError(f"{value.format} arrays lack {', '.join(missing)}")
        if kind == "dense":
            dshape, coords = _dense_coords(p["values"])
            if dshape != shape:
                raise SparseInputError(f"dense values have shape {dshape}, not {shape}")
            return shape, coords
        if kind == "coo":  # one (0, 0, 0) entry is the padding of an all-zero matrix, maybe out of range
            n = value.nnz if len(p["row"]) == len(p["col"]) == len(p["data"]) == 1 else None
            return shape, coo_coords(shape, p["row"][:n], p["col"][:n], p["data"][:n])
        if kind == "bsr":
            return shape, bsr_coords(shape, value.format.block, p["indptr"], p["indices"], p["data"])
        return shape, compressed_coords(kind, shape, p["indptr"], p["indices"], p["data"])
    if _is_scipy(value):
        if len(value.shape) != 2:
            raise SparseInputError(f"must be a 2-D matrix, got a {len(value.shape)}-D sparse array")
        shape, kind = check_shape(value.shape), value.format
        if kind in ("csr", "csc"):
            return shape, compressed_coords(kind, shape, value.indptr, value.indices, value.data)
        if kind == "bsr":
            block = tuple(np.shape(value.data)[1:])
            if len(block) != 2 or min(block) < 1:
                raise SparseInputError(f"bsr data must have shape (blocks, R, C), got {np.shape(value.data)}")
            return shape, bsr_coords(shape, block, value.indptr, value.indices, value.data)
        if kind == "coo":
            return shape, coo_coords(shape, value.row, value.col, value.data)
        try:
            coo = value.tocoo()  # lil, dok, dia: scipy builds these itself, so its conversion is safe
        except Exception as e:  # an arbitrary duck-typed object may fail in any way
            raise SparseInputError(f"cannot read the {kind} matrix ({type(e).__name__}: {e})") from None
        return _coords(coo)
    if all(hasattr(value, n) for n in ("shape", "row", "col", "data")):  # CooInput from load_npz
        shape = check_shape(value.shape)
        return shape, coo_coords(shape, value.row, value.col, value.data)
    return _dense_coords(value)


def canonical_coo(value: Any) -> tuple[tuple[int, int], np.ndarray, np.ndarray, np.ndarray]:
    """(shape, row int64, col int64, data float32) sorted row-major, duplicates summed, zeros dropped."""
    shape, (row, col, data) = _coords(value)
    key = row * max(shape[1], 1) + col
    if key.size > 1 and not np.all(key[1:] > key[:-1]):
        order = stable_order(row, col, shape)
        key, data = key[order], data[order]
        first = np.empty(key.size, bool)
        first[0] = True
        np.not_equal(key[1:], key[:-1], out=first[1:])
        if not first.all():
            starts = np.flatnonzero(first)
            data, order = np.add.reduceat(data, starts), order[starts]
        row, col = row[order], col[order]
    with np.errstate(over="ignore"):
        data = data.astype(np.float32, copy=False)
    keep = data != 0
    if not keep.all():
        row, col, data = row[keep], col[keep], data[keep]
    return shape, row, col, data


def _part(name: str, values: np.ndarray) -> np.ndarray:
    out = np.ascontiguousarray(values, dtype=np.float32 if name in ("data", "values") else np.int32)
    return out if out.size or name == "indptr" else np.zeros(1, out.dtype)


def _indptr(major: np.ndarray, n: int) -> np.ndarray:
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(major, minlength=n), out=ptr[1:])
    return ptr


def _build(fmt: Format, shape: tuple[int, int], row: np.ndarray, col: np.ndarray, data: np.ndarray) -> SparseArrays:
    """The arrays of ``fmt`` from canonical coordinates."""
    kind, (rows, cols) = fmt.kind, shape
    if kind == "dense":
        values = np.zeros(shape, np.float32)
        values[row, col] = data
        return SparseArrays(fmt, shape, {"values": values})
    if len(data) > INDEX_LIMIT:
        raise SparseInputError(f"{len(data)} nonzeros are too many for 32-bit indices")
    if kind == "coo":
        parts = {"row": row, "col": col, "data": data}
    elif kind == "csr":
        parts = {"indptr": _indptr(row, rows), "indices": col, "data": data}
    elif kind == "csc":
        order = stable_order(col, row, shape[::-1])
        parts = {"indptr": _indptr(col, cols), "indices": row[order], "data": data[order]}
    else:
        R, C = fmt.block
        nb = -(-cols // C)
        order = stable_order(row // R, col // C, (-(-rows // R), nb))
        row, col, data = row[order], col[order], data[order]
        ids = (row // R) * nb + col // C
        first = np.empty(ids.size, bool)
        first[:1] = True
        np.not_equal(ids[1:], ids[:-1], out=first[1:])
        blocks, slot = ids[first], np.cumsum(first) - 1
        if len(blocks) * R * C > INDEX_LIMIT:
            raise SparseInputError(f"{len(blocks)} blocks of {R}x{C} are too many for 32-bit indices")
        flat = np.zeros(len(blocks) * R * C, np.float32)
        flat[slot * (R * C) + (row % R) * C + col % C] = data
        parts = {"indptr": _indptr(blocks // nb, -(-rows // R)), "indices": blocks % nb, "data": flat}
    return SparseArrays(fmt, shape, {name: _part(name, v) for name, v in parts.items()})


def _fast(value: Any, fmt: Format) -> SparseArrays | None:
    """A canonical float32/int32 scipy csr/csc as-is (no copy), or None to take the general route."""
    indptr, indices, data = value.indptr, value.indices, value.data
    if not (indptr.dtype == indices.dtype == np.int32 and data.dtype == np.float32
            and indices.ndim == data.ndim == 1 and len(data) == len(indices) > 0):
        return None
    shape = check_shape(value.shape)
    if not _check_compressed(fmt.kind, shape if fmt.kind == "csr" else shape[::-1], indptr, indices):
        return None
    if int(indptr[-1]) != len(indices):
        return None
    parts = {"indptr": indptr, "indices": indices, "data": data}
    return SparseArrays(fmt, shape, {n: np.ascontiguousarray(v) for n, v in parts.items()})


def from_value(value: Any, fmt: Format | str) -> SparseArrays:
    """Any accepted input as the arrays of ``fmt`` (see the module docstring for the fast paths)."""
    fmt = Format.parse(fmt) if isinstance(fmt, str) else fmt
    if (fmt.kind == "dense" and isinstance(value, np.ndarray) and value.ndim == 2
            and value.dtype == np.float32 and value.flags.c_contiguous):
        return SparseArrays(fmt, check_shape(value.shape), {"values": value})
    if fmt.kind in ("csr", "csc") and _is_scipy(value) and value.format == fmt.kind:
        fast = _fast(value, fmt)
        if fast is not None:
            return fast
    arrays = _build(fmt, *canonical_coo(value))
    log.debug("%s %s -> %s with %d stored entries", type(value).__name__, arrays.shape, fmt, arrays.nnz)
    return arrays


def to_dense(arrays: SparseArrays) -> np.ndarray:
    """The float32 (rows, cols) matrix."""
    if arrays.format.kind == "dense":
        values = from_value(arrays.parts["values"], arrays.format).parts["values"]
        if values.shape != tuple(arrays.shape):
            raise SparseInputError(f"dense values have shape {values.shape}, not {tuple(arrays.shape)}")
        return values
    return _build(Format("dense"), *canonical_coo(arrays)).parts["values"]


def to_scipy(arrays: SparseArrays) -> Any:
    """A scipy.sparse matrix of the same format (sharing memory where it can). bsr whose shape is
    not a block multiple (scipy cannot hold it) comes back as csr; dense comes back as the NumPy array."""
    try:
        import scipy.sparse as sp  # optional: only returning sparse outputs needs it
    except ImportError:
        raise SparseInputError("returning a sparse tensor needs scipy: pip install scipy") from None
    kind, shape, p = arrays.format.kind, check_shape(arrays.shape), arrays.parts
    if kind == "dense":
        return to_dense(arrays)
    if kind in ("csr", "csc"):
        row, col, data = compressed_coords(kind, shape, p["indptr"], p["indices"], p["data"])  # validates
        n, cls = len(data), sp.csr_matrix if kind == "csr" else sp.csc_matrix
        return cls((data, p["indices"][:n], p["indptr"]), shape=shape)
    if kind == "bsr" and shape[0] % arrays.format.block[0] == 0 and shape[1] % arrays.format.block[1] == 0:
        (R, C), data = arrays.format.block, p["data"]
        bsr_coords(shape, (R, C), p["indptr"], p["indices"], data)  # validates
        nnzb = int(p["indptr"][-1])
        blocks = data[: nnzb * R * C].reshape(nnzb, R, C)
        return sp.bsr_matrix((blocks, p["indices"][:nnzb], p["indptr"]), shape=shape, blocksize=(R, C))
    shape, row, col, data = canonical_coo(arrays)
    return (sp.coo_matrix if kind == "coo" else sp.csr_matrix)((data, (row, col)), shape=shape)


def convert(arrays: SparseArrays, fmt: Format | str) -> SparseArrays:
    """``arrays`` in another format, through canonical coordinates."""
    return from_value(arrays, fmt)
