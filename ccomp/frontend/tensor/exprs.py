"""Elementwise tensor expressions of a ``fn``: one ``sparse.elementwise`` per tree.

A maximal tree of elementwise nodes — ``+ - * / %``, unary ``-`` and the f32
pointwise builtins (``sqrt``, ``max``, ``clamp``...) with at least one tensor operand
— becomes ONE ``sparse.elementwise`` op, whose body computes one result element
with plain ``arith``/``math`` ops (the builtins expand exactly as in graphs). The
tree's leaves become the op's inputs, deduplicated, in order of first use:

- tensor-valued leaves (names, ``A @ v``, ``fill``, ``to``, repeat zones...) are
  generated before the op; a *sparse* leaf is converted to dense with
  ``sparse.convert`` first, because ``elementwise`` reads every element,
  implicit zeros included (``A * 2.0`` is dense even when ``A`` is csr);
- scalar leaves that are not constant (parameters, lets, ``rows(A)``, reductions,
  scalar arithmetic on those) are computed once before the op, as plain arith, and
  converted to ``f32`` there;
- constant scalars (literals and arithmetic on literals) are built inside the body,
  which is ``IsolatedFromAbove`` and so cannot use a value defined outside.

Shapes broadcast NumPy-style; the result's static shape is the one type inference
computed (:func:`ccomp.frontend.tensor.typecheck.broadcast`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xdsl.dialects.builtin import TensorType, f32
from xdsl.ir import Block, Region, SSAValue

from ccomp.dialects import sparse
from ccomp.frontend import ast
from ccomp.frontend.builtins import BUILTINS, coerce
from ccomp.frontend.emit import Emitter
from ccomp.frontend.irgen import at
from ccomp.frontend.tensor.typecheck import is_tensor, rank
from ccomp.frontend.types import Ty, tensor_type

if TYPE_CHECKING:  # pragma: no cover
    from ccomp.frontend.tensor.irgen import FnGen

F32 = Ty("f32")


class Elementwise:
    """One ``sparse.elementwise`` under construction, for the tree rooted at ``root``."""

    def __init__(self, gen: "FnGen", root: ast.Expr):
        self.gen, self.root = gen, root
        self.em = Emitter(Block(), gen.source.name)
        self.inputs: list[SSAValue] = []
        self.args: dict[SSAValue, SSAValue] = {}

    def build(self) -> SSAValue:
        """Generate the leaves (before the op, at the current top level), the body, and
        the op itself; returns the dense result tensor."""
        value = self.element(self.root)
        at(self.em, self.root).add(sparse.YieldOp(value))
        result = self.gen.types.type_of(self.root)
        assert isinstance(result, TensorType)
        op = sparse.ElementwiseOp(self.inputs, result, Region(self.em.block))
        return at(self.gen.top, self.root).add(op)

    def arg(self, value: SSAValue) -> SSAValue:
        """The block argument standing for input ``value`` (one per distinct value)."""
        if value not in self.args:
            t = value.type
            elem = t.element_type if isinstance(t, TensorType) else t
            self.inputs.append(value)
            self.args[value] = self.em.block.insert_arg(elem, len(self.em.block.args))
        return self.args[value]

    def element(self, e: ast.Expr) -> SSAValue:
        """The f32 that ``e`` contributes to one result element, built in the body."""
        types, gen = self.gen.types, self.gen
        t = types.type_of(e)
        if not is_tensor(t):
            if types.is_constant(e):
                v = gen.scalar(e, self.em)
                return coerce(at(self.em, e), v, t, "f32")
            v = gen.gen(e)
            return self.arg(coerce(at(gen.top, e), v, t, "f32"))
        if not types.is_elementwise(e):
            return self.arg(gen.dense(gen.gen(e), e))
        return self.NODES[type(e)](self, e)

    def binary(self, e: ast.Binary) -> SSAValue:
        a, b = self.element(e.lhs), self.element(e.rhs)
        return at(self.em, e).binary(e.op, a, b, F32)

    def unary(self, e: ast.Unary) -> SSAValue:
        return at(self.em, e).negate(self.element(e.operand), F32)

    def call(self, e: ast.Call) -> SSAValue:
        vals = [self.element(a) for a in e.args]
        return BUILTINS[e.func].emit(at(self.em, e), vals, [F32] * len(vals), "f32")

    #: The elementwise nodes (see ``FnTypes.is_elementwise``) -> the method building them.
    NODES = {ast.Binary: binary, ast.Unary: unary, ast.Call: call}


def widen(gen: "FnGen", value: SSAValue, node: ast.Node) -> SSAValue:
    """A dense tensor as the same tensor with every size dynamic.

    Repeat state has dynamic sizes (it may change size between iterations) and
    ``loop.repeat`` needs its initial and yielded values to have exactly the state's
    type, so a value with static sizes is passed through an identity
    ``sparse.elementwise`` (a copy; only static shapes need it)."""
    t = value.type
    assert isinstance(t, TensorType)
    if all(d < 0 for d in t.get_shape()):
        return value
    em = at(Emitter(Block(arg_types=[f32]), gen.source.name), node)
    em.add(sparse.YieldOp(em.block.args[0]))
    op = sparse.ElementwiseOp([value], tensor_type(rank(t)), Region(em.block))
    return at(gen.top, node).add(op)
