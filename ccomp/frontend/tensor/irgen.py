"""IR generation for ``fn`` tensor programs: a checked fn becomes an L1 ``func.func``
over the ``sparse`` dialect (with ``loop.repeat`` for repeat zones).

Parameters and results are ``f32``/``i32``/``bool`` scalars and ``f32`` tensors of
rank 1 or 2, dense or sparse. The ops say *what* is computed, never how a format is
traversed (``sparse-lower`` writes the loops), so the generator is format-agnostic
except where an op needs a dense operand; there it inserts ``sparse.convert``:

- the right operand of ``A @ B`` (matmul reads ``B`` densely; ``A`` may be sparse);
- every operand of an elementwise tree (see :mod:`ccomp.frontend.tensor.exprs`);
- the operand of ``sum``/``min``/``max``/``mean`` (``nnz``/``rows``/``cols`` take any).

The function's declaration mirrors a graph's: one ``func.func @name`` per fn, each
argument with ``graph.name`` (and ``graph.default``), ``graph.outputs`` naming the
results, and every op located at the expression that produced it.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, StringAttr, TensorType, i32
from xdsl.ir import Attribute, Block, BlockArgument, Region, SSAValue

from ccomp.diagnostics import CompileError, Source, error_at
from ccomp.dialects import loop, sparse
from ccomp.dialects.sparse import FormatAttr, format_of
from ccomp.frontend import ast, decls
from ccomp.frontend.blocks import StatementWalker
from ccomp.frontend.builtins import BUILTINS, coerce, unify
from ccomp.frontend.emit import Emitter
from ccomp.frontend.tensor.typecheck import AUTO_ONLY_PARAMS, TENSOR_REDUCTIONS, FnTypes, FTy, is_tensor, rank, show
from ccomp.frontend.tensor.exprs import Elementwise, at, widen
from ccomp.frontend.graph.typecheck import CMP_OPS
from ccomp.frontend.types import Ty, mlir_type, tensor_type


@dataclass
class FnVal:
    """A named value: a parameter, a ``let``, a repeat state or ``iteration``."""

    ty: FTy
    ssa: SSAValue
    fields: dict[str, "FnVal"] | None = None  # the states of a multi-state repeat zone


def ir_type(t: FTy) -> Attribute:
    return t if isinstance(t, TensorType) else mlir_type(t.elem)


class FnGen(StatementWalker):
    """Generates one ``fn`` declaration."""

    def __init__(self, decl: ast.GraphDecl, source: Source):
        self.decl, self.source = decl, source
        self.env: dict[str, FnVal] = {}
        self.types = FnTypes(lambda n: self.env[n].ty if n in self.env else None, self.fail, self.env.keys,
                             self.members)
        self.repeats: dict[int, list[SSAValue]] = {}  # repeat zones by expression, generated once
        self.open: list[Emitter] = []  # the blocks being built: the function's, then repeat bodies
        self.converted: dict[tuple[SSAValue, FormatAttr | None], SSAValue] = {}

    def members(self, name: str) -> dict[str, FTy] | None:
        v = self.env.get(name)
        return {k: f.ty for k, f in v.fields.items()} if v is not None and v.fields else None

    def fail(self, node: ast.Node, message: str) -> CompileError:
        return error_at(self.source, node.pos.line, node.pos.col, message)

    # ----- declaration ------------------------------------------------------

    def generate(self) -> func.FuncOp:
        d = self.decl
        params = [decls.fn_param_type(p.type, self.fail) for p in d.params]
        arg_types, arg_attrs = [ir_type(t) for t in params], []
        for p, ty in zip(d.params, params):
            attrs: dict[str, Attribute] = {"graph.name": StringAttr(p.name)}
            if p.default is not None:
                if is_tensor(ty):
                    raise self.fail(p.default, "only scalar parameters can have a default")
                attrs["graph.default"] = decls.default_attr(p, ty, self.fail)
            arg_attrs.append(DictionaryAttr(attrs))
        block = Block(arg_types=arg_types)
        self.top = Emitter(block, self.source.name)
        self.open.append(self.top)
        for p, ty, arg in zip(d.params, params, block.args):
            if p.name in self.env:
                raise self.fail(p, f"parameter '{p.name}' is declared twice")
            arg.name_hint = p.name
            self.env[p.name] = FnVal(ty, arg)
        results = [decls.fn_param_type(r.type, self.fail) for r in d.results]
        for r, t in zip(d.results, results):
            if is_tensor(t) and format_of(t) is not None and format_of(t).kind.data == "auto":
                raise self.fail(r.type.args[-1], AUTO_ONLY_PARAMS)  # at the format
        names = decls.result_names(d, self.fail)
        outputs = self.body(d.body, results)
        at(self.top, d.body.stmts[-1]).add(func.ReturnOp(*outputs))
        fn = func.FuncOp(d.name, (arg_types, [o.type for o in outputs]), Region(block),
                         arg_attrs=ArrayAttr(arg_attrs))
        fn.attributes["graph.outputs"] = ArrayAttr([StringAttr(n) for n in names])
        fn.location = at(self.top, d).loc
        return fn

    def let(self, stmt: ast.Let) -> None:
        if stmt.name in self.env:
            raise self.fail(stmt, f"'{stmt.name}' is already defined")
        ty = self.types.type_of(stmt.value)
        v = self.gen(stmt.value)
        if not isinstance(stmt.value, (ast.Name, ast.Member)):  # keep a parameter's own name
            v.name_hint = stmt.name
        fields = None
        if isinstance(stmt.value, ast.Repeat) and len(stmt.value.states) > 1:
            states = self.types.repeat_states(stmt.value)
            fields = {n: FnVal(t, r) for (n, t), r in zip(states, self.repeat(stmt.value))}
        self.env[stmt.name] = FnVal(ty, v, fields)

    def returns(self, stmt: ast.Return, results: list[FTy]) -> list[SSAValue]:
        """Each result checked against its declared type. A dense value for a sparse
        result is converted; a sparse value for a dense result is an error (the user
        says to_dense()). A declared dynamic size accepts a static one (the function's
        type keeps the static size); two different static sizes are an error."""
        if len(stmt.values) != len(results):
            raise self.fail(stmt, f"'{self.decl.name}' returns {len(results)} value"
                                  f"{'s' if len(results) != 1 else ''}, but {len(stmt.values)} given")
        outs = []
        for e, want in zip(stmt.values, results):
            got = self.types.type_of(e)
            if is_tensor(want):
                if not is_tensor(got) or rank(got) != rank(want) or any(
                        w >= 0 and g >= 0 and w != g for w, g in zip(want.get_shape(), got.get_shape())):
                    raise self.fail(e, f"expected {show(want)}, got {show(got)}")
                if format_of(want) is None and format_of(got) is not None:
                    raise self.fail(e, f"expected a dense {show(want)}, got {show(got)}; convert it with to_dense()")
                outs.append(self.convert(self.gen(e), format_of(want), e))
            else:
                if is_tensor(got):
                    raise self.fail(e, f"expected {want.elem}, got {show(got)}; reduce it with sum/mean/min/max")
                v = self.gen(e)
                if got.elem != want.elem:
                    if not (got.is_int and want.is_float):
                        raise self.fail(e, f"expected {want.elem}, got {got.elem}")
                    v = coerce(at(self.top, e), v, got, want.elem)
                outs.append(v)
        return outs

    # ----- expressions --------------------------------------------------------

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
            value = coerce(at(self.top, e.args[-1]), value, self.types.type_of(e.args[-1]), "f32")
            shape = tensor_type(len(sizes)).get_shape()
            return at(self.top, e).add(sparse.FillOp(sizes, value, shape))
        fmt = self.types.target_format(e) if e.func == "to" else None  # to() or to_dense()
        return self.convert(self.gen(e.args[0]), fmt, e)

    def scalar(self, e: ast.Expr, em: Emitter) -> SSAValue:
        """A scalar, as plain arith/math appended by ``em`` — the top level, or an
        elementwise body for constant subtrees (which then read no names)."""
        t = self.types.type_of(e)
        if isinstance(e, (ast.Number, ast.Bool)):
            return at(em, e).const(t, e.value)
        if isinstance(e, (ast.Name, ast.Member, ast.Repeat)):
            return self.gen(e)
        if isinstance(e, ast.Unary):
            v = self.scalar(e.operand, em)
            return at(em, e).logical_not(v) if e.op == "!" else at(em, e).negate(v, t)
        if isinstance(e, ast.Binary):
            a, b = self.scalar(e.lhs, em), self.scalar(e.rhs, em)
            if e.op in ("&&", "||"):
                return at(em, e).binary(e.op, a, b, Ty("i32"))
            ta, tb = self.types.type_of(e.lhs), self.types.type_of(e.rhs)
            elem = Ty(unify([ta, tb], lambda m: self.fail(e, m)))
            a, b = coerce(at(em, e), a, ta, elem.elem), coerce(em, b, tb, elem.elem)
            return em.compare(e.op, a, b, elem) if e.op in CMP_OPS else em.binary(e.op, a, b, elem)
        assert isinstance(e, ast.Call)
        return self.scalar_call(e, em)

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

    def reduce(self, e: ast.Call) -> SSAValue:
        """``sum``/``min``/``max`` of a tensor; ``mean`` is the sum over the element
        count (the sizes multiplied as f32, so a huge tensor cannot overflow i32)."""
        v = self.dense(self.gen(e.args[0]), e.args[0])
        top = at(self.top, e)
        kind = TENSOR_REDUCTIONS[e.func]
        total = top.add(sparse.ReduceOp("add" if kind == "mean" else kind, v))
        if kind != "mean":
            return total
        f32 = Ty("f32")
        count = None
        for axis in range(rank(v.type)):
            size = top.convert(top.add(sparse.DimOp(v, axis)), Ty("i32"), "f32")
            count = size if count is None else top.binary("*", count, size, f32)
        return top.binary("/", total, count, f32)

    # ----- repeat zones ---------------------------------------------------------

    def repeat(self, e: ast.Repeat) -> list[SSAValue]:
        """``loop.repeat``: the body sees the states and ``iteration``; names it defines
        are local to it. Tensor states are dense with dynamic sizes."""
        if id(e) in self.repeats:
            return self.repeats[id(e)]
        states = self.types.repeat_states(e)
        count = self.gen(e.count)
        inits = []
        for st, (_, ty) in zip(e.states, states):
            v = self.gen(st.init)
            inits.append(widen(self, v, st.init) if is_tensor(ty) else v)
        body = Block(arg_types=[i32] + [ir_type(t) for _, t in states])
        outer_top, outer_env = self.top, dict(self.env)
        self.top = Emitter(body, self.source.name)
        self.open.append(self.top)
        body.args[0].name_hint = "iteration"
        self.env["iteration"] = FnVal(Ty("i32"), body.args[0])
        for (name, ty), arg in zip(states, body.args[1:]):
            arg.name_hint = name
            self.env[name] = FnVal(ty, arg)
        try:
            yields = self.zone_body(e, states)
            at(self.top, e.body.stmts[-1]).add(loop.YieldOp(yields))
        finally:
            self.open.pop()
            self.top = outer_top
            self.env.clear()
            self.env.update(outer_env)
        op = loop.RepeatOp(count, inits, Region(body))
        at(self.top, e).add(op)
        self.repeats[id(e)] = list(op.res)
        return self.repeats[id(e)]

    def zone_yield(self, stmt: ast.Yield, states: list[tuple[str, FTy]]) -> list[SSAValue]:
        """State keeps its type: a dense tensor of the same rank, or the same scalar (an
        i32 may be yielded for an f32)."""
        if len(stmt.values) != len(states):
            raise self.fail(stmt, f"the repeat zone has {len(states)} state{'s' if len(states) != 1 else ''} "
                                  f"({', '.join(n for n, _ in states)}), but 'yield' gives {len(stmt.values)}")
        out = []
        for value, (name, want) in zip(stmt.values, states):
            got = self.types.type_of(value)
            if is_tensor(want):
                if is_tensor(got) and format_of(got) is not None:
                    raise self.fail(value, f"repeat state must be a dense tensor or a scalar, but this is "
                                           f"{show(got)}; convert it with to_dense()")
                if not is_tensor(got) or rank(got) != rank(want):
                    raise self.fail(value, f"state '{name}' is {show(want)}, but this is {show(got)}")
                out.append(widen(self, self.gen(value), value))
                continue
            if is_tensor(got):
                raise self.fail(value, f"state '{name}' is {want.elem}, but this is {show(got)}; "
                                       f"reduce it with sum/mean/min/max")
            if got.elem != want.elem and not (got.is_int and want.is_float):
                raise self.fail(value, f"state '{name}' is {want.elem}, but this is {got.elem}")
            v = self.gen(value)
            out.append(coerce(at(self.top, value), v, got, want.elem))
        return out
