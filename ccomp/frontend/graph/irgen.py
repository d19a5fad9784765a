"""IR generation: a checked ComputeNodes ``graph`` becomes an L1 ``func.func``.

Each ``let`` or ``return`` expression that is a field becomes one ``graph.map``
holding its whole pointwise expression tree; the names, blurs and captures it reads
become the map's inputs, uniforms are used directly from the enclosing function.
``graph-fuse`` later splices maps together. Every op carries the location of the
expression that produced it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, ModuleOp, StringAttr
from xdsl.ir import Block, Region, SSAValue

from ccomp.diagnostics import CompileError, Source, error_at
from ccomp.dialects import graph
from ccomp.frontend import ast, decls
from ccomp.frontend.blocks import StatementWalker
from ccomp.frontend.builtins import coerce
from ccomp.frontend.emit import Emitter
from ccomp.frontend.graph.typecheck import TypeChecker, swizzle_lanes
from ccomp.frontend.types import IMAGE, UNIFORM, Ty, mlir_type
from ccomp.frontend.graph.extents import ExtentGen
from ccomp.frontend.tensor.irgen import FnGen
from ccomp.frontend.graph.pointwise import PointwiseGen
from ccomp.frontend.graph.zones import ZoneGen


@dataclass
class Val:
    """A named value at the function's top level; ``extent`` is the image whose size
    a field is evaluated over (None: no image read, any extent)."""

    ty: Ty
    ssa: SSAValue
    extent: SSAValue | None
    fields: dict[str, "Val"] | None = None  # the states of a multi-state repeat zone


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


class GraphGen(ZoneGen, PointwiseGen, ExtentGen, StatementWalker):
    """Generates one ``graph`` declaration."""

    def __init__(self, decl: ast.GraphDecl, source: Source):
        self.decl, self.source = decl, source
        self.env: dict[str, Val] = {}
        self.tc = TypeChecker(lambda n: self.env[n].ty if n in self.env else None, self.fail, self.env.keys,
                              self.members)
        self.default_extent: SSAValue | None = None
        self.sources: dict[int, SSAValue] = {}
        self.implicit: dict[tuple, SSAValue] = {}  # (field, block) -> its implicit capture  # generated images/fields by expression, generated once

    def members(self, name: str) -> dict[str, Ty] | None:
        v = self.env.get(name)
        return {k: f.ty for k, f in v.fields.items()} if v is not None and v.fields else None

    def fail(self, node: ast.Node, message: str) -> CompileError:
        return error_at(self.source, node.pos.line, node.pos.col, message)

    # ----- declaration ------------------------------------------------------

    def generate(self) -> func.FuncOp:
        d = self.decl
        arg_types, arg_attrs = [], []
        for p in d.params:
            ty = self.param_type(p.type)
            arg_types.append(mlir_type(ty.elem) if ty.kind == UNIFORM else graph.ImageType(mlir_type(ty.elem)))
            attrs = {"graph.name": StringAttr(p.name)}
            if p.default is not None:
                attrs["graph.default"] = self.default_attr(p, ty)
            arg_attrs.append(DictionaryAttr(attrs))
        block = Block(arg_types=arg_types)
        self.top = Emitter(block, self.source.name)
        for p, arg in zip(d.params, block.args):
            ty = self.param_type(p.type)
            if p.name in self.env:
                raise self.fail(p, f"parameter '{p.name}' is declared twice")
            arg.name_hint = p.name
            self.env[p.name] = Val(ty, arg, arg if ty.kind == IMAGE else None)
            if ty.kind == IMAGE and self.default_extent is None:
                self.default_extent = arg
        results = [self.param_type(r.type) for r in d.results]
        names = self.result_names()
        outputs = self.body(d.body, results)
        ret = func.ReturnOp(*outputs)
        self.top.at(d.body.stmts[-1].pos.line, d.body.stmts[-1].pos.col).add(ret)
        res_types = [o.type for o in outputs]
        fn = func.FuncOp(d.name, (arg_types, res_types), Region(block), arg_attrs=ArrayAttr(arg_attrs))
        fn.attributes["graph.outputs"] = ArrayAttr([StringAttr(n) for n in names])
        self.top.at(d.pos.line, d.pos.col)
        fn.location = self.top.loc
        return fn

    def result_names(self) -> list[str]:
        return decls.result_names(self.decl, self.fail)

    def param_type(self, t: ast.TypeRef) -> Ty:
        return decls.param_type(t, self.fail)

    def default_attr(self, p: ast.Param, ty: Ty):
        return decls.default_attr(p, ty, self.fail)

    def let(self, stmt: ast.Let) -> None:
        if stmt.name in self.env:
            raise self.fail(stmt, f"'{stmt.name}' is already defined")
        ty = self.tc.type_of(stmt.value)
        v = self.gen(stmt.value, None)
        v.name_hint = stmt.name
        fields = None
        if isinstance(stmt.value, ast.Repeat) and len(stmt.value.states) > 1:
            states = self.tc.repeat_states(stmt.value)
            results = self.gen_repeat_results(stmt.value)
            fields = {n: Val(t, r, r if t.kind == IMAGE else None) for (n, t), r in zip(states, results)}
        self.env[stmt.name] = Val(ty, v, v if ty.kind == IMAGE else self.extent_of(stmt.value), fields)

    def gen_repeat_results(self, e: ast.Repeat) -> list[SSAValue]:
        first = self.sources.get(id(e))
        return list(first.owner.results) if first is not None else self.gen_repeat(e)

    def returns(self, stmt: ast.Return, results: list[Ty]) -> list[SSAValue]:
        if len(stmt.values) != len(results):
            raise self.fail(stmt, f"'{self.decl.name}' returns {len(results)} value"
                                  f"{'s' if len(results) != 1 else ''}, but {len(stmt.values)} given")
        outs = []
        for e, want in zip(stmt.values, results):
            got = self.tc.type_of(e)
            if want.kind == IMAGE:
                if got.kind == UNIFORM:
                    raise self.fail(e, f"expected {want.show()}, got {got.show()}")
                if got.elem != want.elem:
                    raise self.fail(e, f"expected {want.show()}, got {got.show()}")
                outs.append(self.image(e))
            else:
                if got.kind != UNIFORM:
                    raise self.fail(e, f"expected {want.show()}, got {got.show()}; reduce it with sum/mean/min/max")
                v = self.gen(e, None)
                if got.elem != want.elem:
                    if not (got.is_int and want.is_float and got.lanes == want.lanes):
                        raise self.fail(e, f"expected {want.elem}, got {got.elem}")
                    v = coerce(self.top.at(e.pos.line, e.pos.col), v, got, want.elem)
                outs.append(v)
        return outs

    # ----- expressions --------------------------------------------------------

    def is_source(self, e: ast.Expr) -> bool:
        """Field/image expressions that are values of their own rather than pointwise code."""
        if isinstance(e, ast.Name):
            return e.name in self.env
        if isinstance(e, ast.Member):
            return isinstance(e.base, ast.Name) and self.members(e.base.name) is not None
        return isinstance(e, ast.Repeat) or (isinstance(e, ast.Call) and e.func in ("blur", "capture", "resize"))

    def gen(self, e: ast.Expr, ctx: MapCtx | None) -> SSAValue:
        t = self.tc.type_of(e)
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
                v = self.gen_repeat(e)[0]
            elif e.func == "blur":
                inp = self.gen(e.args[0], None)
                v = self.top.at(e.pos.line, e.pos.col).add(graph.BlurOp(inp, e.args[1].value))
            elif e.func == "resize":
                v = self.gen_resize(e)
            else:
                v = self.image(e.args[0])
            self.sources[id(e)] = v
        return self.sources[id(e)]

    def build_map(self, e: ast.Expr) -> SSAValue:
        ctx = MapCtx(Emitter(Block(), self.source.name), self.extent_of(e) or self.default_extent)
        value = self.pointwise(e, ctx)
        ctx.em.at(e.pos.line, e.pos.col).add(graph.YieldOp(value))
        elem = self.tc.type_of(e).elem
        op = graph.MapOp(ctx.inputs, mlir_type(elem), Region(ctx.em.block))
        return self.top.at(e.pos.line, e.pos.col).add(op)

    def pointwise(self, e: ast.Expr, ctx: MapCtx | None) -> SSAValue:
        em = (ctx.em if ctx else self.top).at(e.pos.line, e.pos.col)
        t = self.tc.type_of(e)
        if isinstance(e, (ast.Number, ast.Bool)):
            return em.const(t, e.value)
        if isinstance(e, ast.Name):
            return self.coordinate(e, ctx)
        if isinstance(e, ast.Unary):
            v = self.gen(e.operand, ctx)
            em.at(e.pos.line, e.pos.col)
            return em.logical_not(v) if e.op == "!" else em.negate(v, t)
        if isinstance(e, ast.Binary):
            return self.binary(e, ctx, em)
        if isinstance(e, ast.Member):
            v = self.gen(e.base, ctx)
            lanes = swizzle_lanes(e.name)
            em.at(e.pos.line, e.pos.col)
            return em.extract(v, lanes[0]) if len(lanes) == 1 else em.shuffle(v, lanes)
        if isinstance(e, ast.Index):
            img = self.implicit_image(e.base)
            ix, iy = (self.gen(i, ctx) for i in e.indices)
            return em.at(e.pos.line, e.pos.col).add(graph.LoadOp(img, ix, iy))
        assert isinstance(e, ast.Call)
        return self.call(e, ctx, em)


def generate(program: ast.Program, source: Source) -> ModuleOp:
    """Lower a checked program to an L1 module with one ``func.func`` per graph or fn."""
    if not program.decls:
        raise error_at(source, 1, 1, "the program declares no graph")
    funcs = []
    seen: set[str] = set()
    for decl in program.decls:
        if decl.name in seen:
            raise error_at(source, decl.pos.line, decl.pos.col, f"'{decl.name}' is declared twice")
        seen.add(decl.name)
        if decl.kind == "fn":  # tensor programs: the sparse dialect (ccomp.frontend.tensor.irgen)
            funcs.append(FnGen(decl, source).generate())
        else:
            funcs.append(GraphGen(decl, source).generate())
    return ModuleOp(funcs)
