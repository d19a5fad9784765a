"""What a tensor becomes in ``sparse-lower``: buffers, sizes and the tags that name them.

A dense tensor is one ``memref``; a sparse matrix its storage buffers
(:func:`ccomp.passes.lowering.sparse_kernels.part_types`) plus three ``i32`` sizes
(``sparse_parts.SIZE_PARTS``), each argument and result tagged with the program port and
storage part it is, so the runtime can fill them in without the compiler.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects.builtin import DYNAMIC_INDEX, DictionaryAttr, LocationAttr, MemRefType, TensorType, i32
from xdsl.ir import Attribute, Block, SSAValue

from ccomp.dialects import sparse_format, sparse_parts
from ccomp.dialects.sparse_format import FormatAttr, format_of
from ccomp.passes.lowering import sparse_kernels as sk
from ccomp.passes.lowering.builder import IRBuilder

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


def expand_arguments(args, arg_attrs, location: LocationAttr) -> tuple[Block, list[DictionaryAttr], dict]:
    """A function's new entry block with every sparse argument expanded into its parts
    (values, indices, ..., then rows, cols and nnz as i32), each part's port attributes
    tagged with its format and part, and the mapping from each old argument to its new
    value or :class:`Matrix`. Shared by sparse-lower and snn-lower, whose functions both
    take sparse matrices as arguments and must agree on the ABI of their parts."""
    types, attrs = [], []
    for arg, a in zip(args, arg_attrs):
        for part, t in expanded_types(arg.type):
            types.append(t)
            attrs.append(tagged(a, format_of(arg.type), part, isinstance(arg.type, TensorType)))
    block = Block(arg_types=types)
    mapping: dict = {}
    slot = 0
    for arg in args:
        n = len(expanded_types(arg.type))
        new = list(block.args[slot: slot + n])
        slot += n
        for v in new:
            v.name_hint = arg.name_hint
        fmt = format_of(arg.type)
        if fmt is None:
            mapping[arg] = new[0]
            continue
        b = IRBuilder.at_end(block, location)
        rows, cols, nnz = (b.to_index(v) for v in new[-3:])
        mapping[arg] = Matrix(fmt, new[:-3], rows, cols, nnz)
    return block, attrs, mapping
