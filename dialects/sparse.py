"""The ``sparse`` dialect: tensor programs over dense and sparse matrices (level L1).

Values are whole tensors — builtin ``tensor`` types of ``f32`` (or dense ``f64``,
``i32``, ``i64``; sparse ``f64``), rank 1 or 2. A
rank-2 tensor may carry a storage *encoding*, ``#sparse.format<...>``: ``csr``,
``csc``, ``coo``, ``bsr[R, C]`` (R×C blocks) or ``auto`` (``sparse-select-format``
compiles one variant per candidate format and the runtime picks one from the data).
A tensor without an encoding is dense. Ops say *what* is computed, never how a
format is traversed: ``sparse-lower`` writes the format-specific loops, so a user
writes ``A @ v`` once for every format and target. The encoding attribute and the
storage attributes of a lowered program live in :mod:`ccomp.dialects.sparse_format`.

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

from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects.builtin import I64, IntegerAttr, NoneAttr, StringAttr, TensorType, f32, f64, i32, i64
from xdsl.ir import Dialect, Region, SSAValue
from xdsl.irdl import (
    AnyAttr, IRDLOperation, VarConstraint, irdl_op_definition, operand_def, prop_def, region_def, result_def, traits_def, var_operand_def,
)
from xdsl.traits import HasParent, IsolatedFromAbove, IsTerminator, Pure, RecursiveMemoryEffect
from xdsl.utils.exceptions import VerifyException

from ccomp.dialects.common import REDUCTIONS, check_arity, check_kind
from ccomp.dialects.sparse_format import FormatAttr, tensor_type, with_format


# What a tensor holds: any of these dense; sparse ones hold floats (their implicit zeros
# are 0.0, and a stored value is told from a zero with a float comparison).
ELEMENTS = (f32, f64, i32, i64)
SPARSE_ELEMENTS = (f32, f64)


def _check_tensor(value: SSAValue, what: str, ranks: Sequence[int] = (1, 2), dense: bool = False) -> TensorType:
    t = value.type
    if not isinstance(t, TensorType) or t.element_type not in ELEMENTS:
        raise VerifyException(f"{what} must be a tensor of f32, f64, i32 or i64, got {t}")
    if isinstance(t.encoding, FormatAttr) and t.element_type not in SPARSE_ELEMENTS:
        raise VerifyException(f"{what}: a sparse tensor holds f32 or f64, got {t}")
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


class _ProductOp(IRDLOperation):
    """``lhs @ rhs``: a matrix of any format times a dense right-hand side of rank
    ``RHS_RANK`` (a vector or a matrix), giving a dense ``rows(lhs)`` (``x cols(rhs)``).
    The base of matvec and matmul, which differ only in that rank."""

    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())
    assembly_format = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)"
    RHS_RANK: ClassVar[int]

    def __init__(self, lhs: SSAValue, rhs: SSAValue):
        shape = [lhs.type.get_shape()[0], *rhs.type.get_shape()[1:]]
        super().__init__(operands=[lhs, rhs],
                         result_types=[tensor_type(len(shape), shape=shape, elem=lhs.type.element_type)])

    def verify_(self) -> None:
        rank, what = self.RHS_RANK, ("vector", "right-hand matrix")[self.RHS_RANK - 1]
        a = _check_tensor(self.lhs, f"the matrix of {self.name}", (2,))
        b = _check_tensor(self.rhs, f"the {what} of {self.name}", (rank,), dense=True)
        r = _check_tensor(self.result, f"the result of {self.name}", (rank,), dense=True)
        if not a.element_type == b.element_type == r.element_type:
            raise VerifyException(f"{self.name} takes and gives tensors of one element type, got {a}, {b} -> {r}")
        if not _agree(a.get_shape()[1], b.get_shape()[0]):
            size = ("length", "rows")[rank - 1]
            raise VerifyException(f"{self.name} of a {a} by a {b}: the matrix's columns and the {what}'s {size} differ")
        want = [a.get_shape()[0], *b.get_shape()[1:]]
        if not all(_agree(w, n) for w, n in zip(want, r.get_shape())):
            raise VerifyException(f"{self.name} result must be rows(lhs)" + " x cols(rhs)" * (rank - 1))


@irdl_op_definition
class MatVecOp(_ProductOp):
    """``matrix @ vector``: a dense vector of ``rows(matrix)`` elements."""

    name = "sparse.matvec"
    RHS_RANK: ClassVar[int] = 1


@irdl_op_definition
class MatMulOp(_ProductOp):
    """``lhs @ rhs`` with a dense right-hand matrix: a dense ``rows(lhs) x cols(rhs)``."""

    name = "sparse.matmul"
    RHS_RANK: ClassVar[int] = 2


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
        check_arity(self, self.inputs, block)
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


class _SourceOp(IRDLOperation):
    """An op on one tensor, ``source``, of rank ``SOURCE_RANKS`` (dense only where
    ``SOURCE_DENSE``): the base of convert, nnz, dim and reduce."""

    source = operand_def(TensorType)
    traits = traits_def(Pure())
    SOURCE_RANKS: ClassVar[tuple[int, ...]] = (1, 2)
    SOURCE_DENSE: ClassVar[bool] = False

    def verify_(self) -> None:
        self.verify_source(_check_tensor(self.source, f"the operand of {self.name}", self.SOURCE_RANKS,
                                         self.SOURCE_DENSE))

    def verify_source(self, t: TensorType) -> None:
        """The op's own rules, given its checked ``source`` type."""


@irdl_op_definition
class ConvertOp(_SourceOp):
    """The same tensor in another storage format (or dense)."""

    name = "sparse.convert"
    result = result_def(TensorType)
    SOURCE_RANKS: ClassVar[tuple[int, ...]] = (2,)
    assembly_format = "$source attr-dict `:` type($source) `to` type($result)"

    def __init__(self, source: SSAValue, fmt: FormatAttr | None):
        super().__init__(operands=[source], result_types=[with_format(source.type, fmt)])

    def verify_source(self, t: TensorType) -> None:
        r = _check_tensor(self.result, "the result of sparse.convert", (2,))
        if t.get_shape() != r.get_shape():
            raise VerifyException("sparse.convert keeps the shape")


@irdl_op_definition
class NnzOp(_SourceOp):
    """The number of nonzero values of a matrix (stored zeros and padding not counted,
    so the answer is the same for every format)."""

    name = "sparse.nnz"
    result = result_def(i32)
    assembly_format = "$source attr-dict `:` type($source)"

    def __init__(self, source: SSAValue):
        super().__init__(operands=[source], result_types=[i32])


@irdl_op_definition
class DimOp(_SourceOp):
    """The size of a tensor along ``dim`` (0 = rows) as an ``i32``."""

    name = "sparse.dim"
    dim = prop_def(IntegerAttr[I64])
    result = result_def(i32)
    assembly_format = "$source `[` $dim `]` attr-dict `:` type($source)"

    def __init__(self, source: SSAValue, dim: int):
        super().__init__(operands=[source], properties={"dim": IntegerAttr(dim, i64)}, result_types=[i32])

    def verify_source(self, t: TensorType) -> None:
        if not 0 <= self.dim.value.data < t.get_num_dims():
            raise VerifyException(f"sparse.dim {self.dim.value.data} is outside the rank of {t}")


@irdl_op_definition
class FillOp(IRDLOperation):
    """A dense tensor of the given sizes (``i32``, one per axis) holding ``value``."""

    name = "sparse.fill"
    sizes = var_operand_def(i32)
    T: ClassVar = VarConstraint("T", AnyAttr())  # the value's type is the result's element type
    value = operand_def(T)
    result = result_def(TensorType.constr(element_type=T))
    traits = traits_def(Pure())
    assembly_format = "`(` $sizes `)` $value attr-dict `:` type($result)"

    def __init__(self, sizes: Sequence[SSAValue], value: SSAValue, shape: Sequence[int] | None = None):
        super().__init__(operands=[sizes, value],
                         result_types=[tensor_type(len(sizes), shape=shape, elem=value.type)])

    def verify_(self) -> None:
        r = _check_tensor(self.result, "the result of sparse.fill", dense=True)
        if len(self.sizes) != r.get_num_dims():
            raise VerifyException(f"sparse.fill of a rank-{r.get_num_dims()} tensor needs {r.get_num_dims()} sizes")
        if self.value.type != r.element_type:
            raise VerifyException(f"sparse.fill of a {r} takes a {r.element_type} value, got {self.value.type}")


@irdl_op_definition
class ReduceOp(_SourceOp):
    """Combine every element of a dense tensor with ``kind`` (add, min, max)."""

    name = "sparse.reduce"
    kind = prop_def(StringAttr)
    T: ClassVar = VarConstraint("T", AnyAttr())  # the result is the source's element type
    source = operand_def(TensorType.constr(element_type=T))
    result = result_def(T)
    SOURCE_DENSE: ClassVar[bool] = True
    assembly_format = "$kind $source attr-dict `:` type($source)"

    def __init__(self, kind: str, source: SSAValue):
        super().__init__(operands=[source], properties={"kind": StringAttr(kind)},
                         result_types=[source.type.element_type])

    def verify_source(self, t: TensorType) -> None:
        check_kind("sparse.reduce kind", self.kind.data, REDUCTIONS)
        if self.result.type != t.element_type:
            raise VerifyException(f"sparse.reduce of a {t} gives a {t.element_type}, not {self.result.type}")


Sparse = Dialect(
    "sparse",
    [MatVecOp, MatMulOp, ElementwiseOp, YieldOp, ConvertOp, NnzOp, DimOp, FillOp, ReduceOp],
    [FormatAttr],
)
