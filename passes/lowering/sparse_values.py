"""What a tensor becomes in ``sparse-lower``: buffers, sizes and the tags that name them.

A dense tensor is one ``memref``; a sparse matrix its storage buffers
(:func:`ccomp.passes.lowering.sparse_kernels.part_types`) plus three ``i32`` sizes
(``sparse_parts.SIZE_PARTS``), each argument and result tagged with the program port and
storage part it is, so the runtime can fill them in without the compiler.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects.builtin import DYNAMIC_INDEX, DictionaryAttr, MemRefType, TensorType, i32
from xdsl.ir import Attribute, SSAValue

from ccomp.dialects import sparse_format, sparse_parts
from ccomp.dialects.sparse_format import FormatAttr, format_of
from ccomp.passes.lowering import sparse_kernels as sk

SCALARS = sparse_parts.SIZE_PARTS


@dataclass
class Matrix:
    """A lowered rank-2 tensor: storage buffers and sizes (``index`` values)."""

    fmt: FormatAttr | None
    parts: list[SSAValue]
    rows: SSAValue
    cols: SSAValue
    nnz: SSAValue | None = None  # stored entries (blocks for bsr); None when dense


def memref_of(t: TensorType) -> MemRefType:
    return MemRefType(t.element_type, [DYNAMIC_INDEX] * t.get_num_dims())


def expanded_types(t: Attribute) -> list[tuple[str | None, Attribute]]:
    """The L2 values one L1 value becomes: ``(part name or None, type)``."""
    fmt = format_of(t)
    if fmt is not None:
        return [*sk.part_types(fmt, t.element_type), *[(n, i32) for n in SCALARS]]
    return [(None, memref_of(t) if isinstance(t, TensorType) else t)]


def tagged(attrs: DictionaryAttr | None, fmt: FormatAttr | None, part: str | None,
           tensor: bool) -> DictionaryAttr:

    """Argument/result attributes saying which tensor (and which part of it) a value is."""
    data = dict(attrs.data) if attrs is not None else {}
    if fmt is not None and part is not None:
        data.update(sparse_format.storage_attrs(fmt, part))
    elif tensor:
        data.update(sparse_format.storage_attrs(None))
    return DictionaryAttr(data)
