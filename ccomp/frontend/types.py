"""Language-level types of ComputeNodes values and their MLIR element types.

A value has an element type (``f32``, ``f64``, ``i32``, ``i64``, ``bool``,
``vec2``..``vec4``, and ``ivec2`` for sizes) and a kind: a *uniform* is one value for the whole program, a
*field* is a lazy value per element, an *image* is a materialised field. Tensors
(in ``fn`` programs) are typed by the builtin ``TensorType`` itself; see
:func:`tensor_type` and :mod:`ccomp.frontend.tensor.typecheck`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from xdsl.dialects.builtin import DYNAMIC_INDEX, IntegerType, TensorType, VectorType, f32, f64, i1, i32, i64
from xdsl.ir import Attribute

from ccomp.dialects import sparse_format

UNIFORM, FIELD, IMAGE = "uniform", "field", "image"
TENSOR = "tensor"  # in a graph, only what histogram() returns: tensor<Nxi32>, N = ``Ty.length``

SCALARS = ("f32", "f64", "i32", "i64", "bool")
FLOATS = ("f32", "f64")
INTS = ("i32", "i64")
WIDE = ("f64", "i64")  # the 64-bit scalars: no vectors of them, and targets may lack them
VECTORS = {"vec2": ("f32", 2), "vec3": ("f32", 3), "vec4": ("f32", 4), "ivec2": ("i32", 2), "ivec3": ("i32", 3)}
IMAGE_ELEMENTS = ("f32", "f64", "i32", "i64", "vec2", "vec3", "vec4")
SWIZZLE_SETS = ("xyzw", "rgba")


@dataclass(frozen=True)
class Ty:
    elem: str
    kind: str = UNIFORM
    length: int = 0  # a graph tensor's static length (its bins); 0 for every other kind
    # The grid an image or field lives on: 2 (an image), 3 (a volume), 0 (not known
    # yet: a coordinate, or a field that reads no grid). Not part of equality, so that
    # the many rules comparing element and kind stay as they are; the checker joins it.
    dims: int = field(default=0, compare=False)

    @property
    def lanes(self) -> int:
        return VECTORS[self.elem][1] if self.elem in VECTORS else 1

    @property
    def scalar(self) -> str:
        """The scalar element of a vector, or the type itself."""
        return VECTORS[self.elem][0] if self.elem in VECTORS else self.elem

    @property
    def is_float(self) -> bool:
        return self.scalar in FLOATS

    @property
    def is_int(self) -> bool:
        return self.scalar in INTS

    @property
    def is_vector(self) -> bool:
        return self.elem in VECTORS

    def with_kind(self, kind: str) -> "Ty":
        return Ty(self.elem, kind, dims=0 if kind == UNIFORM else self.dims)

    @property
    def is_volume(self) -> bool:
        return self.dims == 3

    def show(self) -> str:
        grid = "volume" if self.is_volume else "image"
        field_of = "volume field" if self.is_volume else "field"
        return {UNIFORM: self.elem, FIELD: f"{field_of} of {self.elem}", IMAGE: f"{grid}<{self.elem}>",
                TENSOR: f"tensor<{self.length}x{self.elem}>"}[self.kind]


def vector_name(scalar: str, lanes: int) -> str:
    """The element name for ``lanes`` lanes of ``scalar`` (``f32`` x 3 -> ``vec3``)."""
    if lanes == 1:
        return scalar
    for name, (s, n) in VECTORS.items():
        if s == scalar and n == lanes:
            return name
    raise KeyError(f"no {lanes}-lane vector of {scalar}")


def mlir_type(elem: str) -> Attribute:
    """The MLIR type of one element."""
    scalars = {"f32": f32, "f64": f64, "i32": i32, "i64": i64, "bool": i1}
    if elem in scalars:
        return scalars[elem]
    scalar, lanes = VECTORS[elem]
    return VectorType(mlir_type(scalar), [lanes])


def elem_of_mlir(t: Attribute) -> str:
    """The inverse of :func:`mlir_type`."""
    if isinstance(t, VectorType):
        return vector_name(elem_of_mlir(t.element_type), t.get_shape()[0])
    if t == f32:
        return "f32"
    if t == f64:
        return "f64"
    if isinstance(t, IntegerType):
        return {1: "bool", 64: "i64"}.get(t.width.data, "i32")
    raise KeyError(str(t))


def fits_f32(value: float) -> bool:
    """Whether ``value`` rounds to a finite f32 (FLT_MAX as printed, 3.4028235e38, does)."""
    import numpy as np

    try:
        value = float(value)  # an int beyond a double's range raises instead of giving inf
    except OverflowError:
        return False
    with np.errstate(over="ignore"):
        return bool(np.isfinite(np.float32(value)))


def fits_literal(value: float | int, elem: str) -> bool:
    """Whether a literal's value is representable as ``elem`` (f64: finite; i64: in range)."""
    if elem == "f32":
        return fits_f32(value)
    if elem == "f64":
        import math
        try:
            return math.isfinite(float(value))
        except OverflowError:  # an int beyond a double's range
            return False
    bits = 64 if elem == "i64" else 32
    return -(2 ** (bits - 1)) <= value < 2 ** (bits - 1)


def tensor_type(rank: int, fmt: "sparse_format.FormatAttr | None" = None, shape: Sequence[int] | None = None,
                elem: str = "f32") -> TensorType:
    """A tensor type of ``elem`` (``fmt`` None: dense). Dynamic sizes — any negative size given,
    or all of them without ``shape`` — are xDSL's ``DYNAMIC_INDEX``, the size that
    prints and parses back as ``?``."""
    dims = [DYNAMIC_INDEX if d < 0 else d for d in shape] if shape is not None else [DYNAMIC_INDEX] * rank
    return sparse_format.tensor_type(rank, fmt, dims, mlir_type(elem))
