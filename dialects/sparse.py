"""The ``sparse`` dialect: tensor programs over dense and sparse matrices (level L1).

Values are whole tensors — builtin ``tensor`` types of ``f32``, rank 1 or 2. A
rank-2 tensor may carry a storage *encoding*, ``#sparse.format<...>``: ``csr``,
``csc``, ``coo``, ``bsr[R, C]`` (R×C blocks) or ``auto`` (``sparse-select-format``
compiles one variant per candidate format and the runtime picks one from the data).
A tensor without an encoding is dense. Ops say *what* is computed, never how a
format is traversed: ``sparse-lower`` writes the format-specific loops, so a user
writes ``A @ v`` once for every format and target.

Example (the body of ``examples/pagerank.cn`` after the frontend)::

    %n = sparse.dim %A[0] : tensor<?x?xf32, #sparse.format<auto>>
    %r0 = sparse.fill(%n) %inv : tensor<?xf32>
    %r = loop.repeat %iters (%r0) : (tensor<?xf32>) -> tensor<?xf32> {
    ^bb0(%i: i32, %s: tensor<?xf32>):
      %t = sparse.matvec %A, %s : tensor<?x?xf32, #sparse.format<auto>>, tensor<?xf32> -> tensor<?xf32>
      %next = sparse.elementwise(%t, %d, %base) : (tensor<?xf32>, f32, f32) -> tensor<?xf32> {
      ^bb1(%ti: f32, %di: f32, %bi: f32):
        %m = arith.mulf %di, %ti : f32
        %a = arith.addf %bi, %m : f32
        sparse.yield %a : f32
      }
      loop.yield %next : tensor<?xf32>
    }

Shapes follow NumPy: ``elementwise`` broadcasts its tensor inputs (trailing axes
aligned, size-1 or missing axes stretched) to its result's shape.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    I64,
    DictionaryAttr,
    IntAttr,
    IntegerAttr,
    NoneAttr,
    StringAttr,
    TensorType,
    f32,
    i32,
    i64,
)
from xdsl.ir import Attribute, Dialect, Operation, ParametrizedAttribute, Region, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    param_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.traits import HasParent, IsolatedFromAbove, IsTerminator, Pure, RecursiveMemoryEffect
from xdsl.utils.exceptions import VerifyException

FORMATS = ("csr", "csc", "coo", "bsr", "auto")
REDUCTIONS = ("add", "min", "max")


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
        return self.kind.data if b is None else f"bsr({b[0]}x{b[1]})"

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


def tensor_type(rank: int, fmt: FormatAttr | None = None, shape: Sequence[int] | None = None) -> TensorType:
    """A ``tensor<?x...xf32>`` (dynamic sizes unless ``shape`` is given)."""
    dims = [DYNAMIC_INDEX if d < 0 else d for d in shape] if shape is not None else [DYNAMIC_INDEX] * rank
    return TensorType(f32, dims, fmt if fmt is not None else NoneAttr())


def with_format(t: TensorType, fmt: FormatAttr | None) -> TensorType:
    """``t`` re-encoded (None: dense)."""
    return TensorType(t.element_type, t.get_shape(), fmt if fmt is not None else NoneAttr())


def _check_tensor(value: SSAValue, what: str, ranks: Sequence[int] = (1, 2), dense: bool = False) -> TensorType:
    t = value.type
    if not isinstance(t, TensorType) or t.element_type != f32:
        raise VerifyException(f"{what} must be an f32 tensor, got {t}")
    if t.get_num_dims() not in ranks:
        raise VerifyException(f"{what} must have rank {' or '.join(map(str, ranks))}, got {t}")
    fmt = t.encoding
    if not isinstance(fmt, (NoneAttr, FormatAttr)):
        raise VerifyException(f"{what} has an encoding that is not #sparse.format: {fmt}")
    if isinstance(fmt, FormatAttr) and (dense or t.get_num_dims() != 2):
        raise VerifyException(f"{what} must be a dense tensor, got {t}" if dense else
                              f"only matrices (rank 2) can be sparse, got {t}")
    return t


def _agree(a: int, b: int) -> bool:
    return a < 0 or b < 0 or a == b


@irdl_op_definition
class MatVecOp(IRDLOperation):
    """``matrix @ vector``: a dense vector of ``rows(matrix)`` elements."""

    name = "sparse.matvec"
    matrix = operand_def(TensorType)
    vector = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = "$matrix `,` $vector attr-dict `:` type($matrix) `,` type($vector) `->` type($result)"

    def __init__(self, matrix: SSAValue, vector: SSAValue):
        rows = matrix.type.get_shape()[0]
        super().__init__(operands=[matrix, vector], result_types=[tensor_type(1, shape=[rows])])

    def verify_(self) -> None:
        a = _check_tensor(self.matrix, "the matrix of sparse.matvec", (2,))
        v = _check_tensor(self.vector, "the vector of sparse.matvec", (1,), dense=True)
        r = _check_tensor(self.result, "the result of sparse.matvec", (1,), dense=True)
        if not _agree(a.get_shape()[1], v.get_shape()[0]):
            raise VerifyException(f"sparse.matvec of a {a} by a {v}: the matrix's columns and the vector's length differ")
        if not _agree(a.get_shape()[0], r.get_shape()[0]):
            raise VerifyException("sparse.matvec result length must be the matrix's rows")


@irdl_op_definition
class MatMulOp(IRDLOperation):
    """``lhs @ rhs`` with a dense right-hand matrix: a dense ``rows(lhs) x cols(rhs)``."""

    name = "sparse.matmul"
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)"

    def __init__(self, lhs: SSAValue, rhs: SSAValue):
        shape = [lhs.type.get_shape()[0], rhs.type.get_shape()[1]]
        super().__init__(operands=[lhs, rhs], result_types=[tensor_type(2, shape=shape)])

    def verify_(self) -> None:
        a = _check_tensor(self.lhs, "the left operand of sparse.matmul", (2,))
        b = _check_tensor(self.rhs, "the right operand of sparse.matmul", (2,), dense=True)
        r = _check_tensor(self.result, "the result of sparse.matmul", (2,), dense=True)
        if not _agree(a.get_shape()[1], b.get_shape()[0]):
            raise VerifyException(f"sparse.matmul of a {a} by a {b}: inner sizes differ")
        if not (_agree(a.get_shape()[0], r.get_shape()[0]) and _agree(b.get_shape()[1], r.get_shape()[1])):
            raise VerifyException("sparse.matmul result must be rows(lhs) x cols(rhs)")


@irdl_op_definition
class ElementwiseOp(IRDLOperation):
    """A pointwise expression over dense tensors and scalars, broadcast NumPy-style.

    The body computes one result element from one element of each tensor input (and
    each scalar input); it uses nothing from above (isolated), so it can become a
    kernel body as it stands."""

    name = "sparse.elementwise"
    inputs = var_operand_def()
    result = result_def(TensorType)
    body = region_def("single_block")
    traits = traits_def(IsolatedFromAbove(), RecursiveMemoryEffect())
    assembly_format = "`(` $inputs `)` attr-dict `:` functional-type($inputs, $result) $body"

    def __init__(self, inputs: Sequence[SSAValue], result_type: TensorType, body: Region):
        super().__init__(operands=[inputs], result_types=[result_type], regions=[body])

    def verify_(self) -> None:
        r = _check_tensor(self.result, "the result of sparse.elementwise", dense=True)
        block = self.body.block
        if len(block.args) != len(self.inputs):
            raise VerifyException(f"sparse.elementwise has {len(self.inputs)} inputs but {len(block.args)} block arguments")
        for k, (operand, arg) in enumerate(zip(self.inputs, block.args)):
            if isinstance(operand.type, TensorType):
                t = _check_tensor(operand, f"input {k} of sparse.elementwise", dense=True)
                if t.get_num_dims() > r.get_num_dims():
                    raise VerifyException(f"input {k} of sparse.elementwise has a higher rank than the result")
                for a, b in zip(reversed(t.get_shape()), reversed(r.get_shape())):
                    if not (a == 1 or _agree(a, b)):
                        raise VerifyException(f"input {k} of sparse.elementwise ({t}) does not broadcast to {r}")
                want = t.element_type
            else:
                want = operand.type
            if arg.type != want:
                raise VerifyException(f"block argument {k} of sparse.elementwise must be {want}, got {arg.type}")
        last = block.last_op
        if not isinstance(last, YieldOp) or len(last.values) != 1 or last.values[0].type != r.element_type:
            raise VerifyException(f"sparse.elementwise body must end with sparse.yield of one {r.element_type}")


@irdl_op_definition
class YieldOp(IRDLOperation):
    """The element an ``elementwise`` body computes."""

    name = "sparse.yield"
    values = var_operand_def()
    traits = traits_def(IsTerminator(), HasParent(ElementwiseOp), Pure())
    assembly_format = "$values `:` type($values) attr-dict"

    def __init__(self, *values: SSAValue):
        super().__init__(operands=[values])


@irdl_op_definition
class ConvertOp(IRDLOperation):
    """The same tensor in another storage format (or dense)."""

    name = "sparse.convert"
    source = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = "$source attr-dict `:` type($source) `to` type($result)"

    def __init__(self, source: SSAValue, fmt: FormatAttr | None):
        super().__init__(operands=[source], result_types=[with_format(source.type, fmt)])

    def verify_(self) -> None:
        s = _check_tensor(self.source, "the source of sparse.convert", (2,))
        r = _check_tensor(self.result, "the result of sparse.convert", (2,))
        if s.get_shape() != r.get_shape():
            raise VerifyException("sparse.convert keeps the shape")


@irdl_op_definition
class NnzOp(IRDLOperation):
    """The number of nonzero values of a matrix (stored zeros and padding not counted,
    so the answer is the same for every format)."""

    name = "sparse.nnz"
    source = operand_def(TensorType)
    result = result_def(i32)
    traits = traits_def(Pure())
    assembly_format = "$source attr-dict `:` type($source)"

    def __init__(self, source: SSAValue):
        super().__init__(operands=[source], result_types=[i32])

    def verify_(self) -> None:
        _check_tensor(self.source, "the operand of sparse.nnz")


@irdl_op_definition
class DimOp(IRDLOperation):
    """The size of a tensor along ``dim`` (0 = rows) as an ``i32``."""

    name = "sparse.dim"
    source = operand_def(TensorType)
    dim = prop_def(IntegerAttr[I64])
    result = result_def(i32)
    traits = traits_def(Pure())
    assembly_format = "$source `[` $dim `]` attr-dict `:` type($source)"

    def __init__(self, source: SSAValue, dim: int):
        super().__init__(operands=[source], properties={"dim": IntegerAttr(dim, i64)}, result_types=[i32])

    def verify_(self) -> None:
        t = _check_tensor(self.source, "the operand of sparse.dim")
        if not 0 <= self.dim.value.data < t.get_num_dims():
            raise VerifyException(f"sparse.dim {self.dim.value.data} is outside the rank of {t}")


@irdl_op_definition
class FillOp(IRDLOperation):
    """A dense tensor of the given sizes (``i32``, one per axis) holding ``value``."""

    name = "sparse.fill"
    sizes = var_operand_def(i32)
    value = operand_def(f32)
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = "`(` $sizes `)` $value attr-dict `:` type($result)"

    def __init__(self, sizes: Sequence[SSAValue], value: SSAValue, shape: Sequence[int] | None = None):
        super().__init__(operands=[sizes, value], result_types=[tensor_type(len(sizes), shape=shape)])

    def verify_(self) -> None:
        r = _check_tensor(self.result, "the result of sparse.fill", dense=True)
        if len(self.sizes) != r.get_num_dims():
            raise VerifyException(f"sparse.fill of a rank-{r.get_num_dims()} tensor needs {r.get_num_dims()} sizes")


@irdl_op_definition
class ReduceOp(IRDLOperation):
    """Combine every element of a dense tensor with ``kind`` (add, min, max)."""

    name = "sparse.reduce"
    kind = prop_def(StringAttr)
    source = operand_def(TensorType)
    result = result_def(f32)
    traits = traits_def(Pure())
    assembly_format = "$kind $source attr-dict `:` type($source)"

    def __init__(self, kind: str, source: SSAValue):
        super().__init__(operands=[source], properties={"kind": StringAttr(kind)}, result_types=[f32])

    def verify_(self) -> None:
        _check_tensor(self.source, "the operand of sparse.reduce", dense=True)
        if self.kind.data not in REDUCTIONS:
            raise VerifyException(f"sparse.reduce kind must be one of {', '.join(REDUCTIONS)}")


# ----- what a tensor program's func.func tells the runtime ------------------------------
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

SIZE_PARTS = ("rows", "cols", "nnz")


def storage_parts(kind: str) -> tuple[str, ...]:
    """The buffers of a matrix stored as ``kind`` (``dense`` included), in binding order."""
    return {"dense": ("values",), "coo": ("row", "col", "data")}.get(kind, ("indptr", "indices", "data"))


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
        m = re.fullmatch(r"bsr(?:\((\d+)x(\d+)\)|(\d+)x(\d+))", text)
        if m is None:
            raise VerifyException(f"unknown sparse format '{text}'; a bsr format is written bsr(RxC)")
        fmt = FormatAttr("bsr", (int(m.group(1) or m.group(3)), int(m.group(2) or m.group(4))))
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


Sparse = Dialect(
    "sparse",
    [MatVecOp, MatMulOp, ElementwiseOp, YieldOp, ConvertOp, NnzOp, DimOp, FillOp, ReduceOp],
    [FormatAttr],
)
