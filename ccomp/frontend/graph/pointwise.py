"""Per-element code generation (mixed into the graph generator): literals,
coordinates and ``uv``, arithmetic with its implicit conversions, swizzles, neighbour
reads and calls of node functions.

Each method emits into the current ``graph.map`` body (``ctx``) or, for uniforms,
at the top level; the arguments of a node function are generated first, then the
builtin's expansion from :mod:`ccomp.frontend.builtins`. :attr:`PointwiseGen.POINTWISE`
maps each AST class to its method, like the type checkers' tables.
"""

from __future__ import annotations

from xdsl.ir import SSAValue

from ccomp.dialects import graph
from ccomp.frontend import ast
from ccomp.frontend.builtins import BUILTINS, coerce, unify
from ccomp.frontend.emit import Emitter
from ccomp.frontend.graph.typecheck import REDUCTIONS, swizzle_lanes
from ccomp.frontend.irgen import at
from ccomp.frontend.typecheck import ARITH_OPS, CMP_OPS
from ccomp.frontend.types import UNIFORM, Ty


class PointwiseGen:
    """Expressions evaluated per element, for :class:`ccomp.frontend.graph.irgen.GraphGen`."""

    def pointwise(self, e: ast.Expr, ctx) -> SSAValue:
        """``e`` as per-element code in ``ctx`` (None: a uniform at the top level)."""
        em = at(ctx.em if ctx else self.top, e)
        self.types.type_of(e)
        return self.POINTWISE[type(e)](self, e, ctx, em)

    def literal(self, e: ast.Number | ast.Bool, ctx, em: Emitter) -> SSAValue:
        return em.const(self.types.type_of(e), e.value)

    def coordinate(self, e: ast.Name, ctx, em: Emitter) -> SSAValue:
        assert ctx is not None, "coordinates are fields"
        if e.name in ("x", "y", "z"):
            return em.add(graph.CoordOp("xyz".index(e.name)))
        # uv: the element's centre in normalised coordinates, (x + 0.5) / width; over a
        # volume its (x, y) part; uvw: a volume element's (x, y, z) centre
        if ctx.extent is None:
            raise self.fail(e, f"cannot tell the size '{e.name}' is relative to: the graph has no image input")
        rank = graph.rank_of(ctx.extent.type)
        axes = 3 if e.name == "uvw" else 2
        if axes > rank:
            raise self.fail(e, "'uvw' is the normalised coordinate of a volume's element, but this expression "
                               "is evaluated over an image; use 'uv'")
        top = at(self.top, e)
        vf = Ty(f"vec{axes}")
        sizef = coerce(top, top.add(graph.SizeOp(ctx.extent)), Ty(f"ivec{rank}"), f"vec{rank}")  # uniform
        if axes < rank:
            sizef = top.shuffle(sizef, list(range(axes)))
        xy = em.build([em.convert(em.add(graph.CoordOp(d)), Ty("i32"), "f32") for d in range(axes)], vf)
        centre = em.binary("+", xy, em.const(vf, 0.5), vf)
        return em.binary("/", centre, sizef, vf)

    def unary(self, e: ast.Unary, ctx, em: Emitter) -> SSAValue:
        v = self.gen(e.operand, ctx)
        at(em, e)
        return em.logical_not(v) if e.op == "!" else em.negate(v, self.types.type_of(e))

    def swizzle(self, e: ast.Member, ctx, em: Emitter) -> SSAValue:
        v = self.gen(e.base, ctx)
        lanes = swizzle_lanes(e.name)
        at(em, e)
        return em.extract(v, lanes[0]) if len(lanes) == 1 else em.shuffle(v, lanes)

    def neighbour(self, e: ast.Index, ctx, em: Emitter) -> SSAValue:
        img = self.implicit_image(e.base)
        coords = [self.gen(i, ctx) for i in e.indices]  # (x, y) or (x, y, z)
        return at(em, e).add(graph.LoadOp(img, *coords))

    def binary(self, e: ast.Binary, ctx, em: Emitter) -> SSAValue:
        a, b = self.gen(e.lhs, ctx), self.gen(e.rhs, ctx)
        ta, tb = self.types.type_of(e.lhs), self.types.type_of(e.rhs)
        at(em, e)
        if e.op in ("&&", "||"):
            return em.binary(e.op, a, b, Ty("i32"))
        elem = Ty(self.types.type_of(e).elem) if e.op in ARITH_OPS else None
        if e.op in CMP_OPS:
            elem = Ty(unify([ta, tb], lambda m: self.fail(e, m)))
        # a uniform operand is converted once, at the top level, not per element
        top = at(self.top, e)
        a = coerce(top if ta.kind == UNIFORM else em, a, ta, elem.elem)
        b = coerce(top if tb.kind == UNIFORM else em, b, tb, elem.elem)
        if e.op in CMP_OPS:
            return em.compare(e.op, a, b, elem)
        return em.binary(e.op, a, b, elem)

    def call(self, e: ast.Call, ctx, em: Emitter) -> SSAValue:
        if e.func in REDUCTIONS and len(e.args) == 1:
            field_val = self.gen(e.args[0], None)
            size = self.size_of(self.sink_extent(e.args[0]), e)
            return at(self.top, e).add(graph.ReduceOp(REDUCTIONS[e.func], field_val, size))
        if e.func == "size":
            return self.size_of(self.image(e.args[0]), e)
        if e.func == "sample":
            img = self.image(e.args[0])
            uv = self.gen(e.args[1], ctx)
            return at(em, e).add(graph.SampleOp(img, uv))
        vals = [self.gen(a, ctx) for a in e.args]
        tys = [self.types.type_of(a) for a in e.args]
        operand = self.types.operand_elem(e)
        return BUILTINS[e.func].emit(at(em, e), vals, tys, operand)

    #: AST class -> the method generating it per element.
    POINTWISE = {ast.Number: literal, ast.Bool: literal, ast.Name: coordinate, ast.Unary: unary,
                 ast.Binary: binary, ast.Member: swizzle, ast.Index: neighbour, ast.Call: call}

