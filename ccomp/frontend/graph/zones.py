"""IR generation for repeat zones and resizing (mixed into the graph generator).

``repeat N (s = init, ...) { let ...; yield e, ... }`` becomes ``loop.repeat``: the
body is generated into the loop's block with the states and ``iteration`` in
scope; image state is materialised at ``yield`` over the yielded expression's own
extent, so state may change size from one iteration to the next. With one state
the zone's value is that state; with several, ``r.name`` reads state ``name`` of a
zone bound by ``let r = repeat ...``.

``resize(img, size)`` is a bilinear resample: a map sampling ``img`` at each new
element's centre, captured over ``size`` (each side at least 1).
"""

from __future__ import annotations

from xdsl.ir import Block, Region, SSAValue

from ccomp.dialects import graph, loop
from ccomp.frontend import ast
from ccomp.frontend.builtins import coerce
from ccomp.frontend.emit import Emitter
from ccomp.frontend.types import IMAGE, UNIFORM, Ty, mlir_type


class ZoneGen:
    """Repeat zones and resize for :class:`ccomp.frontend.graph.irgen.GraphGen`."""

    def gen_repeat(self, e: ast.Repeat) -> list[SSAValue]:
        states = self.tc.repeat_states(e)
        count = self.gen(e.count, None)
        inits = []
        for st, (_, ty) in zip(e.states, states):
            v = self.image(st.init) if ty.kind == IMAGE else self.gen(st.init, None)
            inits.append(v)
        body = Block(arg_types=[mlir_type("i32")] + [v.type for v in inits])
        outer_top, outer_env = self.top, dict(self.env)
        self.top = Emitter(body, self.source.name)
        from ccomp.frontend.graph.irgen import Val
        body.args[0].name_hint = "iteration"
        self.env["iteration"] = Val(Ty("i32"), body.args[0], None)
        for (name, ty), arg in zip(states, body.args[1:]):
            arg.name_hint = name
            self.env[name] = Val(ty, arg, arg if ty.kind == IMAGE else None)
        try:
            yields = self.zone_body(e, states)
            self.top.at(e.body.stmts[-1].pos.line, e.body.stmts[-1].pos.col).add(loop.YieldOp(yields))
        finally:
            self.top = outer_top
            self.env.clear()
            self.env.update(outer_env)
        op = loop.RepeatOp(count, inits, Region(body))
        self.top.at(e.pos.line, e.pos.col).add(op)
        return list(op.res)

    def zone_yield(self, stmt: ast.Yield, states: list[tuple[str, Ty]]) -> list[SSAValue]:
        if len(stmt.values) != len(states):
            raise self.fail(stmt, f"the repeat zone has {len(states)} state{'s' if len(states) != 1 else ''} "
                                  f"({', '.join(n for n, _ in states)}), but 'yield' gives {len(stmt.values)}")
        out = []
        for value, (name, want) in zip(stmt.values, states):
            got = self.tc.type_of(value)
            if (got.kind == UNIFORM) != (want.kind == UNIFORM) or (got.elem != want.elem and not (
                    got.is_int and want.is_float and got.lanes == want.lanes and want.kind == UNIFORM)):
                raise self.fail(value, f"state '{name}' is {want.show()}, but this is {got.show()}")
            if want.kind == IMAGE:
                out.append(self.image(value))
            else:
                v = self.gen(value, None)
                out.append(coerce(self.top.at(value.pos.line, value.pos.col), v, got, want.elem))
        return out

    def gen_resize(self, e: ast.Call) -> SSAValue:
        src = self.image(e.args[0])
        top = self.top.at(e.pos.line, e.pos.col)
        # an image is at least 1x1: halving a 1-pixel level keeps one pixel
        size = top.binary("max", self.gen(e.args[1], None), top.const(Ty("ivec2"), 1), Ty("ivec2"))
        sizef = coerce(top, size, Ty("ivec2"), "vec2")
        em = Emitter(Block(), self.source.name).at(e.pos.line, e.pos.col)
        vf = Ty("vec2")
        xy = em.build([em.convert(em.add(graph.CoordOp(d)), Ty("i32"), "f32") for d in (0, 1)], vf)
        uv = em.binary("/", em.binary("+", xy, em.const(vf, 0.5), vf), sizef, vf)
        em.add(graph.YieldOp(em.add(graph.SampleOp(src, uv))))
        field = top.add(graph.MapOp([], src.type.element, Region(em.block)))
        return top.add(graph.CaptureOp(field, size))
