"""Elementwise tensor expressions of a ``fn``: one ``sparse.elementwise`` per tree.

A maximal tree of elementwise nodes — ``+ - * / %``, unary ``-``, the pointwise
builtins (``sqrt``, ``max``, ``clamp``...) and the conversions (``f64(v)``) with at
least one tensor operand
— becomes ONE ``sparse.elementwise`` op, whose body computes one result element
with plain ``arith``/``math`` ops (the builtins expand exactly as in graphs). The
tree's leaves become the op's inputs, deduplicated, in order of first use:

- tensor-valued leaves (names, ``A @ v``, ``fill``, ``to``, repeat zones...) are
  generated before the op; a *sparse* leaf is converted to dense with
  ``sparse.convert`` first, because ``elementwise`` reads every element,
  implicit zeros included (``A * 2.0`` is dense even when ``A`` is csr);
- scalar leaves that are not constant (parameters, lets, ``rows(A)``, reductions,
  scalar arithmetic on those) are computed once before the op, as plain arith, and
  converted there to the element type their operation computes in;
- constant scalars (literals and arithmetic on literals) are built inside the body,
  which is ``IsolatedFromAbove`` and so cannot use a value defined outside.

Each node computes its element in the element type inference gave it, converting
its operands' elements as scalar arithmetic would (``f32`` with ``f64`` is ``f64``),
so the body is exactly the scalar code for one element. Shapes broadcast NumPy-style; the result's static shape is the one type inference
computed (:func:`ccomp.frontend.tensor.typecheck.broadcast`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xdsl.dialects.builtin import TensorType
from xdsl.ir import Block, Region, SSAValue

from ccomp.dialects import sparse
from ccomp.frontend import ast
from ccomp.frontend.builtins import BUILTINS, coerce, unify
from ccomp.frontend.emit import Emitter
from ccomp.frontend.irgen import at
from ccomp.frontend.tensor.typecheck import elem_of, elem_ty, is_tensor, rank
from ccomp.frontend.types import Ty, mlir_type, tensor_type

if TYPE_CHECKING:  # pragma: no cover
    from ccomp.frontend.tensor.irgen import FnGen


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

    def element(self, e: ast.Expr, want: str | None = None) -> SSAValue:
        """The element ``e`` contributes to one result element, built in the body: of
        ``e``'s own element type, except that a scalar computed outside is converted
        there, once, to ``want`` (the type its operation computes in)."""
        types, gen = self.gen.types, self.gen
        t = types.type_of(e)
        if not is_tensor(t):
            if types.is_constant(e):
                return gen.scalar(e, self.em)
            v = gen.gen(e)
            return self.arg(coerce(at(gen.top, e), v, t, want) if want else v)
        if not types.is_elementwise(e):
            return self.arg(gen.dense(gen.gen(e), e))
        return self.NODES[type(e)](self, e)

    def binary(self, e: ast.Binary) -> SSAValue:
        ta, tb = (elem_ty(self.gen.types.type_of(x)) for x in (e.lhs, e.rhs))
        elem = unify([ta, tb], lambda m: self.gen.fail(e, m))
        a, b = self.element(e.lhs, elem), self.element(e.rhs, elem)
        em = at(self.em, e)
        return em.binary(e.op, coerce(em, a, value_ty(a), elem), coerce(em, b, value_ty(b), elem), Ty(elem))

    def unary(self, e: ast.Unary) -> SSAValue:
        return at(self.em, e).negate(self.element(e.operand), elem_ty(self.gen.types.type_of(e)))

    def call(self, e: ast.Call) -> SSAValue:
        tys = [elem_ty(self.gen.types.type_of(a)) for a in e.args]
        operand = BUILTINS[e.func].check(tys, lambda m: self.gen.fail(e, m))
        want = None if e.func in CONVERSIONS else operand  # a conversion reads its argument as it is
        vals = [self.element(a, want) for a in e.args]
        return BUILTINS[e.func].emit(at(self.em, e), vals, [value_ty(v) for v in vals], operand)

    #: The elementwise nodes (see ``FnTypes.is_elementwise``) -> the method building them.
    NODES = {ast.Binary: binary, ast.Unary: unary, ast.Call: call}


CONVERSIONS = ("f32", "f64", "i32", "i64")
_NAMES = {str(mlir_type(n)): n for n in ("f32", "f64", "i32", "i64", "bool")}


def value_ty(v: SSAValue) -> Ty:
    """The language type of one element value in the body."""
    return Ty(_NAMES[str(v.type)])


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
    em = at(Emitter(Block(arg_types=[t.element_type]), gen.source.name), node)
    em.add(sparse.YieldOp(em.block.args[0]))
    op = sparse.ElementwiseOp([value], tensor_type(rank(t), elem=elem_of(t)), Region(em.block))
    return at(gen.top, node).add(op)
