"""Type inference for ``graph`` programs, with located errors.

A value in a graph has an element type and a kind (:mod:`ccomp.frontend.types`): a
uniform (computed once), a field (per element) or an image. Types are known before any
IR is built, so the generator knows for every sub-expression which of the three it is
and where a field's extent comes from. The rules every kind shares live in
:class:`ccomp.frontend.typecheck.ExprChecker`.
"""

from __future__ import annotations

from ccomp.frontend import ast
from ccomp.frontend.builtins import BUILTINS, result_elem
from ccomp.frontend.typecheck import ExprChecker, did_you_mean
from ccomp.frontend.types import FIELD, IMAGE, IMAGE_ELEMENTS, SWIZZLE_SETS, TENSOR, UNIFORM, Ty, vector_name

REDUCTIONS = {"sum": "add", "mean": "mean", "min": "min", "max": "max"}
COORDS = {"x": Ty("i32", FIELD), "y": Ty("i32", FIELD), "z": Ty("i32", FIELD, dims=3), "uv": Ty("vec2", FIELD),
          "uvw": Ty("vec3", FIELD, dims=3)}
FUNCTIONS = ("blur", "capture", "size", "sample", "histogram", *REDUCTIONS)  # node functions beside BUILTINS
NOT_YET: dict[str, str] = {}
MAX_BLUR_RADIUS = 16  # graph-fuse unrolls a blur into (2r+1)^2 reads; keep kernels compilable
MAX_BLUR_RADIUS_3D = 4  # in a volume, (2r+1)^3: 729 reads at radius 4
MAX_BINS = 1 << 20  # histogram() bins: a buffer of this many counters is still small


def operands_of(e: ast.Expr) -> list[ast.Expr]:
    """The sub-expressions ``e`` computes with (a repeat zone's count and initial states)."""
    if isinstance(e, ast.Repeat):
        return [e.count, *(st.init for st in e.states)]
    found: list[ast.Expr] = []
    for value in vars(e).values():
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, ast.Expr):
                found.append(item)
    return found


def tensor_free(rule):
    """Wrap a typing rule so that no operand is a histogram: a graph's only tensors are
    what ``histogram()`` returns, which it may bind with ``let`` and return, nothing more.
    Only names and calls can be tensors, so literals stay untyped until their rule
    decides (64-bit literals are seeded by their context)."""
    def checked(self: "TypeChecker", e: ast.Expr) -> Ty:
        for operand in operands_of(e):
            if isinstance(operand, (ast.Name, ast.Call)) and self.type_of(operand).kind == TENSOR:
                t = self.type_of(operand)
                raise self.fail(operand, f"a histogram ({t.show()}) can only be returned from the graph, "
                                         f"not computed with")
        return rule(self, e)
    return checked


def join_kind(*tys: Ty) -> str:
    kinds = {t.kind for t in tys}
    return FIELD if (FIELD in kinds or IMAGE in kinds) else UNIFORM


def swizzle_lanes(name: str) -> list[int] | None:
    for letters in SWIZZLE_SETS:
        if all(ch in letters for ch in name):
            return [letters.index(ch) for ch in name]
    return None


class TypeChecker(ExprChecker[Ty]):
    """Types the expressions of one graph."""

    PROGRAMS = "graphs"

    def name(self, e: ast.Name) -> Ty:
        t = self.lookup(e.name)
        if t is None:
            t = COORDS.get(e.name)
        if t is None:
            raise self.fail(e, f"unknown name '{e.name}'" + did_you_mean(e.name, [*self.names(), *COORDS]))
        return t

    def binary(self, e: ast.Binary) -> Ty:
        a, b = self.operand_types([e.lhs, e.rhs])
        if e.op == "@":
            raise self.fail(e, "'@' is the matrix product of tensors; graphs have no tensors")
        return Ty(self.scalar_binary(e, a, b), join_kind(a, b), dims=self.grid_of(e, a, b))

    def unary(self, e: ast.Unary) -> Ty:
        t = self.type_of(e.operand)
        if e.op == "!":
            if t.elem != "bool":
                raise self.fail(e, f"'!' expects a bool, got {t.elem}")
            return t
        if t.scalar == "bool":
            raise self.fail(e, "cannot negate a bool")
        return t.with_kind(join_kind(t))

    def member(self, e: ast.Member) -> Ty:
        state = self.zone_state(e)
        if state is not None:
            return state
        base = self.type_of(e.base)
        lanes = swizzle_lanes(e.name)
        if not base.is_vector:
            raise self.fail(e, f"'.{e.name}' needs a vector, but this is {base.elem}")
        if lanes is None or len(lanes) > 4 or max(lanes) >= base.lanes:
            raise self.fail(e, f"{base.elem} has no component '.{e.name}'")
        try:
            return Ty(vector_name(base.scalar, len(lanes)), join_kind(base), dims=base.dims)
        except KeyError:
            raise self.fail(e, f"'.{e.name}' would make a {len(lanes)}-lane vector of {base.scalar}, "
                               f"which the language does not have") from None

    def index(self, e: ast.Index) -> Ty:
        base = self.type_of(e.base)
        if base.kind == UNIFORM:
            raise self.fail(e, f"only images and fields can be indexed, this is {base.elem}")
        if base.is_volume and len(e.indices) != 3:
            raise self.fail(e, f"a volume is indexed with [x, y, z], got {len(e.indices)} indices")
        if not base.is_volume and len(e.indices) != 2:
            raise self.fail(e, f"an image is indexed with [x, y], got {len(e.indices)} indices")
        for i in e.indices:
            t = self.type_of(i)
            if t.elem != "i32":
                raise self.fail(i, f"image indices must be i32, got {t.elem}")
        return Ty(base.elem, FIELD, dims=self.grid_of(e, base, *(self.type_of(i) for i in e.indices)))

    def storage_format(self, e: ast.Format) -> Ty:
        raise self.fail(e, f"a storage format such as {e.name}(...) belongs to fn programs (the second "
                           f"argument of to()), not graphs")

    RULES = {**ExprChecker.RULES, ast.Name: name, ast.Format: storage_format,
             **{cls: tensor_free(rule) for cls, rule in (
                 (ast.Binary, binary), (ast.Unary, unary), (ast.Member, member), (ast.Index, index),
                 (ast.Call, ExprChecker.call), (ast.Repeat, ExprChecker.repeat))}}

    # ----- calls: node functions by name, then the pointwise builtins -------------

    def call_of(self, e: ast.Call) -> Ty:
        name = e.func
        if name in ("f64", "i64") and len(e.args) == 1:  # f64(0.1) is the double nearest 0.1
            self.seed_literal(e.args[0], name)
        tys = self.operand_types(e.args) if name in BUILTINS else [self.type_of(a) for a in e.args]
        if name in NOT_YET:
            raise self.fail(e, f"{name}() is not supported yet by this version of ccomp")
        if name in REDUCTIONS and len(tys) == 1:
            self.not_uniform(e, tys[0], "of one argument reduces an image or field")
            if tys[0].scalar == "bool":
                raise self.fail(e, f"cannot reduce bools with {name}()")
            return Ty(tys[0].elem, UNIFORM)
        node_function = self.NODE_FUNCTIONS.get(name)
        if node_function is not None:
            return node_function(self, e, tys)
        if name in REDUCTIONS and name not in BUILTINS:
            raise self.fail(e, f"{name}() takes 1 argument (an image or field), got {len(tys)}")
        if name not in BUILTINS:
            raise self.fail(e, f"unknown function '{name}'" + did_you_mean(name, [*BUILTINS, *FUNCTIONS]))
        operand = result_elem(name, tys, lambda m: self.fail(e, m))
        elem = "f32" if name in ("dot", "length") else operand
        return Ty(elem, join_kind(*tys), dims=self.grid_of(e, *tys))

    def blur(self, e: ast.Call, tys: list[Ty]) -> Ty:
        self.arity(e, 2)
        self.not_uniform(e, tys[0], "expects an image or field")
        radius = e.args[1]
        if not isinstance(radius, ast.Number) or radius.is_float or radius.value < 0:
            raise self.fail(radius, "blur() radius must be a non-negative integer literal")
        if radius.value > MAX_BLUR_RADIUS:
            raise self.fail(radius, f"blur() radius must be at most {MAX_BLUR_RADIUS}")
        if tys[0].is_volume and radius.value > MAX_BLUR_RADIUS_3D:
            raise self.fail(radius, f"blur() radius of a volume must be at most {MAX_BLUR_RADIUS_3D} "
                                    f"(a (2r+1)^3 window is unrolled)")
        if tys[0].scalar != "f32":
            raise self.fail(e, f"blur() expects float elements, got {tys[0].elem}")
        return Ty(tys[0].elem, FIELD, dims=tys[0].dims)

    def capture(self, e: ast.Call, tys: list[Ty]) -> Ty:
        self.arity(e, 1)
        self.not_uniform(e, tys[0], "materialises a field")
        self.image_element(e, tys[0])
        return Ty(tys[0].elem, IMAGE, dims=tys[0].dims)

    def size(self, e: ast.Call, tys: list[Ty]) -> Ty:
        self.arity(e, 1)
        self.not_uniform(e, tys[0], "expects an image")
        return Ty("ivec3" if tys[0].is_volume else "ivec2", UNIFORM)

    def resize(self, e: ast.Call, tys: list[Ty]) -> Ty:
        self.arity(e, 2)
        if tys[0].kind == UNIFORM or tys[0].scalar != "f32":
            raise self.fail(e, f"resize() expects an image of floats first, got {tys[0].show()}")
        want = "ivec3" if tys[0].is_volume else "ivec2"  # a volume is resized in 3-D (trilinear)
        if tys[1].elem != want or tys[1].kind != UNIFORM:
            of = " of a volume" if tys[0].is_volume else ""
            raise self.fail(e.args[1], f"resize(){of} takes the new size as size(...) arithmetic"
                                       f"{' (an ivec3)' if of else ''}, got {tys[1].show()}")
        return Ty(tys[0].elem, IMAGE, dims=tys[0].dims)

    def sample(self, e: ast.Call, tys: list[Ty]) -> Ty:
        self.arity(e, 2)
        self.not_uniform(e, tys[0], "expects an image first")
        # A volume is read at vec3 (u, v, w), an image at vec2; the result lives on the
        # coordinates' grid (a volume may be read by a 2-D graph: sample(v, vec3(uv, d))).
        want, grid = ("vec3", "a volume") if tys[0].is_volume else ("vec2", "an image")
        if tys[1].elem != want:
            raise self.fail(e.args[1], f"sample() of {grid} takes {want} coordinates, got {tys[1].elem}")
        return Ty(tys[0].elem, FIELD, dims=tys[1].dims)

    def histogram(self, e: ast.Call, tys: list[Ty]) -> Ty:
        """``histogram(img, bins, lo, hi)``: counts of an f32 image's or field's values in
        ``bins`` (a literal: the result's static length) equal bins of ``[lo, hi]``."""
        self.arity(e, 4)
        self.not_uniform(e, tys[0], "counts the values of an image or field")
        if tys[0].elem != "f32":
            hint = "; pick one component, as in img.x" if tys[0].is_vector else ""
            raise self.fail(e.args[0], f"histogram() counts f32 values, got {tys[0].show()}{hint}")
        bins = e.args[1]
        if not isinstance(bins, ast.Number) or bins.is_float or bins.value < 1:
            raise self.fail(bins, "histogram() bins must be a positive integer literal, as in histogram(img, 16, 0.0, 1.0)")
        if bins.value > MAX_BINS:
            raise self.fail(bins, f"histogram() bins must be at most {MAX_BINS}")
        for arg, t, what in ((e.args[2], tys[2], "lo"), (e.args[3], tys[3], "hi")):
            if t.kind != UNIFORM or t.elem not in ("f32", "i32"):
                raise self.fail(arg, f"histogram() {what} must be an f32 value (one for the whole image), "
                                     f"got {t.show()}")
        return Ty("i32", TENSOR, bins.value)

    #: The node functions (beside reductions and the pointwise builtins) -> their rule.
    NODE_FUNCTIONS = {"blur": blur, "capture": capture, "size": size, "resize": resize, "sample": sample,
                      "histogram": histogram}

    def operand_elem(self, e: ast.Call) -> str:
        """The element a pointwise builtin converts its arguments to."""
        tys = [self.type_of(a) for a in e.args]
        return BUILTINS[e.func].check(tys, lambda m: self.fail(e, m))

    # ----- repeat zones and helpers ---------------------------------------------------

    def is_count(self, t: Ty) -> bool:
        return t.elem == "i32" and t.kind == UNIFORM

    def state_type(self, st: ast.StateInit, t: Ty) -> Ty:
        """Image state is always an image: a field initialiser is materialised."""
        if t.kind == UNIFORM:
            return t
        if t.kind == TENSOR:
            raise self.fail(st.init, f"a histogram ({t.show()}) cannot be the state of a repeat zone")
        self.image_element(st.init, t)
        return t.with_kind(IMAGE)

    def not_uniform(self, e: ast.Call, t: Ty, what: str) -> None:
        """An image or field argument is required: ``blur() expects an image or field, got f32``."""
        if t.kind == UNIFORM:
            raise self.fail(e, f"{e.func}() {what}, got {t.elem}")

    def grid_of(self, e: ast.Expr, *tys: Ty) -> int:
        """The grid a pointwise expression over ``tys`` lives on: 3 if it reads a volume
        (or ``z``), 2 if an image, 0 if neither; reading both is an error, since an
        element of one is not an element of the other."""
        dims = {t.dims for t in tys if t.kind != UNIFORM and t.dims}
        if len(dims) > 1:
            raise self.fail(e, "cannot combine a volume (3-D) with an image (2-D) element by element; "
                               "'z', 'uvw' and volume reads belong to volume expressions")
        return dims.pop() if dims else 0

    def image_element(self, node: ast.Node, t: Ty) -> None:
        if t.elem not in IMAGE_ELEMENTS:
            raise self.fail(node, f"images of {t.elem} cannot be stored; convert to f32 or i32 first")
