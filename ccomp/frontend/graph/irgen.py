"""IR generation: a checked ComputeNodes ``graph`` becomes an L1 ``func.func``.

Each ``let`` or ``return`` expression that is a field becomes one ``graph.map``
holding its whole pointwise expression tree; the names, blurs and captures it reads
become the map's inputs, uniforms are used directly from the enclosing function.
``graph-fuse`` later splices maps together. Every op carries the location of the
expression that produced it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xdsl.dialects.builtin import TensorType
from xdsl.ir import Attribute, Block, Region, SSAValue

from ccomp.diagnostics import Source
from ccomp.dialects import graph
from ccomp.frontend import ast, decls
from ccomp.frontend.builtins import coerce
from ccomp.frontend.emit import Emitter
from ccomp.frontend.graph.extents import ExtentGen
from ccomp.frontend.graph.pointwise import PointwiseGen
from ccomp.frontend.graph.typecheck import TypeChecker
from ccomp.frontend.graph.zones import ZoneGen
from ccomp.frontend.irgen import FunctionGen, Val, at
from ccomp.frontend.types import IMAGE, TENSOR, UNIFORM, Ty, mlir_type


@dataclass
class MapCtx:
    """A ``graph.map`` body under construction."""

    em: Emitter
    extent: SSAValue | None
    inputs: list[SSAValue] = field(default_factory=list)
    args: dict[SSAValue, SSAValue] = field(default_factory=dict)

    def arg(self, value: SSAValue) -> SSAValue:
        if value not in self.args:
            self.inputs.append(value)
            self.args[value] = self.em.block.insert_arg(graph.element_of(value.type), len(self.em.block.args))
        return self.args[value]


class GraphGen(ZoneGen, PointwiseGen, ExtentGen, FunctionGen[Ty]):
    """Generates one ``graph`` declaration."""

    RESULTS = "outputs"

    def __init__(self, decl: ast.GraphDecl, source: Source):
        super().__init__(decl, source)
        self.default_extent: SSAValue | None = None  # the first image parameter
        self.sources: dict[int, SSAValue] = {}  # generated images/fields by expression, generated once
        self.implicit: dict[tuple, SSAValue] = {}  # (field, block) -> its implicit capture

    def checker(self) -> TypeChecker:
        return TypeChecker(self.lookup, self.fail, self.env.keys, self.members)

    # ----- declaration ------------------------------------------------------

    def port_type(self, t: ast.TypeRef) -> Ty:
        return decls.param_type(t, self.fail)

    def result_type(self, r: ast.Result) -> Ty:
        """Results may also be histograms (``tensor<16xi32>``), which no parameter is."""
        if r.type.name == "tensor":
            return decls.graph_tensor_type(r.type, self.fail)
        return self.port_type(r.type)

    def result_shapes(self, decls_, results, outputs):
        """A histogram's size is its bins; an image's is static where the program fixes
        it (:mod:`ccomp.frontend.graph.result_sizes`)."""
        from ccomp.frontend.graph.result_sizes import extent_shape

        return [(t.length,) if t.kind == TENSOR else extent_shape(v) if t.kind == IMAGE else None
                for t, v in zip(results, outputs)]

    def ir_type(self, t: Ty) -> Attribute:
        if t.kind == TENSOR:
            return TensorType(mlir_type(t.elem), [t.length])
        return mlir_type(t.elem) if t.kind == UNIFORM else graph.image_type(mlir_type(t.elem), 3 if t.is_volume else 2)

    def val(self, ty: Ty, ssa: SSAValue, expr: ast.Expr | None = None, fields: dict[str, Val] | None = None) -> Val:
        """An image is its own extent; a field's is that of the expression it came from."""
        if ty.kind == IMAGE:
            return Val(ty, ssa, ssa, fields)
        if ty.kind == TENSOR:  # a histogram has no extent
            return Val(ty, ssa, None, fields)
        return Val(ty, ssa, self.extent_of(expr) if expr is not None else None, fields)

    def bind_param(self, p: ast.Param, ty: Ty, arg: SSAValue) -> None:
        super().bind_param(p, ty, arg)
        if ty.kind == IMAGE and self.default_extent is None:
            self.default_extent = arg

    def value(self, e: ast.Expr) -> SSAValue:
        return self.gen(e, None)

    def result_value(self, e: ast.Expr, want: Ty) -> SSAValue:
        if want.kind == UNIFORM:  # return 0.1 for an f64 result returns the double 0.1
            self.types.seed_literal(e, want.elem)
        got = self.types.type_of(e)
        if TENSOR in (want.kind, got.kind):
            if got != want:
                raise self.fail(e, f"expected {want.show()}, got {got.show()}")
            return self.value(e)
        if want.kind == IMAGE:
            if got.kind == UNIFORM or got.elem != want.elem or (got.dims and got.dims != want.dims):
                raise self.fail(e, f"expected {want.show()}, got {got.show()}")
            return self.grid_checked(self.image(e), e, want)
        if got.kind != UNIFORM:
            raise self.fail(e, f"expected {want.show()}, got {got.show()}; reduce it with sum/mean/min/max")
        return self.scalar_result(e, got, want)

    # ----- expressions --------------------------------------------------------

    def is_source(self, e: ast.Expr) -> bool:
        """Field/image expressions that are values of their own rather than pointwise code."""
        if isinstance(e, ast.Name):
            return e.name in self.env
        if isinstance(e, ast.Member):
            return isinstance(e.base, ast.Name) and self.members(e.base.name) is not None
        return isinstance(e, ast.Repeat) or (
            isinstance(e, ast.Call) and e.func in ("blur", "capture", "resize", "histogram"))

    def gen(self, e: ast.Expr, ctx: MapCtx | None) -> SSAValue:
        t = self.types.type_of(e)
        if ctx is None:
            if t.kind == UNIFORM or self.is_source(e):
                return self.source_or_uniform(e)
            return self.build_map(e)
        if t.kind == UNIFORM:
            return self.gen(e, None)
        if self.is_source(e):
            return ctx.arg(self.source_or_uniform(e))
        return self.pointwise(e, ctx)

    def source_or_uniform(self, e: ast.Expr) -> SSAValue:
        if isinstance(e, ast.Name) and e.name in self.env:
            return self.env[e.name].ssa
        if isinstance(e, ast.Member) and self.is_source(e):
            return self.env[e.base.name].fields[e.name].ssa
        if not self.is_source(e):
            return self.pointwise(e, None)
        if id(e) not in self.sources:
            if isinstance(e, ast.Repeat):
                v = self.repeat(e)[0]
            elif e.func == "blur":
                inp = self.gen(e.args[0], None)
                v = at(self.top, e).add(graph.BlurOp(inp, e.args[1].value))
            elif e.func == "resize":
                v = self.gen_resize(e)
            elif e.func == "histogram":
                v = self.gen_histogram(e)
            else:
                v = self.image(e.args[0])
            self.sources[id(e)] = v
        return self.sources[id(e)]

    def gen_histogram(self, e: ast.Call) -> SSAValue:
        """``graph.histogram`` of the field over its extent, as a reduction is; an i32
        ``lo``/``hi`` is converted to f32 once."""
        values = self.gen(e.args[0], None)
        size = self.size_of(self.sink_extent(e.args[0]), e)
        lo, hi = (coerce(at(self.top, a), self.gen(a, None), self.types.type_of(a), "f32") for a in e.args[2:])
        return at(self.top, e).add(graph.HistogramOp(values, size, lo, hi, e.args[1].value))

    def build_map(self, e: ast.Expr) -> SSAValue:
        ctx = MapCtx(Emitter(Block(), self.source.name), self.extent_of(e) or self.default_extent)
        rank = graph.rank_of(ctx.extent.type) if ctx.extent is not None else 2
        if self.types.type_of(e).is_volume and rank != 3:
            raise self.fail(e, "cannot tell the size of this volume field: it reads no volume "
                               "and the graph's first image input is not a volume")
        value = self.pointwise(e, ctx)
        at(ctx.em, e).add(graph.YieldOp(value))
        elem = self.types.type_of(e).elem
        op = graph.MapOp(ctx.inputs, mlir_type(elem), Region(ctx.em.block), rank)
        return at(self.top, e).add(op)

