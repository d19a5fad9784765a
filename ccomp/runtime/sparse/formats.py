"""Sparse storage formats: the exact arrays compiled kernels read, built from what users pass.

Users hand the runtime scipy.sparse matrices or arrays of any format, dense 2-D NumPy arrays,
or a matrix read from a ``.npz`` file. Kernels index memory with the stored indices, so every
input is validated first (:mod:`ccomp.runtime.sparse.validate`: scipy checks little and in its
own words) and bad input becomes a :class:`SparseInputError` with a message, never a crash or
a wrong answer downstream.

scipy.sparse is the currency: a validated input is wrapped as a scipy matrix without copying,
canonicalised by scipy (``tocsr``, ``sum_duplicates``, ``eliminate_zeros``) into one canonical
csr (:func:`canonical_csr`), and every format is built from that by scipy (``tocsc``, ``tocoo``,
``tobsr``, ``toarray``). What ccomp adds is only what scipy does not do: its messages, the
layout kernels need, block formats over shapes that are not block multiples, and the no-copy
hand-over below.

Layout (kernels rely on it exactly): index parts are int32, values float32, C-contiguous.
csr: indptr (rows+1), indices (column ids strictly increasing per row), data. csc: the same
with columns as the major axis. coo: row, col, data sorted row-major. bsr(RxC): indptr
(ceil(rows/R)+1), indices (block-column ids sorted per block row), data flat with block k's
element (r, c) at data[k*R*C + r*C + c]; shapes need not be block multiples and padding
outside the logical shape is 0. dense: values (rows, cols). Every part has at least one
element (GPU APIs cannot make zero-size buffers): an all-zero matrix stores one padding 0,
indptr stays truthful so kernels never read it, and ``nnz`` reports the true count.

Values are converted to float32 (float64 for a program whose tensor holds f64: every
conversion takes ``dtype``, float32 unless given): integers and float16/float64 are accepted (float64 rounds to
nearest, magnitudes beyond float32 become inf). Duplicates are summed in the input's own dtype
first (scipy's ``sum_duplicates``; float16, which scipy cannot hold, is widened to float32
first), then entries that are zero in float32 are dropped.

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
import scipy.sparse as sp

from ccomp.dialects.sparse_parts import bsr_text, read_bsr, storage_parts
from ccomp.runtime.sparse.validate import (  # noqa: F401  (re-exported: callers import these from here)
    INDEX_LIMIT, IdentityCache, SparseInputError, _check_compressed, _checked, _is_scipy, _validate_compressed,
    check_bsr, check_compressed, check_coo, check_dense, check_shape, identity,
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


def _wrap(value: Any) -> tuple[tuple[int, int], Any, bool]:
    """(logical shape, a scipy matrix over the same memory, canonical?) of any accepted input,
    validated but not yet canonical. A bsr whose shape is not a block multiple is wrapped over
    the padded shape (scipy cannot hold it otherwise); its padding is checked to be zero."""
    if isinstance(value, SparseArrays):
        shape, kind, p = check_shape(value.shape), value.format.kind, value.parts
        missing = [n for n in value.format.parts if n not in p]
        if missing:
            raise SparseInputError(f"{value.format} arrays lack {', '.join(missing)}")
        if kind == "dense":
            values = check_dense(p["values"])
            if values.shape != shape:
                raise SparseInputError(f"dense values have shape {values.shape}, not {shape}")
            return shape, sp.csr_matrix(values), True
        if kind == "coo":  # one (0, 0, 0) entry is the padding of an all-zero matrix, maybe out of range
            n = value.nnz if len(p["row"]) == len(p["col"]) == len(p["data"]) == 1 else None
            return _wrap_coo(shape, p["row"][:n], p["col"][:n], p["data"][:n])
        if kind == "bsr":
            return _wrap_bsr(shape, value.format.block, p["indptr"], p["indices"], p["data"])
        return _wrap_compressed(kind, shape, p["indptr"], p["indices"], p["data"])
    if _is_scipy(value):
        if len(value.shape) != 2:
            raise SparseInputError(f"must be a 2-D matrix, got a {len(value.shape)}-D sparse array")
        shape, kind = check_shape(value.shape), value.format
        if kind in ("csr", "csc"):
            return _wrap_compressed(kind, shape, value.indptr, value.indices, value.data)
        if kind == "bsr":
            block = tuple(np.shape(value.data)[1:])
            if len(block) != 2 or min(block) < 1:
                raise SparseInputError(f"bsr data must have shape (blocks, R, C), got {np.shape(value.data)}")
            return _wrap_bsr(shape, block, value.indptr, value.indices, value.data)
        if kind == "coo":
            return _wrap_coo(shape, value.row, value.col, value.data)
        try:
            coo = value.tocoo()  # lil, dok, dia: scipy builds these itself, so its conversion is safe
        except Exception as e:  # an arbitrary duck-typed object may fail in any way
            raise SparseInputError(f"cannot read the {kind} matrix ({type(e).__name__}: {e})") from None
        return _wrap(coo)
    values = check_dense(value)
    return values.shape, sp.csr_matrix(values), True


def _wrap_compressed(kind: str, shape: tuple[int, int], indptr: Any, indices: Any, data: Any):
    indptr, indices, data, canonical = check_compressed(kind, shape, indptr, indices, data)
    cls = sp.csr_matrix if kind == "csr" else sp.csc_matrix
    return shape, cls((data, indices, indptr), shape=shape), canonical


def _wrap_bsr(shape: tuple[int, int], block: tuple[int, int], indptr: Any, indices: Any, data: Any):
    indptr, indices, data, canonical = check_bsr(shape, block, indptr, indices, data)
    padded = tuple(-(-n // b) * b for n, b in zip(shape, block))
    return shape, sp.bsr_matrix((data, indices, indptr), shape=padded, blocksize=block), canonical


def _wrap_coo(shape: tuple[int, int], row: Any, col: Any, data: Any):
    row, col, data = check_coo(shape, row, col, data)
    return shape, sp.coo_matrix((data, (row, col)), shape=shape), False


def check_input(value: Any) -> tuple[int, int]:
    """The shape of any accepted input, after validating it (without canonicalising)."""
    return _wrap(value)[0]


def canonical_csr(value: Any, dtype: Any = np.float32) -> tuple[tuple[int, int], Any]:
    """(shape, scipy csr) of any accepted input: ``dtype`` values, indices sorted, duplicates summed,
    zeros dropped. It may share memory with ``value``, which is never modified."""
    shape, wrapped, canonical = _wrap(value)
    m = wrapped
    if m.format != "csr" or not canonical:
        m = m.tocsr(copy=True)  # new arrays: sum_duplicates works in place, the input stays as it was
        m.sum_duplicates()
    owned = m is not wrapped
    if m.dtype != dtype:
        with np.errstate(over="ignore"):
            m, owned = m.astype(dtype), True
    if not m.data.all():
        if not owned:
            m = m.copy()
        m.eliminate_zeros()
    if m.shape != shape:  # a padded bsr: the padding held only zeros, now dropped
        m = sp.csr_matrix((m.data, m.indices, m.indptr[: shape[0] + 1]), shape=shape)
    return shape, m


def canonical_coo(value: Any) -> tuple[tuple[int, int], np.ndarray, np.ndarray, np.ndarray]:
    """(shape, row int64, col int64, data float32) sorted row-major, duplicates summed, zeros dropped."""
    shape, m = canonical_csr(value)
    row = np.repeat(np.arange(shape[0], dtype=np.int64), np.diff(m.indptr))
    return shape, row, m.indices.astype(np.int64), m.data


def _part(name: str, values: np.ndarray, dtype: Any = np.float32) -> np.ndarray:
    out = np.ascontiguousarray(values, dtype=dtype if name in ("data", "values") else np.int32)
    return out if out.size or name == "indptr" else np.zeros(1, out.dtype)


def _build(fmt: Format, shape: tuple[int, int], m: Any, dtype: Any = np.float32) -> SparseArrays:
    """The arrays of ``fmt`` from a canonical scipy csr."""
    kind = fmt.kind
    if kind == "dense":
        return SparseArrays(fmt, shape, {"values": m.toarray()})
    if m.nnz > INDEX_LIMIT:
        raise SparseInputError(f"{m.nnz} nonzeros are too many for 32-bit indices")
    if kind == "coo":
        o = m.tocoo()
        parts = {"row": o.row, "col": o.col, "data": o.data}
    elif kind == "csr":
        parts = {"indptr": m.indptr, "indices": m.indices, "data": m.data}
    elif kind == "csc":
        c = m.tocsc()  # scipy's transpose by counting sort: sorted, nothing new to sum
        parts = {"indptr": c.indptr, "indices": c.indices, "data": c.data}
    else:
        (R, C), (rows, cols) = fmt.block, shape
        grid = (-(-rows // R), -(-cols // C))
        indptr = np.concatenate([m.indptr, np.full(grid[0] * R - rows, m.indptr[-1], m.indptr.dtype)])
        padded = sp.csr_matrix((m.data, m.indices, indptr), shape=(grid[0] * R, grid[1] * C))
        b = padded.tobsr(blocksize=(R, C))
        if b.data.size > INDEX_LIMIT:
            raise SparseInputError(f"{len(b.indices)} blocks of {R}x{C} are too many for 32-bit indices")
        indices, data = b.indices, b.data
        if not b.has_sorted_indices:  # tobsr orders blocks by first appearance within a block row
            # R sorted runs per block row: NumPy's timsort merges them about 2x faster than
            # scipy's bsr sort_indices (measured on 20000x20000 at 1%, 4x4 blocks)
            key = np.repeat(np.arange(grid[0], dtype=np.int64) * grid[1], np.diff(b.indptr)) + indices
            order = np.argsort(key, kind="stable")
            indices, data = indices[order], data[order]
        parts = {"indptr": b.indptr, "indices": indices, "data": data.reshape(-1)}
    return SparseArrays(fmt, shape, {name: _part(name, v, dtype) for name, v in parts.items()})


def _fast(value: Any, fmt: Format, dtype: Any = np.float32) -> SparseArrays | None:
    """A canonical ``dtype``/int32 scipy csr/csc as-is (no copy), or None to take the general route."""
    indptr, indices, data = value.indptr, value.indices, value.data
    if not (indptr.dtype == indices.dtype == np.int32 and data.dtype == dtype
            and indices.ndim == data.ndim == 1 and len(data) == len(indices) > 0):
        return None
    shape = check_shape(value.shape)
    if not _check_compressed(fmt.kind, shape if fmt.kind == "csr" else shape[::-1], indptr, indices):
        return None
    if int(indptr[-1]) != len(indices):
        return None
    parts = {"indptr": indptr, "indices": indices, "data": data}
    return SparseArrays(fmt, shape, {n: np.ascontiguousarray(v) for n, v in parts.items()})


def from_value(value: Any, fmt: Format | str, dtype: Any = np.float32) -> SparseArrays:
    """Any accepted input as the arrays of ``fmt`` holding ``dtype`` values (see the module
    docstring for the fast paths)."""
    fmt = Format.parse(fmt) if isinstance(fmt, str) else fmt
    if (fmt.kind == "dense" and isinstance(value, np.ndarray) and value.ndim == 2
            and value.dtype == dtype and value.flags.c_contiguous):
        return SparseArrays(fmt, check_shape(value.shape), {"values": value})
    if fmt.kind in ("csr", "csc") and _is_scipy(value) and value.format == fmt.kind:
        fast = _fast(value, fmt, dtype)
        if fast is not None:
            return fast
    if fmt.kind == "dense" and not (_is_scipy(value) or isinstance(value, SparseArrays)):
        with np.errstate(over="ignore"):
            values = np.array(check_dense(value), dtype=dtype, order="C")
        np.add(values, 0.0, out=values)  # -0.0 becomes 0.0, as a dropped zero would
        return SparseArrays(fmt, values.shape, {"values": values})
    arrays = _build(fmt, *canonical_csr(value, dtype), dtype)
    log.debug("%s %s -> %s with %d stored entries", type(value).__name__, arrays.shape, fmt, arrays.nnz)
    return arrays


def stored_dtype(arrays: SparseArrays) -> np.dtype:
    """The dtype the values of ``arrays`` keep: float64 where they are float64 (a program's
    f64 matrix), float32 otherwise."""
    values = arrays.parts.get("data", arrays.parts.get("values"))
    return np.dtype(np.float64 if getattr(values, "dtype", None) == np.float64 else np.float32)


def to_dense(arrays: SparseArrays) -> np.ndarray:
    """The (rows, cols) matrix, float32 (float64 for float64 values)."""
    if arrays.format.kind == "dense":
        values = from_value(arrays.parts["values"], arrays.format, stored_dtype(arrays)).parts["values"]
        if values.shape != tuple(arrays.shape):
            raise SparseInputError(f"dense values have shape {values.shape}, not {tuple(arrays.shape)}")
        return values
    return canonical_csr(arrays, stored_dtype(arrays))[1].toarray()


def to_scipy(arrays: SparseArrays) -> Any:
    """A scipy.sparse matrix of the same format (sharing memory where it can). bsr whose shape is
    not a block multiple (scipy cannot hold it) comes back as csr; dense comes back as the NumPy array."""
    kind, shape, p = arrays.format.kind, check_shape(arrays.shape), arrays.parts
    if kind == "dense":
        return to_dense(arrays)
    if kind in ("csr", "csc"):
        return _wrap_compressed(kind, shape, p["indptr"], p["indices"], p["data"])[1]
    if kind == "bsr" and shape[0] % arrays.format.block[0] == 0 and shape[1] % arrays.format.block[1] == 0:
        return _wrap_bsr(shape, arrays.format.block, p["indptr"], p["indices"], p["data"])[1]
    m = canonical_csr(arrays, stored_dtype(arrays))[1]
    return m.tocoo() if kind == "coo" else m


def convert(arrays: SparseArrays, fmt: Format | str) -> SparseArrays:
    """``arrays`` in another format, through the canonical csr."""
    return from_value(arrays, fmt)
