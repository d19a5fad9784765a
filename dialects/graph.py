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
``vector<2xi32>`` holding (width, height).
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects import func
from xdsl.dialects.builtin import (
    I32,
    I64,
    ArrayAttr,
    DictionaryAttr,
    FloatAttr,
    IntegerAttr,
    IntegerType,
    StringAttr,
    UnitAttr,
    VectorType,
    f32,
    i32,
)
from xdsl.ir import (
    Attribute,
    Dialect,
    Operation,
    ParametrizedAttribute,
    Region,
    SSAValue,
    TypeAttribute,
)
from xdsl.irdl import (
    IRDLOperation,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    param_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.traits import HasParent, IsTerminator, Pure, RecursiveMemoryEffect
from xdsl.utils.exceptions import VerifyException

SIZE_TYPE = VectorType(i32, [2])
"""The type of an image extent: (width, height) as ``vector<2xi32>``."""

REDUCTIONS = ("add", "min", "max", "mean")


@irdl_attr_definition
class ImageType(ParametrizedAttribute, TypeAttribute):
    """A materialised 2-D image whose elements have type ``element``."""

    name = "graph.image"
    element: Attribute = param_def(Attribute)

    def __init__(self, element: Attribute):
        super().__init__(element)


@irdl_attr_definition
class FieldType(ParametrizedAttribute, TypeAttribute):
    """A lazy per-element value of type ``element``; never stored by itself."""

    name = "graph.field"
    element: Attribute = param_def(Attribute)

    def __init__(self, element: Attribute):
        super().__init__(element)


def element_of(t: Attribute) -> Attribute:
    """The element type of an image or field type."""
    if isinstance(t, (ImageType, FieldType)):
        return t.element
    raise VerifyException(f"expected an image or field type, got {t}")


def _check_size(value: SSAValue, what: str) -> None:
    if value.type != SIZE_TYPE:
        raise VerifyException(f"{what} must be vector<2xi32> (width, height), got {value.type}")


def _inside_map(op: Operation) -> bool:
    parent = op.parent_op()
    while parent is not None:
        if isinstance(parent, MapOp):
            return True
        parent = parent.parent_op()
    return False


@irdl_op_definition
class MapOp(IRDLOperation):
    """A pointwise node: its body computes one element from one element of each input.

    Inputs are fields or images (an image input reads the current element). The
    body may also use values defined above: scalars (uniforms), images read through
    ``graph.load``/``graph.sample``, and ``graph.coord``.
    """

    name = "graph.map"
    inputs = var_operand_def()
    result = result_def(FieldType)
    body = region_def("single_block")
    traits = traits_def(RecursiveMemoryEffect())

    assembly_format = "`(` $inputs `)` attr-dict `:` functional-type($inputs, $result) $body"

    def __init__(self, inputs: Sequence[SSAValue], result_element: Attribute, body: Region):
        super().__init__(operands=[inputs], result_types=[FieldType(result_element)], regions=[body])

    def verify_(self) -> None:
        block = self.body.block
        if len(block.args) != len(self.inputs):
            raise VerifyException(f"graph.map has {len(self.inputs)} inputs but {len(block.args)} block arguments")
        for operand, arg in zip(self.inputs, block.args):
            if element_of(operand.type) != arg.type:
                raise VerifyException(
                    f"graph.map block argument {arg.type} does not match input element {element_of(operand.type)}"
                )
        last = block.last_op
        if not isinstance(last, YieldOp):
            raise VerifyException("graph.map body must end with graph.yield")
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
        if self.dim.value.data not in (0, 1):
            raise VerifyException("graph.coord dim must be 0 (x) or 1 (y)")
        if not _inside_map(self):
            raise VerifyException("graph.coord is only meaningful inside a graph.map body")


@irdl_op_definition
class LoadOp(IRDLOperation):
    """Read ``image[x, y]``; coordinates outside the image are clamped to its edge."""

    name = "graph.load"
    image = operand_def(ImageType)
    x = operand_def(i32)
    y = operand_def(i32)
    result = result_def()
    traits = traits_def(Pure())
    assembly_format = "$image `[` $x `,` $y `]` attr-dict `:` type($image) `->` type($result)"

    def __init__(self, image: SSAValue, x: SSAValue, y: SSAValue):
        assert isinstance(image.type, ImageType)
        super().__init__(operands=[image, x, y], result_types=[image.type.element])

    def verify_(self) -> None:
        if self.result.type != self.image.type.element:
            raise VerifyException("graph.load result must be the image's element type")


@irdl_op_definition
class SampleOp(IRDLOperation):
    """Bilinear read at normalised coordinates ``uv`` (texel centres at (i+0.5)/size),
    clamped to the edge, as a GPU sampler with CLAMP_TO_EDGE and LINEAR filtering."""

    name = "graph.sample"
    image = operand_def(ImageType)
    uv = operand_def(VectorType(f32, [2]))
    result = result_def()
    traits = traits_def(Pure())
    assembly_format = "$image `,` $uv attr-dict `:` type($image) `->` type($result)"

    def __init__(self, image: SSAValue, uv: SSAValue):
        assert isinstance(image.type, ImageType)
        super().__init__(operands=[image, uv], result_types=[image.type.element])

    def verify_(self) -> None:
        if self.uv.type != VectorType(f32, [2]):
            raise VerifyException(f"graph.sample uv must be vector<2xf32>, got {self.uv.type}")
        if self.result.type != self.image.type.element:
            raise VerifyException("graph.sample result must be the image's element type")


@irdl_op_definition
class SizeOp(IRDLOperation):
    """The extent of an image as ``vector<2xi32>`` (width, height)."""

    name = "graph.size"
    image = operand_def(ImageType)
    result = result_def(SIZE_TYPE)
    traits = traits_def(Pure())
    assembly_format = "$image attr-dict `:` type($image)"

    def __init__(self, image: SSAValue):
        super().__init__(operands=[image], result_types=[SIZE_TYPE])


@irdl_op_definition
class BlurOp(IRDLOperation):
    """A box blur: the mean over the (2r+1)x(2r+1) neighbourhood, edges clamped.

    Its input may be a field; ``graph-fuse`` materialises such an input first."""

    name = "graph.blur"
    input = operand_def()
    radius = prop_def(IntegerAttr[I32])
    result = result_def(FieldType)
    traits = traits_def(Pure())
    assembly_format = "$input `radius` $radius attr-dict `:` type($input) `->` type($result)"

    def __init__(self, input: SSAValue, radius: int):
        super().__init__(
            operands=[input],
            properties={"radius": IntegerAttr(radius, i32)},
            result_types=[FieldType(element_of(input.type))],
        )

    def verify_(self) -> None:
        if self.radius.value.data < 0:
            raise VerifyException("graph.blur radius must be non-negative")
        if element_of(self.input.type) != self.result.type.element:
            raise VerifyException("graph.blur result element must match its input")


def _check_group(op: CaptureOp | ReduceOp) -> None:
    if op.group is not None and op.group.value.data < 0:
        raise VerifyException(f"{op.name} group must be non-negative, got {op.group.value.data}")


@irdl_op_definition
class CaptureOp(IRDLOperation):
    """Materialise a field over an extent (width, height) into an image.

    Two optional properties are contracts between stages. ``implicit``: the frontend
    inserted this capture for a neighbour read of a field (the program never asked
    for the image), so ``graph-fuse`` may recompute the field instead. ``group N``:
    ``graph-schedule`` computes every sink of group N in one kernel, which
    ``graph-to-kern`` follows::

        %img = graph.capture %f, %sz implicit group 0 : !graph.field<f32> -> !graph.image<f32>
    """

    name = "graph.capture"
    input = operand_def()
    size = operand_def(SIZE_TYPE)
    implicit = opt_prop_def(UnitAttr)
    group = opt_prop_def(IntegerAttr[I64])
    result = result_def(ImageType)
    traits = traits_def(Pure())
    assembly_format = ("$input `,` $size (`implicit` $implicit^)? (`group` $group^)? attr-dict "
                       "`:` type($input) `->` type($result)")

    def __init__(self, input: SSAValue, size: SSAValue, implicit: bool = False):
        super().__init__(operands=[input, size], result_types=[ImageType(element_of(input.type))],
                         properties={"implicit": UnitAttr()} if implicit else {})

    def verify_(self) -> None:
        _check_size(self.size, "graph.capture size")
        if element_of(self.input.type) != self.result.type.element:
            raise VerifyException("graph.capture result element must match its input")
        if self.implicit is not None and not isinstance(self.input.type, FieldType):
            raise VerifyException("an implicit graph.capture materialises a field, not an image")
        _check_group(self)


@irdl_op_definition
class ReduceOp(IRDLOperation):
    """Reduce a field over an extent to one value: ``add``, ``min``, ``max`` or ``mean``."""

    name = "graph.reduce"
    kind = prop_def(StringAttr)
    input = operand_def()
    size = operand_def(SIZE_TYPE)
    group = opt_prop_def(IntegerAttr[I64])  # the kernel group graph-schedule puts it in
    result = result_def()
    traits = traits_def(Pure())
    assembly_format = ("$kind $input `,` $size (`group` $group^)? attr-dict "
                       "`:` type($input) `->` type($result)")

    def __init__(self, kind: str, input: SSAValue, size: SSAValue):
        super().__init__(
            operands=[input, size],
            properties={"kind": StringAttr(kind)},
            result_types=[element_of(input.type)],
        )

    def verify_(self) -> None:
        _check_size(self.size, "graph.reduce size")
        if self.kind.data not in REDUCTIONS:
            raise VerifyException(f"graph.reduce kind must be one of {', '.join(REDUCTIONS)}")
        if self.result.type != element_of(self.input.type):
            raise VerifyException("graph.reduce result must be the input's element type")
        _check_group(self)


# ----- the ports of a program: attributes on its func.func -------------------------------
# A graph or tensor program is a ``func.func``; these attributes tell every later stage,
# and the runtime, what a caller calls its inputs and outputs. ``dialects.contracts``
# verifies them.

PORT_NAME = "graph.name"
"""Argument or result attribute: the name a caller uses for this input or output
(``StringAttr``). Several consecutive values share one name when one input spans
several buffers (a sparse matrix after ``sparse-lower``)."""

PORT_DEFAULT = "graph.default"
"""Argument attribute: the value of a scalar input the caller leaves out
(``FloatAttr``/``IntegerAttr`` of the argument's type)."""

OUTPUTS = "graph.outputs"
"""Function attribute: the names of the program's outputs, in order (``ArrayAttr`` of
``StringAttr``), one per result until results carry a ``graph.name`` of their own."""


def port_attrs(name: str, default: Attribute | None = None) -> dict[str, Attribute]:
    """The entries of an argument/result attribute dictionary naming a port."""
    attrs: dict[str, Attribute] = {PORT_NAME: StringAttr(name)}
    if default is not None:
        attrs[PORT_DEFAULT] = default
    return attrs


def port_name(attrs: DictionaryAttr | None) -> str | None:
    """The ``graph.name`` in an argument/result attribute dictionary, if any."""
    name = attrs.data.get(PORT_NAME) if attrs is not None else None
    return name.data if isinstance(name, StringAttr) else None


def port_default(attrs: DictionaryAttr | None) -> int | float | None:
    """The ``graph.default`` value in an argument attribute dictionary, if any."""
    default = attrs.data.get(PORT_DEFAULT) if attrs is not None else None
    return default.value.data if isinstance(default, (FloatAttr, IntegerAttr)) else None


def arg_ports(fn: func.FuncOp) -> list[DictionaryAttr]:
    """One attribute dictionary per argument (empty where the function has none)."""
    n = len(fn.function_type.inputs)
    return list(fn.arg_attrs.data) if fn.arg_attrs is not None else [DictionaryAttr({})] * n


def result_ports(fn: func.FuncOp) -> list[DictionaryAttr]:
    """One attribute dictionary per result (empty where the function has none)."""
    n = len(fn.function_type.outputs)
    return list(fn.res_attrs.data) if fn.res_attrs is not None else [DictionaryAttr({})] * n


def output_names(fn: func.FuncOp) -> list[str] | None:
    """The ``graph.outputs`` of a function, if it has them."""
    names = fn.attributes.get(OUTPUTS)
    return [n.data for n in names.data] if isinstance(names, ArrayAttr) else None


def set_output_names(fn: func.FuncOp, names: Sequence[str]) -> None:
    fn.attributes[OUTPUTS] = ArrayAttr([StringAttr(n) for n in names])


Graph = Dialect(
    "graph",
    [MapOp, YieldOp, CoordOp, LoadOp, SampleOp, SizeOp, BlurOp, CaptureOp, ReduceOp],
    [ImageType, FieldType],
)
