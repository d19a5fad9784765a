"""IR generation for ``fn`` tensor programs: a checked fn becomes an L1 ``func.func``
over the ``sparse`` dialect (with ``loop.repeat`` for repeat zones).

Parameters and results are scalars and tensors of rank 1 or 2 (dense of f32, f64,
i32 or i64; sparse of f32). The ops say *what* is computed, never how a format is
traversed (``sparse-lower`` writes the loops), so the generator is format-agnostic
except where an op needs a dense operand; there it inserts ``sparse.convert``:

- the right operand of ``A @ B`` (matmul reads ``B`` densely; ``A`` may be sparse);
- every operand of an elementwise tree (see :mod:`ccomp.frontend.tensor.exprs`);
- the operand of ``sum``/``min``/``max``/``mean`` (``nnz``/``rows``/``cols`` take any).

The declaration, its ports, statements and repeat zones are generated as for graphs,
by :class:`ccomp.frontend.irgen.FunctionGen`; every op is located at the expression
that produced it.
"""

from __future__ import annotations

from xdsl.dialects.builtin import TensorType
from xdsl.ir import Attribute, BlockArgument, SSAValue

from ccomp.diagnostics import Source
from ccomp.dialects import sparse
from ccomp.dialects.sparse_format import FormatAttr, format_of
from ccomp.frontend import ast, decls
from ccomp.frontend.builtins import BUILTINS, coerce, unify
from ccomp.frontend.emit import Emitter
from ccomp.frontend.irgen import FunctionGen, at
from ccomp.frontend.tensor.exprs import Elementwise, widen
from ccomp.frontend.tensor.typecheck import (
    AUTO_ONLY_PARAMS, TENSOR_REDUCTIONS, FnTypes, FTy, elem_of, elem_ty, fill_elem, is_tensor, rank, show,
)
from ccomp.frontend.typecheck import CMP_OPS, LOGIC_OPS
from ccomp.frontend.types import Ty, mlir_type, tensor_type


class FnGen(FunctionGen[FTy]):
    """Generates one ``fn`` declaration."""

    def __init__(self, decl: ast.GraphDecl, source: Source):
        super().__init__(decl, source)
        self.converted: dict[tuple[SSAValue, FormatAttr | None], SSAValue] = {}

    def checker(self) -> FnTypes:
        return FnTypes(self.lookup, self.fail, self.env.keys, self.members)

    # ----- declaration ------------------------------------------------------

    def port_type(self, t: ast.TypeRef) -> FTy:
        return decls.fn_param_type(t, self.fail)

    def ir_type(self, t: FTy) -> Attribute:
        return t if isinstance(t, TensorType) else mlir_type(t.elem)

    def result_type(self, r: ast.Result) -> FTy:
        t = self.port_type(r.type)
        if is_tensor(t) and format_of(t) is not None and format_of(t).kind.data == "auto":
            raise self.fail(r.type.args[-1], AUTO_ONLY_PARAMS)  # at the format
        return t

    def result_value(self, e: ast.Expr, want: FTy) -> SSAValue:
        """A dense value for a sparse result is converted; a sparse value for a dense
        result is an error (the user says to_dense()), and so is another element type
        (the user says f32(...), f64(...)...). A declared dynamic size accepts
        a static one (the function's type keeps the static size); two different static
        sizes are an error."""
        got = self.types.type_of(e)
        if is_tensor(want):
            if not is_tensor(got) or rank(got) != rank(want) or any(
                    w >= 0 and g >= 0 and w != g for w, g in zip(want.get_shape(), got.get_shape())):
                raise self.fail(e, f"expected {show(want)}, got {show(got)}")
            if elem_of(got) != elem_of(want):
                raise self.fail(e, f"expected {show(want)}, got {show(got)}; tensors are not converted implicitly: "
                                   f"convert it with {elem_of(want)}(...)")
            if format_of(want) is None and format_of(got) is not None:
                raise self.fail(e, f"expected a dense {show(want)}, got {show(got)}; convert it with to_dense()")
            return self.convert(self.gen(e), format_of(want), e)
        if is_tensor(got):
            raise self.fail(e, f"expected {want.elem}, got {show(got)}; reduce it with sum/mean/min/max")
        return self.scalar_result(e, got, want)

    # ----- expressions --------------------------------------------------------

    def value(self, e: ast.Expr) -> SSAValue:
        return self.gen(e)

    def gen(self, e: ast.Expr) -> SSAValue:
        """The value of ``e`` at the current top level (function or repeat body)."""
        t = self.types.type_of(e)  # checks e (unknown names, shapes...) before anything is built
        if isinstance(e, ast.Name):
            return self.env[e.name].ssa
        if isinstance(e, ast.Member):
            return self.env[e.base.name].fields[e.name].ssa
        if isinstance(e, ast.Repeat):
            return self.repeat(e)[0]
        if not is_tensor(t):
            return self.scalar(e, self.top)
        if self.types.is_elementwise(e):
            return Elementwise(self, e).build()
        return self.tensor_op(e)

    def convert(self, v: SSAValue, fmt: FormatAttr | None, node: ast.Node) -> SSAValue:
        """``v`` in storage format ``fmt`` (None: dense); no op when it already is.

        A conversion is built once per value and format, in the block that defines the
        value: converting a matrix parameter inside a repeat zone happens once, before
        the loop (that block is still open, so the op lands before the loop op)."""
        if format_of(v.type) == fmt:
            return v
        known = self.converted.get((v, fmt))
        if known is not None and any(known.owner.parent is em.block for em in self.open):
            return known
        home = v.block if isinstance(v, BlockArgument) else v.owner.parent
        em = next((em for em in self.open if em.block is home), self.top)
        self.converted[(v, fmt)] = at(em, node).add(sparse.ConvertOp(v, fmt))
        return self.converted[(v, fmt)]

    def dense(self, v: SSAValue, node: ast.Node) -> SSAValue:
        return self.convert(v, None, node)

    def tensor_op(self, e: ast.Expr) -> SSAValue:
        """Tensor-valued nodes that are not elementwise: products, fill, conversions."""
        if isinstance(e, ast.Binary) and e.op == "@":
            a, b = self.gen(e.lhs), self.dense(self.gen(e.rhs), e.rhs)
            op = sparse.MatVecOp(a, b) if rank(b.type) == 1 else sparse.MatMulOp(a, b)
            return at(self.top, e).add(op)
        assert isinstance(e, ast.Call), f"no tensor op for {type(e).__name__}"
        if e.func == "fill":
            sizes = [self.gen(a) for a in e.args[:-1]]
            value = self.gen(e.args[-1])
            vt = self.types.type_of(e.args[-1])
            value = coerce(at(self.top, e.args[-1]), value, vt, fill_elem(vt))
            shape = tensor_type(len(sizes)).get_shape()
            return at(self.top, e).add(sparse.FillOp(sizes, value, shape))
        fmt = self.types.target_format(e) if e.func == "to" else None  # to() or to_dense()
        return self.convert(self.gen(e.args[0]), fmt, e)

    def scalar(self, e: ast.Expr, em: Emitter) -> SSAValue:
        """A scalar, as plain arith/math appended by ``em`` — the top level, or an
        elementwise body for constant subtrees (which then read no names)."""
        self.types.type_of(e)
        return self.SCALAR[type(e)](self, e, em)

    def scalar_literal(self, e: ast.Number | ast.Bool, em: Emitter) -> SSAValue:
        return at(em, e).const(self.types.type_of(e), e.value)

    def scalar_named(self, e: ast.Name | ast.Member | ast.Repeat, em: Emitter) -> SSAValue:
        return self.gen(e)

    def scalar_unary(self, e: ast.Unary, em: Emitter) -> SSAValue:
        v = self.scalar(e.operand, em)
        return at(em, e).logical_not(v) if e.op == "!" else at(em, e).negate(v, self.types.type_of(e))

    def scalar_binary(self, e: ast.Binary, em: Emitter) -> SSAValue:
        a, b = self.scalar(e.lhs, em), self.scalar(e.rhs, em)
        if e.op in LOGIC_OPS:
            return at(em, e).binary(e.op, a, b, Ty("i32"))
        ta, tb = self.types.type_of(e.lhs), self.types.type_of(e.rhs)
        elem = Ty(unify([ta, tb], lambda m: self.fail(e, m)))
        a, b = coerce(at(em, e), a, ta, elem.elem), coerce(em, b, tb, elem.elem)
        return em.compare(e.op, a, b, elem) if e.op in CMP_OPS else em.binary(e.op, a, b, elem)

    def scalar_call(self, e: ast.Call, em: Emitter) -> SSAValue:
        if e.func in ("rows", "cols", "nnz"):
            v = self.gen(e.args[0])
            op = sparse.NnzOp(v) if e.func == "nnz" else sparse.DimOp(v, 0 if e.func == "rows" else 1)
            return at(self.top, e).add(op)
        if e.func in TENSOR_REDUCTIONS and len(e.args) == 1:
            return self.reduce(e)
        vals = [self.scalar(a, em) for a in e.args]
        tys = [self.types.type_of(a) for a in e.args]
        operand = BUILTINS[e.func].check(tys, lambda m: self.fail(e, m))
        return BUILTINS[e.func].emit(at(em, e), vals, tys, operand)

    #: AST class -> the method generating it as a scalar.
    SCALAR = {ast.Number: scalar_literal, ast.Bool: scalar_literal, ast.Name: scalar_named,
              ast.Member: scalar_named, ast.Repeat: scalar_named, ast.Unary: scalar_unary,
              ast.Binary: scalar_binary, ast.Call: scalar_call}

    def reduce(self, e: ast.Call) -> SSAValue:
        """``sum``/``min``/``max`` of a tensor, in its element type; ``mean`` is the sum
        over the element count (the sizes multiplied in the element type for floats, so a
        huge tensor cannot overflow i32; for integers the division truncates, as in
        graphs)."""
        v = self.dense(self.gen(e.args[0]), e.args[0])
        top = at(self.top, e)
        kind = TENSOR_REDUCTIONS[e.func]
        total = top.add(sparse.ReduceOp("add" if kind == "mean" else kind, v))
        if kind != "mean":
            return total
        elem = elem_ty(v.type)
        count = None
        for axis in range(rank(v.type)):
            size = top.convert(top.add(sparse.DimOp(v, axis)), Ty("i32"), elem.elem)
            count = size if count is None else top.binary("*", count, size, elem)
        return top.binary("/", total, count, elem)

    # ----- repeat zones ---------------------------------------------------------

    def state_init(self, init: ast.Expr, ty: FTy) -> SSAValue:
        """Tensor states are dense with dynamic sizes."""
        v = self.gen(init)
        return widen(self, v, init) if is_tensor(ty) else v

    def state_value(self, value: ast.Expr, name: str, want: FTy) -> SSAValue:
        """State keeps its type: a dense tensor of the same rank, or the same scalar (an
        i32 may be yielded for an f32)."""
        got = self.types.type_of(value)
        if is_tensor(want):
            if is_tensor(got) and format_of(got) is not None:
                raise self.fail(value, f"repeat state must be a dense tensor or a scalar, but this is "
                                       f"{show(got)}; convert it with to_dense()")
            if not is_tensor(got) or rank(got) != rank(want) or elem_of(got) != elem_of(want):
                raise self.fail(value, f"state '{name}' is {show(want)}, but this is {show(got)}")
            return widen(self, self.gen(value), value)
        if is_tensor(got):
            raise self.fail(value, f"state '{name}' is {want.elem}, but this is {show(got)}; "
                                   f"reduce it with sum/mean/min/max")
        if got.elem != want.elem and not (got.is_int and want.is_float):
            raise self.fail(value, f"state '{name}' is {want.elem}, but this is {got.elem}")
        v = self.gen(value)
        return coerce(at(self.top, value), v, got, want.elem)
