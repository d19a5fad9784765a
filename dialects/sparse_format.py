"""How a sparse tensor is stored: the ``#sparse.format`` encoding and the storage
attributes a lowered program's signature carries.

The encoding is a type-level fact of the ``sparse`` dialect (``tensor<?x?xf32,
#sparse.format<bsr[4, 4]>>``); :class:`FormatAttr` is registered by ``Sparse`` in
:mod:`ccomp.dialects.sparse`, whose ops only say *what* is computed. After
``sparse-select-format`` and ``sparse-lower`` a program's ``func.func`` says how each
input is stored, with the attributes declared here (:data:`FORMAT`, :data:`PART`,
:data:`AUTO`, :data:`VARIANT_OF`), which the runtime reads to bind NumPy/SciPy inputs and
:mod:`ccomp.dialects.contracts` verifies. Formats are spelt as programs write them
(``csr``, ``bsr(4x4)``) or as one-word tags (``bsr4x4``); the part names and the block
spelling come from :mod:`ccomp.dialects.sparse_parts`, which the runtime shares.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import DYNAMIC_INDEX, DictionaryAttr, IntAttr, NoneAttr, StringAttr, TensorType, f32
from xdsl.ir import Attribute, Operation, ParametrizedAttribute
from xdsl.irdl import irdl_attr_definition, param_def
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from ccomp.dialects.sparse_parts import SIZE_PARTS, bsr_text, read_bsr, storage_parts

FORMATS = ("csr", "csc", "coo", "bsr", "auto")
"""The kinds of ``#sparse.format`` (a tensor without one is dense)."""


@irdl_attr_definition
class FormatAttr(ParametrizedAttribute):
    """A storage format: ``#sparse.format<csr>``, ``#sparse.format<bsr[4, 4]>``..."""

    name = "sparse.format"
    kind: StringAttr = param_def(StringAttr)
    block_rows: IntAttr = param_def(IntAttr)
    block_cols: IntAttr = param_def(IntAttr)

    def __init__(self, kind: str, block: tuple[int, int] | None = None):
        rows, cols = block if block is not None else (0, 0)
        super().__init__(StringAttr(kind), IntAttr(rows), IntAttr(cols))

    @property
    def block(self) -> tuple[int, int] | None:
        return (self.block_rows.data, self.block_cols.data) if self.kind.data == "bsr" else None

    def text(self) -> str:
        """The spelling users write in ``.cn`` programs: ``csr``, ``bsr(4x4)``."""
        b = self.block
        return self.kind.data if b is None else bsr_text(b)

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string(f"<{self.kind.data}")
        if self.block is not None:
            printer.print_string(f"[{self.block_rows.data}, {self.block_cols.data}]")
        printer.print_string(">")

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> list[Attribute]:
        with parser.in_angle_brackets():
            kind = parser.parse_identifier()
            rows = cols = 0
            if parser.parse_optional_punctuation("[") is not None:  # any kind: verify() reports a misplaced block
                rows = parser.parse_integer(allow_negative=False, allow_boolean=False)
                parser.parse_punctuation(",")
                cols = parser.parse_integer(allow_negative=False, allow_boolean=False)
                parser.parse_punctuation("]")
        return [StringAttr(kind), IntAttr(rows), IntAttr(cols)]

    def verify(self) -> None:
        if self.kind.data not in FORMATS:
            raise VerifyException(f"unknown sparse format '{self.kind.data}'; expected one of {', '.join(FORMATS)}")
        if self.kind.data == "bsr":
            if self.block_rows.data < 1 or self.block_cols.data < 1:
                raise VerifyException("bsr blocks must be at least 1x1")
        elif self.block_rows.data or self.block_cols.data:
            raise VerifyException(f"only bsr has a block size, not {self.kind.data}")


def format_of(t: Attribute) -> FormatAttr | None:
    """The encoding of a tensor type; None for a dense tensor (or a non-tensor)."""
    if isinstance(t, TensorType) and isinstance(t.encoding, FormatAttr):
        return t.encoding
    return None


def tensor_type(rank: int, fmt: FormatAttr | None = None, shape: Sequence[int] | None = None,
                elem: Attribute = f32) -> TensorType:
    """A ``tensor<?x...xT>`` of ``elem`` (f32 unless given; dynamic sizes unless ``shape`` is given)."""
    dims = [DYNAMIC_INDEX if d < 0 else d for d in shape] if shape is not None else [DYNAMIC_INDEX] * rank
    return TensorType(elem, dims, fmt if fmt is not None else NoneAttr())


def with_format(t: TensorType, fmt: FormatAttr | None) -> TensorType:
    """``t`` re-encoded (None: dense)."""
    return TensorType(t.element_type, t.get_shape(), fmt if fmt is not None else NoneAttr())


# ----- the storage attributes of a lowered program's func.func ---------------------------
# ``sparse-select-format`` and ``sparse-lower`` leave these for the runtime, which binds
# NumPy/SciPy inputs to them; ``dialects.contracts`` verifies them.

FORMAT = "sparse.format"
"""Argument or result attribute after ``sparse-lower``: the storage of the tensor this
value belongs to, as programs spell it (``dense``, ``csr``, ``bsr(4x4)``)."""

PART = "sparse.part"
"""Argument or result attribute after ``sparse-lower``: which of a sparse matrix's values
this is (:func:`matrix_parts`); the values of one matrix are consecutive and share a
``graph.name``."""

AUTO = "sparse.auto"
"""Argument attribute of a variant: the input was declared ``auto`` and this variant takes
it in the format tagged here (:func:`format_tag`)."""

VARIANT_OF = "sparse.variant_of"
"""Function attribute: this function is one format variant of the program named here."""


def matrix_parts(fmt: FormatAttr) -> tuple[str, ...]:
    """The ``sparse.part`` names of a lowered sparse matrix: its buffers, then its sizes."""
    return storage_parts(fmt.kind.data) + SIZE_PARTS


def format_tag(fmt: FormatAttr | None) -> str:
    """A format as one word, for symbol names and ``sparse.auto``: ``dense``, ``csr``, ``bsr4x4``."""
    return "dense" if fmt is None else fmt.text().replace("(", "").replace(")", "")


def parse_format(text: str) -> FormatAttr | None:
    """Read a tag or a program spelling (``dense``, ``csr``, ``bsr4x4``, ``bsr(4x4)``); None
    for ``dense``. Raises ``VerifyException`` for anything else."""
    if text == "dense":
        return None
    if text.startswith("bsr"):
        block = read_bsr(text)
        if block is None:
            raise VerifyException(f"unknown sparse format '{text}'; a bsr format is written bsr(RxC)")
        fmt = FormatAttr("bsr", block)
    else:
        fmt = FormatAttr(text)
    fmt.verify()
    return fmt


def storage_attrs(fmt: FormatAttr | None, part: str | None = None) -> dict[str, Attribute]:
    """The ``sparse.format``/``sparse.part`` entries of a lowered tensor value: ``part`` of
    a sparse matrix, or (``fmt`` None) a dense tensor's one buffer."""
    if fmt is None:
        return {FORMAT: StringAttr("dense")}
    if part is None:
        raise ValueError(f"a value of a {fmt.text()} matrix needs its sparse.part")
    return {FORMAT: StringAttr(fmt.text()), PART: StringAttr(part)}


def _text(attrs: DictionaryAttr | None, key: str) -> str | None:
    value = attrs.data.get(key) if attrs is not None else None
    return value.data if isinstance(value, StringAttr) else None


def storage_of(attrs: DictionaryAttr | None) -> str | None:
    """``sparse.format`` of an argument/result attribute dictionary, if any."""
    return _text(attrs, FORMAT)


def part_of(attrs: DictionaryAttr | None) -> str | None:
    """``sparse.part`` of an argument/result attribute dictionary, if any."""
    return _text(attrs, PART)


def auto_of(attrs: DictionaryAttr | None) -> str | None:
    """``sparse.auto`` of an argument attribute dictionary: the format tag, if any."""
    return _text(attrs, AUTO)


def with_auto(attrs: DictionaryAttr, fmt: FormatAttr | None) -> DictionaryAttr:
    """``attrs`` of an ``auto`` argument, tagged with the format a variant takes it in."""
    return DictionaryAttr({**attrs.data, AUTO: StringAttr(format_tag(fmt))})


def variant_of(fn: Operation) -> str | None:
    """The program a format variant was cloned from (``sparse.variant_of``), if any."""
    name = fn.attributes.get(VARIANT_OF)
    return name.data if isinstance(name, StringAttr) else None


def set_variant_of(fn: Operation, program: str) -> None:
    fn.attributes[VARIANT_OF] = StringAttr(program)


def program_of(fn: Operation) -> str:
    """The program a function implements: its own name, or the one it is a variant of."""
    return variant_of(fn) or fn.sym_name.data
