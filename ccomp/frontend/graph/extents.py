"""Where fields are evaluated (mixed into the graph generator): the extent of a field
expression, and images for fields that must be materialised — over their extent, or
implicitly for neighbour reads.

A field is evaluated over the size of the first image it reads (not counting
``sample``, which reads by normalised coordinates); a field that reads no image
takes the graph's first image parameter (``default_extent``).
"""

from __future__ import annotations

from xdsl.dialects.builtin import UnitAttr
from xdsl.ir import SSAValue

from ccomp.dialects import graph
from ccomp.frontend import ast
from ccomp.frontend.types import FIELD, IMAGE, UNIFORM


class ExtentGen:
    """Extents and materialisation for :class:`ccomp.frontend.graph.irgen.GraphGen`."""

    def extent_of(self, e: ast.Expr) -> SSAValue | None:
        """The image whose size a field expression is evaluated over."""
        if isinstance(e, ast.Name):
            v = self.env.get(e.name)
            return v.extent if v is not None else None
        if isinstance(e, ast.Call) and e.func == "sample":
            return None
        if isinstance(e, ast.Call) and e.func == "capture":
            return self.extent_of(e.args[0]) or self.default_extent
        if (isinstance(e, ast.Call) and e.func == "resize") or isinstance(e, ast.Repeat) or (
                isinstance(e, ast.Member) and self.is_source(e)):
            v = self.source_or_uniform(e)  # an image of its own size: generate it to know it
            return v if isinstance(v.type, graph.AnyImageType) else None
        children: list[ast.Expr] = []
        if isinstance(e, ast.Binary):
            children = [e.lhs, e.rhs]
        elif isinstance(e, (ast.Unary,)):
            children = [e.operand]
        elif isinstance(e, ast.Member):
            children = [e.base]
        elif isinstance(e, ast.Index):
            children = [e.base]
        elif isinstance(e, ast.Call):
            children = list(e.args)
        for c in children:
            if self.types.type_of(c).kind != UNIFORM and (ext := self.extent_of(c)) is not None:
                return ext
        return None

    def sink_extent(self, e: ast.Expr) -> SSAValue:
        ext = self.extent_of(e) or self.default_extent
        if ext is None:
            raise self.fail(e, "cannot tell the size of this field: it reads no image and the graph has no image input")
        return ext

    def size_of(self, image: SSAValue, node: ast.Node) -> SSAValue:
        return self.top.at(node.pos.line, node.pos.col).add(graph.SizeOp(image))

    def image(self, e: ast.Expr) -> SSAValue:
        """A top-level image for ``e``: fields are captured over their extent."""
        t = self.types.type_of(e)
        v = self.gen(e, None)
        if t.kind == IMAGE:
            return v
        size = self.size_of(self.sink_extent(e), e)
        return self.top.at(e.pos.line, e.pos.col).add(graph.CaptureOp(v, size))

    def implicit_image(self, e: ast.Expr) -> SSAValue:
        """The image a neighbour read of ``e`` reads. A field is captured implicitly —
        once per field, so graph-fuse's cost rule sees all its neighbour reads — and
        marked so that graph-fuse may recompute it instead (the program never asked
        for this image)."""
        if self.types.type_of(e).kind != FIELD:
            return self.image(e)
        key = (self.gen(e, None), self.top.block)  # a zone's body gets captures of its own
        if key not in self.implicit:
            img = self.image(e)
            img.owner.implicit = UnitAttr()
            self.implicit[key] = img
        return self.implicit[key]
