"""The types of the ``graph`` dialect (:mod:`ccomp.dialects.graph` re-exports them):
images and fields over a 2-D grid, volumes and volume fields over a 3-D one, their
extent types, and the constraint that infers an extent type from a grid type.

A volume is not a kind of image in IRDL (attribute definitions are final), so both
derive from ``AnyImageType``/``AnyFieldType``: every rule about what is materialised
asks for the base, and only what depends on the rank asks :func:`rank_of`.
"""

from __future__ import annotations

from xdsl.dialects.builtin import VectorType, f32, i32
from xdsl.ir import Attribute, ParametrizedAttribute, TypeAttribute
from xdsl.irdl import AttrConstraint, irdl_attr_definition, param_def
from xdsl.irdl.constraints import InferenceContext
from xdsl.utils.exceptions import VerifyException

SIZE_TYPE = VectorType(i32, [2])
"""The type of an image extent: (width, height) as ``vector<2xi32>``."""
SIZE3_TYPE = VectorType(i32, [3])
"""The type of a volume extent: (width, height, depth) as ``vector<3xi32>``."""


class _GridType(ParametrizedAttribute, TypeAttribute):
    """A value per element of a 2-D or 3-D grid, of type ``element`` (base of every grid type)."""

    element: Attribute = param_def(Attribute)

    def __init__(self, element: Attribute):
        super().__init__(element)


class AnyImageType(_GridType):
    """A materialised grid, 2-D (``ImageType``) or 3-D (``VolumeType``): every rule about
    what is materialised or becomes a buffer asks for this base; only what depends on
    the rank asks :func:`rank_of`."""


class AnyFieldType(_GridType):
    """A lazy per-element value over a 2-D (``FieldType``) or 3-D (``VolumeFieldType``) extent."""


@irdl_attr_definition
class ImageType(AnyImageType):
    """A materialised 2-D image whose elements have type ``element``."""

    name = "graph.image"


@irdl_attr_definition
class FieldType(AnyFieldType):
    """A lazy per-element value of type ``element``; never stored by itself."""

    name = "graph.field"


@irdl_attr_definition
class VolumeType(AnyImageType):
    """A materialised 3-D image (a volume), stored ``[z, y, x]``."""

    name = "graph.volume"


@irdl_attr_definition
class VolumeFieldType(AnyFieldType):
    """A lazy per-element value over a 3-D extent; capturing it gives a volume."""

    name = "graph.volume_field"


def rank_of(t: Attribute) -> int:
    """2 for images and their fields, 3 for volumes and theirs."""
    return 3 if isinstance(t, (VolumeType, VolumeFieldType)) else 2


def size_type(rank: int) -> VectorType:
    """The extent type of a grid of ``rank`` dimensions (x first)."""
    return SIZE3_TYPE if rank == 3 else SIZE_TYPE


def image_type(element: Attribute, rank: int = 2) -> AnyImageType:
    return VolumeType(element) if rank == 3 else ImageType(element)


def field_type(element: Attribute, rank: int = 2) -> AnyFieldType:
    return VolumeFieldType(element) if rank == 3 else FieldType(element)


class _SizeOf(AttrConstraint):
    """The extent type of the grid held by variable ``var``: the size operand of a sink
    or the result of ``graph.size`` is inferred from the grid's printed type, so 2-D IR
    prints as it always did and a volume's ``vector<3xi32>`` needs no extra syntax."""

    def __init__(self, var: str):
        self.var = var

    what = "extent"

    def type_for(self, rank: int) -> VectorType:
        return size_type(rank)

    def verify(self, attr: Attribute, constraint_context) -> None:
        grid = constraint_context.get_variable(self.var)
        want = self.type_for(rank_of(grid)) if grid is not None else None
        if attr not in (self.type_for(2), self.type_for(3)) or (want is not None and attr != want):
            raise VerifyException(f"expected the {self.what} type {want or self.type_for(2)}, got {attr}")

    def can_infer(self, var_constraint_names) -> bool:
        return self.var in var_constraint_names

    def infer(self, context: InferenceContext) -> Attribute:
        return self.type_for(rank_of(context.get_variable(self.var)))

    def mapping_type_vars(self, type_var_mapping) -> "_SizeOf":
        return self


class _CoordsOf(_SizeOf):
    """The normalised-coordinate type of ``graph.sample`` on the grid held by ``var``:
    ``vector<2xf32>`` (u, v) for an image, ``vector<3xf32>`` (u, v, w) for a volume,
    inferred like :class:`_SizeOf` so 2-D IR prints as it always did."""

    what = "sample coordinate"

    def type_for(self, rank: int) -> VectorType:
        return VectorType(f32, [rank])


def element_of(t: Attribute) -> Attribute:
    """The element type of an image or field type."""
    if isinstance(t, _GridType):
        return t.element
    raise VerifyException(f"expected an image or field type, got {t}")
