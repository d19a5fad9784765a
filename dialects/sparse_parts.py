"""The arrays a stored matrix is made of, and how a block format is spelt — plain Python.

The compiler tags each value of a lowered sparse matrix with one of these part names
(``sparse.part``, :mod:`ccomp.dialects.sparse_format`), and the runtime builds and binds
arrays under the same names (``ccomp.runtime.sparse.formats``). This module imports no
xDSL, so a host that only runs builds can use it without the compiler; the names are
spelt here and nowhere else.
"""

from __future__ import annotations

import re

SIZE_PARTS = ("rows", "cols", "nnz")
"""The scalars a lowered sparse matrix carries after its buffers."""

_STORAGE = {"dense": ("values",), "coo": ("row", "col", "data")}
_COMPRESSED = ("indptr", "indices", "data")  # csr, csc and bsr

_BSR = re.compile(r"bsr(?:\((\d+)x(\d+)\)|(\d+)x(\d+))")


def storage_parts(kind: str) -> tuple[str, ...]:
    """The buffers of a matrix stored as ``kind`` (``dense`` included), in binding order."""
    return _STORAGE.get(kind, _COMPRESSED)


def bsr_text(block: tuple[int, int]) -> str:
    """How programs write a block format: ``bsr(4x4)``."""
    return f"bsr({block[0]}x{block[1]})"


def read_bsr(text: str) -> tuple[int, int] | None:
    """The block of ``bsr(RxC)`` or ``bsrRxC`` (the tag form); None for any other text."""
    m = _BSR.fullmatch(text)
    if m is None:
        return None
    return int(m.group(1) or m.group(3)), int(m.group(2) or m.group(4))
