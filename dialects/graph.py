"""The ``graph`` dialect: Blender-style node graphs over images and fields (level L1).

An *image* is a materialised 2-D grid of elements; a *field* is a lazy value per
element that only exists once something materialises it (``graph.capture``), reduces
it (``graph.reduce``) or returns it. Pointwise math lives in the body of
``graph.map`` as ordinary ``arith``/``math``/``vector`` ops on element types, so the
fusion pass can splice bodies together and every later level keeps standard ops.

Example (the body of ``edges`` after the frontend)::

    %g0 = graph.blur %src radius 2 : !graph.image<f32> -> !graph.field<f32>
    %sz = graph.size %src : !graph.image<f32>
    %g = graph.capture %g0, %sz : !graph.field<f32> -> !graph.image<f32>
    %m = graph.map() : () -> !graph.field<f32> {
      %x = graph.coord 0 : i32
      %y = graph.coord 1 : i32
      %c1 = arith.constant 1 : i32
      %xp = arith.addi %x, %c1 : i32
      %a = graph.load %g[%xp, %y] : !graph.image<f32>
      ...
      graph.yield %r : f32
    }
    %mean = graph.reduce mean %m, %sz : !graph.field<f32> -> f32

Element types are ``f32``, ``i32``, ``i1`` and ``vector<NxT>`` of those; sizes are
``vector<2xi32>`` holding (width, height). Volumes (``!graph.volume<T>``, read with a
third coordinate, ``graph.coord 2`` = z) and their fields have ``vector<3xi32>`` sizes;
the types live in :mod:`ccomp.dialects.graph_types`. The names of a program's inputs and outputs
(``graph.name``...) are attributes of its ``func.func``, declared in
:mod:`ccomp.dialects.ports`.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import (
    I32, I64, IntegerAttr, IntegerType, StringAttr, TensorType, UnitAttr, f32, i32, i64,
)
from xdsl.ir import Attribute, Dialect, Region, SSAValue
from xdsl.irdl import (
    BaseAttr, IRDLOperation, VarConstraint, irdl_op_definition, operand_def, opt_operand_def, opt_prop_def, prop_def,
    region_def, result_def, traits_def, var_operand_def,
)
from xdsl.traits import HasParent, IsTerminator, Pure, RecursiveMemoryEffect
from xdsl.utils.exceptions import VerifyException

from ccomp.dialects import common
from ccomp.dialects.common import check_arity, check_kind, enclosing, terminator
from ccomp.dialects.graph_types import (  # noqa: F401  (re-exported: the dialect's types)
    SIZE3_TYPE, SIZE_TYPE, AnyFieldType, AnyImageType, FieldType, ImageType, VolumeFieldType, VolumeType,
    _CoordsOf, _GridType, _SizeOf, element_of, field_type, image_type, rank_of, size_type,
)

REDUCTIONS = (*common.REDUCTIONS, "mean")


@irdl_op_definition
class MapOp(IRDLOperation):
    """A pointwise node: its body computes one element from one element of each input.

    Inputs are fields or images (an image input reads the current element). The
    body may also use values defined above: scalars (uniforms), images read through
    ``graph.load``/``graph.sample``, and ``graph.coord``.
    """

    name = "graph.map"
    inputs = var_operand_def()
    result = result_def(AnyFieldType)
    body = region_def("single_block")
    traits = traits_def(RecursiveMemoryEffect())

    assembly_format = "`(` $inputs `)` attr-dict `:` functional-type($inputs, $result) $body"

    def __init__(self, inputs: Sequence[SSAValue], result_element: Attribute, body: Region, rank: int = 2):
        super().__init__(operands=[inputs], result_types=[field_type(result_element, rank)], regions=[body])

    def verify_(self) -> None:
        block = self.body.block
        check_arity(self, self.inputs, block)
        for operand, arg in zip(self.inputs, block.args):
            if element_of(operand.type) != arg.type:
                raise VerifyException(
                    f"graph.map block argument {arg.type} does not match input element {element_of(operand.type)}"
                )
        last = terminator(self, block, YieldOp)
        if last.value.type != self.result.type.element:
            raise VerifyException(
                f"graph.map yields {last.value.type} but its result is {self.result.type}"
            )


@irdl_op_definition
class YieldOp(IRDLOperation):
    """Ends a ``graph.map`` body with the element it computed."""

    name = "graph.yield"
    value = operand_def()
    traits = traits_def(IsTerminator(), HasParent(MapOp), Pure())
    assembly_format = "$value attr-dict `:` type($value)"

    def __init__(self, value: SSAValue):
        super().__init__(operands=[value])


@irdl_op_definition
class CoordOp(IRDLOperation):
    """The integer coordinate of the current element: dim 0 is x (column), 1 is y (row)."""

    name = "graph.coord"
    dim = prop_def(IntegerAttr[I32])
    result = result_def(IntegerType)
    traits = traits_def(Pure())
    assembly_format = "$dim attr-dict `:` type($result)"

    def __init__(self, dim: int):
        super().__init__(properties={"dim": IntegerAttr(dim, i32)}, result_types=[i32])

    def verify_(self) -> None:
        if self.dim.value.data not in (0, 1, 2):
            raise VerifyException("graph.coord dim must be 0 (x), 1 (y) or 2 (z)")
        if enclosing(self, MapOp) is None:
            raise VerifyException("graph.coord is only meaningful inside a graph.map body")


class _ImageReadOp(IRDLOperation):
    """A read of one element of ``image`` (base of ``graph.load`` and ``graph.sample``)."""

    result = result_def()
    traits = traits_def(Pure())

    def __init__(self, image: SSAValue, *coords: SSAValue | Sequence[SSAValue]):
        assert isinstance(image.type, AnyImageType)
        super().__init__(operands=[image, *coords], result_types=[image.type.element])

    def verify_(self) -> None:
        if self.result.type != self.image.type.element:
            raise VerifyException(f"{self.name} result must be the image's element type")


@irdl_op_definition
class LoadOp(_ImageReadOp):
    """Read ``image[x, y]`` (a volume: ``[x, y, z]``); coordinates outside the grid are
    clamped to its edge."""

    name = "graph.load"
    image = operand_def(AnyImageType)
    x = operand_def(i32)
    y = operand_def(i32)
    z = opt_operand_def(i32)
    assembly_format = "$image `[` $x `,` $y (`,` $z^)? `]` attr-dict `:` type($image) `->` type($result)"

    def __init__(self, image: SSAValue, x: SSAValue, y: SSAValue, z: SSAValue | None = None):
        super().__init__(image, x, y, [] if z is None else [z])

    def verify_(self) -> None:
        super().verify_()
        if (self.z is not None) != (rank_of(self.image.type) == 3):
            raise VerifyException(f"graph.load of a {self.image.type} takes {rank_of(self.image.type)} coordinates")


@irdl_op_definition
class SampleOp(_ImageReadOp):
    """Bilinear read at normalised coordinates ``uv`` (texel centres at (i+0.5)/size),
    clamped to the edge, as a GPU sampler with CLAMP_TO_EDGE and LINEAR filtering; of a
    volume, trilinear at ``vector<3xf32>`` (u, v, w), the type inferred from the grid's.

    Example:  ``%s = graph.sample %v, %p : !graph.volume<f32> -> f32``"""

    name = "graph.sample"
    image = operand_def(VarConstraint("GRID", BaseAttr(AnyImageType)))
    uv = operand_def(_CoordsOf("GRID"))
    assembly_format = "$image `,` $uv attr-dict `:` type($image) `->` type($result)"


@irdl_op_definition
class SizeOp(IRDLOperation):
    """The extent of an image as ``vector<2xi32>`` (width, height); of a volume as
    ``vector<3xi32>`` (width, height, depth)."""

    name = "graph.size"
    image = operand_def(VarConstraint("GRID", BaseAttr(AnyImageType)))
    result = result_def(_SizeOf("GRID"))
    traits = traits_def(Pure())
    assembly_format = "$image attr-dict `:` type($image)"

    def __init__(self, image: SSAValue):
        super().__init__(operands=[image], result_types=[size_type(rank_of(image.type))])


@irdl_op_definition
class BlurOp(IRDLOperation):
    """A box blur: the mean over the (2r+1)x(2r+1) neighbourhood, edges clamped.

    Its input may be a field; ``graph-fuse`` materialises such an input first."""

    name = "graph.blur"
    input = operand_def()
    radius = prop_def(IntegerAttr[I32])
    result = result_def(AnyFieldType)
    traits = traits_def(Pure())
    assembly_format = "$input `radius` $radius attr-dict `:` type($input) `->` type($result)"

    def __init__(self, input: SSAValue, radius: int):
        super().__init__(
            operands=[input],
            properties={"radius": IntegerAttr(radius, i32)},
            result_types=[field_type(element_of(input.type), rank_of(input.type))],
        )

    def verify_(self) -> None:
        if self.radius.value.data < 0:
            raise VerifyException("graph.blur radius must be non-negative")
        if element_of(self.input.type) != self.result.type.element:
            raise VerifyException("graph.blur result element must match its input")


class _SinkOp(IRDLOperation):
    """A node that consumes a field over an extent (width, height): ``graph.capture``,
    ``graph.reduce`` and ``graph.histogram``, the sinks ``graph-schedule`` places in kernels. The optional ``group
    N`` is that contract: every sink of group N is computed in one kernel, which
    ``graph-to-kern`` follows."""

    input = operand_def(VarConstraint("GRID", BaseAttr(_GridType)))
    size = operand_def(_SizeOf("GRID"))
    group = opt_prop_def(IntegerAttr[I64])
    traits = traits_def(Pure())

    def verify_(self) -> None:
        if self.group is not None and self.group.value.data < 0:
            raise VerifyException(f"{self.name} group must be non-negative, got {self.group.value.data}")


@irdl_op_definition
class CaptureOp(_SinkOp):
    """Materialise a field over an extent (width, height) into an image.

    Two optional properties are contracts between stages. ``implicit``: the frontend
    inserted this capture for a neighbour read of a field (the program never asked
    for the image), so ``graph-fuse`` may recompute the field instead. ``group N``:
    ``graph-schedule`` computes every sink of group N in one kernel, which
    ``graph-to-kern`` follows::

        %img = graph.capture %f, %sz implicit group 0 : !graph.field<f32> -> !graph.image<f32>
    """

    name = "graph.capture"
    implicit = opt_prop_def(UnitAttr)
    result = result_def(AnyImageType)
    assembly_format = ("$input `,` $size (`implicit` $implicit^)? (`group` $group^)? attr-dict "
                       "`:` type($input) `->` type($result)")

    def __init__(self, input: SSAValue, size: SSAValue, implicit: bool = False):
        super().__init__(operands=[input, size], result_types=[image_type(element_of(input.type), rank_of(input.type))],
                         properties={"implicit": UnitAttr()} if implicit else {})

    def verify_(self) -> None:
        super().verify_()
        if element_of(self.input.type) != self.result.type.element:
            raise VerifyException("graph.capture result element must match its input")
        if rank_of(self.result.type) != rank_of(self.input.type):
            raise VerifyException("graph.capture of a 3-D field gives a volume, of a 2-D one an image")
        if self.implicit is not None and not isinstance(self.input.type, AnyFieldType):
            raise VerifyException("an implicit graph.capture materialises a field, not an image")


@irdl_op_definition
class ReduceOp(_SinkOp):
    """Reduce a field over an extent to one value: ``add``, ``min``, ``max`` or ``mean``."""

    name = "graph.reduce"
    kind = prop_def(StringAttr)
    result = result_def()
    assembly_format = ("$kind $input `,` $size (`group` $group^)? attr-dict "
                       "`:` type($input) `->` type($result)")

    def __init__(self, kind: str, input: SSAValue, size: SSAValue):
        super().__init__(
            operands=[input, size],
            properties={"kind": StringAttr(kind)},
            result_types=[element_of(input.type)],
        )

    def verify_(self) -> None:
        super().verify_()
        check_kind("graph.reduce kind", self.kind.data, REDUCTIONS)
        if self.result.type != element_of(self.input.type):
            raise VerifyException("graph.reduce result must be the input's element type")


@irdl_op_definition
class HistogramOp(_SinkOp):
    """Count a field's ``f32`` values over an extent into ``bins`` equal bins of
    ``[lo, hi]``: ``numpy.histogram(values, bins, range=(lo, hi))`` with ``lo``, ``hi``
    and the bin edges in ``f32`` (values outside the range and NaN are not counted;
    the last bin is closed on the right). The result is a ``tensor<binsxi32>``. A
    histogram is a kernel of its own (``group N`` holds it alone)::

        %h = graph.histogram %f, %sz, %lo, %hi bins 16 : !graph.field<f32> -> tensor<16xi32>
    """

    name = "graph.histogram"
    input = operand_def(VarConstraint("GRID", BaseAttr(_GridType)))  # redeclared: operand order
    size = operand_def(_SizeOf("GRID"))
    lo = operand_def(f32)
    hi = operand_def(f32)
    bins = prop_def(IntegerAttr[I64])
    result = result_def(TensorType)
    assembly_format = ("$input `,` $size `,` $lo `,` $hi `bins` $bins (`group` $group^)? attr-dict "
                       "`:` type($input) `->` type($result)")

    def __init__(self, input: SSAValue, size: SSAValue, lo: SSAValue, hi: SSAValue, bins: int):
        super().__init__(operands=[input, size, lo, hi], properties={"bins": IntegerAttr(bins, i64)},
                         result_types=[TensorType(i32, [bins])])

    def verify_(self) -> None:
        super().verify_()
        bins = self.bins.value.data
        if bins < 1:
            raise VerifyException(f"graph.histogram needs at least 1 bin, got {bins}")
        if element_of(self.input.type) != f32:
            raise VerifyException(f"graph.histogram counts f32 values, got {element_of(self.input.type)}")
        if self.result.type != TensorType(i32, [bins]):
            raise VerifyException(f"graph.histogram result must be tensor<{bins}xi32>, got {self.result.type}")


SINKS = (CaptureOp, ReduceOp, HistogramOp)
"""The ops that consume a field over an extent: each becomes (part of) one kernel."""

Graph = Dialect(
    "graph",
    [MapOp, YieldOp, CoordOp, LoadOp, SampleOp, SizeOp, BlurOp, CaptureOp, ReduceOp, HistogramOp],
    [ImageType, FieldType, VolumeType, VolumeFieldType],
)
