"""The ``kern`` dialect: the backend-neutral kernel contract (level L2).

A ``kern.kernel`` is a function over an N-d index space (N = ``rank``, 1 to 3). Its
block arguments are its bindings: ``memref`` values are buffers, everything else is
a scalar uniform. The body is plain ``arith``/``math``/``vector``/``scf``/``memref``
code computing one point of the index space; ``kern.index d`` is the point's
coordinate along ``d`` (0 = x, the fastest-varying, i.e. the column of an image) and
``kern.extent d`` the index space's size along ``d``. A backend runs the body for
every point, in any order and in parallel, so a kernel must not read what another
point of the same launch writes.

A kernel with a ``reduce`` kind (``add``, ``min``, ``max``) yields one value per
point; the launch combines them into a single result.

Images are ``memref<?x?xT>`` indexed ``[y, x]`` (rows first, NumPy order) with ``T``
a scalar or ``vector<NxT>``.

The host schedule is a ``func.func`` whose body allocates buffers (``memref.alloc``),
reads extents (``memref.dim``), does scalar arithmetic and runs kernels with
``kern.launch``::

    kern.kernel @tonemap_0 rank 2 {
    ^bb0(%src: memref<?x?xvector<4xf32>>, %out: memref<?x?xvector<4xf32>>, %gain: f32):
      %x = kern.index 0
      %y = kern.index 1
      %v = memref.load %src[%y, %x] : memref<?x?xvector<4xf32>>
      ...
      memref.store %r, %out[%y, %x] : memref<?x?xvector<4xf32>>
      kern.yield
    }
    func.func @tonemap(%src: memref<?x?xvector<4xf32>>, %gain: f32) -> memref<?x?xvector<4xf32>> {
      ...
      %out = memref.alloc(%h, %w) : memref<?x?xvector<4xf32>>
      kern.launch @tonemap_0 [%w, %h] (%src, %out, %gain) : (memref<?x?xvector<4xf32>>, memref<?x?xvector<4xf32>>, f32) -> ()
      func.return %out : memref<?x?xvector<4xf32>>
    }
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import (
    I64,
    IndexType,
    IntegerAttr,
    MemRefType,
    StringAttr,
    SymbolNameConstraint,
    SymbolRefAttr,
    i1,
    i32,
    i64,
)
from xdsl.ir import Attribute, Dialect, Region, SSAValue
from xdsl.irdl import (
    AttrSizedOperandSegments,
    IRDLOperation,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.traits import (
    HasParent,
    IsolatedFromAbove,
    IsTerminator,
    Pure,
    SymbolOpInterface,
)
from xdsl.utils.exceptions import VerifyException

from ccomp.dialects.common import REDUCTIONS, check_kind, enclosing, terminator

@irdl_op_definition
class KernelOp(IRDLOperation):
    """A kernel over a ``rank``-dimensional index space; block arguments are bindings."""

    name = "kern.kernel"
    sym_name = prop_def(SymbolNameConstraint())
    rank = prop_def(IntegerAttr[I64])
    reduce = opt_prop_def(StringAttr)
    body = region_def("single_block")
    traits = traits_def(SymbolOpInterface(), IsolatedFromAbove())

    assembly_format = "$sym_name `rank` $rank (`reduce` $reduce^)? attr-dict-with-keyword $body"

    def __init__(self, name: str, rank: int, body: Region, reduce: str | None = None):
        props: dict[str, Attribute] = {"sym_name": StringAttr(name), "rank": IntegerAttr(rank, i64)}
        if reduce is not None:
            props["reduce"] = StringAttr(reduce)
        super().__init__(properties=props, regions=[body])

    @property
    def kernel_name(self) -> str:
        return self.sym_name.data

    def verify_(self) -> None:
        if not 1 <= self.rank.value.data <= 3:
            raise VerifyException("kern.kernel rank must be 1, 2 or 3")
        last = terminator(self, self.body.block, YieldOp)
        if self.reduce is None and last.values:
            raise VerifyException("only a reduce kernel yields a value")
        if self.reduce is not None:
            check_kind("kern.kernel reduce", self.reduce.data, REDUCTIONS)
            if len(last.values) != 1:
                raise VerifyException("a reduce kernel yields exactly one value")


@irdl_op_definition
class YieldOp(IRDLOperation):
    """Ends a kernel body; a reduce kernel yields the point's contribution."""

    name = "kern.yield"
    values = var_operand_def()
    traits = traits_def(IsTerminator(), HasParent(KernelOp), Pure())
    assembly_format = "($values^ `:` type($values))? attr-dict"

    def __init__(self, values: Sequence[SSAValue] = ()):
        super().__init__(operands=[values])


class _AxisOp(IRDLOperation):
    """A query of the enclosing kernel's index space along ``dim`` (an ``index``)."""

    dim = prop_def(IntegerAttr[I64])
    result = result_def(IndexType)
    traits = traits_def(Pure())
    assembly_format = "$dim attr-dict"

    def __init__(self, dim: int):
        super().__init__(properties={"dim": IntegerAttr(dim, i64)}, result_types=[IndexType()])

    def verify_(self) -> None:
        kernel = enclosing(self, KernelOp)
        if kernel is None:
            raise VerifyException(f"{self.name} must be inside a kern.kernel")
        dim, rank = self.dim.value.data, kernel.rank.value.data
        if not 0 <= dim < rank:
            raise VerifyException(f"{self.name} dim {dim} is outside the kernel's rank {rank}")


@irdl_op_definition
class IndexOp(_AxisOp):
    """The current point's coordinate along ``dim`` (0 = x, fastest varying)."""

    name = "kern.index"


@irdl_op_definition
class ExtentOp(_AxisOp):
    """The size of the launch's index space along ``dim``."""

    name = "kern.extent"


@irdl_op_definition
class LaunchOp(IRDLOperation):
    """Run ``kernel`` over the index space ``[grid...]`` with ``args`` bound in order.

    A reduce kernel's launch has one result: the combined value."""

    name = "kern.launch"
    kernel = prop_def(SymbolRefAttr)
    grid = var_operand_def(IndexType)
    args = var_operand_def()
    res = var_result_def()
    irdl_options = (AttrSizedOperandSegments(as_property=True),)

    assembly_format = (
        "$kernel `[` $grid `]` `(` $args `)` attr-dict `:` functional-type($args, $res)"
    )

    def __init__(
        self,
        kernel: str,
        grid: Sequence[SSAValue],
        args: Sequence[SSAValue],
        result_types: Sequence[Attribute] = (),
    ):
        super().__init__(
            operands=[grid, args],
            properties={"kernel": SymbolRefAttr(kernel)},
            result_types=[result_types],
        )

    @property
    def kernel_name(self) -> str:
        return self.kernel.root_reference.data

    def verify_(self) -> None:
        from xdsl.traits import SymbolTable

        kernel = SymbolTable.lookup_symbol(self, self.kernel)
        if not isinstance(kernel, KernelOp):
            raise VerifyException(f"kern.launch refers to unknown kernel @{self.kernel_name}")
        if len(self.grid) != kernel.rank.value.data:
            raise VerifyException(
                f"kern.launch of @{self.kernel_name} gives {len(self.grid)} grid sizes, kernel rank is {kernel.rank.value.data}"
            )
        params = [a.type for a in kernel.body.block.args]
        if [a.type for a in self.args] != params:
            raise VerifyException(f"kern.launch arguments do not match the bindings of @{self.kernel_name}")
        expected = [] if kernel.reduce is None else [kernel.body.block.last_op.values[0].type]
        if [r.type for r in self.res] != expected:
            raise VerifyException(f"kern.launch results do not match what @{self.kernel_name} yields")


@irdl_op_definition
class CheckOp(IRDLOperation):
    """A run-time precondition of the host schedule: when ``cond`` is false the runtime
    stops with ``message``, reported at this op's location (shapes of inputs are only
    known when the program runs, so ``A @ v`` checks its sizes here). ``{0}``, ``{1}``...
    in the message stand for ``values``."""

    name = "kern.check"
    cond = operand_def(i1)
    message = prop_def(StringAttr)
    values = var_operand_def()
    assembly_format = "$cond `,` $message (`(` $values^ `:` type($values) `)`)? attr-dict"

    def __init__(self, cond: SSAValue, message: str, values: Sequence[SSAValue] = ()):
        super().__init__(operands=[cond, values], properties={"message": StringAttr(message)})


@irdl_op_definition
class AtomicAddOp(IRDLOperation):
    """``buffer[indices] += value`` as one indivisible step, for an ``i32`` buffer.

    Points of a launch run in parallel, so a kernel may not otherwise write what another
    point writes; this is the one exception (``histogram()`` counts into shared bins).
    Backends spell it ``atomicrmw add`` (LLVM), ``atomic_add`` (OpenCL), ``atomicAdd``
    on a storage buffer (GLSL)::

        kern.atomic_add %one, %bins[%i] : memref<?xi32>
    """

    name = "kern.atomic_add"
    value = operand_def(i32)
    buffer = operand_def(MemRefType)
    indices = var_operand_def(IndexType)
    assembly_format = "$value `,` $buffer `[` $indices `]` attr-dict `:` type($buffer)"

    def __init__(self, value: SSAValue, buffer: SSAValue, indices: Sequence[SSAValue]):
        super().__init__(operands=[value, buffer, indices])

    def verify_(self) -> None:
        t = self.buffer.type
        if t.element_type != i32:
            raise VerifyException(f"kern.atomic_add needs an i32 buffer, got {t}")
        if len(self.indices) != t.get_num_dims():
            raise VerifyException(f"kern.atomic_add gives {len(self.indices)} indices for a rank "
                                  f"{t.get_num_dims()} buffer")
        if enclosing(self, KernelOp) is None:
            raise VerifyException("kern.atomic_add must be inside a kern.kernel")


Kern = Dialect("kern", [KernelOp, YieldOp, IndexOp, ExtentOp, LaunchOp, CheckOp, AtomicAddOp], [])

