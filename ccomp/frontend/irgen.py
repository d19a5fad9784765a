"""What the generators of every kind of program share: one declaration becomes one
``func.func`` with its ports, its body is walked statement by statement, and repeat
zones become ``loop.repeat`` in a scope of their own.

A kind of program (``graph/``, ``tensor/``) subclasses :class:`FunctionGen` with the
types of its values and what its expressions, results and repeat states generate;
declaring parameters and results, the ``graph.name``/``graph.default`` port attributes,
the statement order of bodies and zones and the bookkeeping of scopes are written
once, here, so every kind reports the same mistakes with the same words.
:func:`generate` lowers a program with one generator per kind of declaration.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, ModuleOp, TensorType, i32
from xdsl.ir import Attribute, Block, Region, SSAValue

from ccomp.diagnostics import CompileError, Source, error_at
from ccomp.dialects import loop, ports
from ccomp.frontend import ast, decls
from ccomp.frontend.builtins import coerce, widens
from ccomp.frontend.emit import Emitter
from ccomp.frontend.typecheck import ExprChecker
from ccomp.frontend.types import Ty

T = TypeVar("T")  # the type of a value in one kind of program


def at(em: Emitter, node: ast.Node) -> Emitter:
    """``em`` stamping the ops it builds next with ``node``'s location."""
    return em.at(node.pos.line, node.pos.col)


@dataclass
class Val:
    """A named value: a parameter, a ``let``, a repeat state or ``iteration``.
    ``extent`` is, in graphs, the image whose size a field is evaluated over (None: no
    image read, any extent)."""

    ty: Any
    ssa: SSAValue
    extent: SSAValue | None = None
    fields: dict[str, "Val"] | None = None  # the states of a multi-state repeat zone


class FunctionGen(Generic[T]):
    """Generates one declaration as a ``func.func``; ``self.types`` types its expressions."""

    #: What a body's ``return`` gives, as messages name it ("outputs").
    RESULTS: ClassVar[str] = "results"

    def __init__(self, decl: ast.GraphDecl, source: Source):
        self.decl, self.source = decl, source
        self.env: dict[str, Val] = {}
        self.types: ExprChecker[T] = self.checker()
        self.repeats: dict[int, list[SSAValue]] = {}  # repeat zones by expression, generated once
        self.open: list[Emitter] = []  # the blocks being built: the function's, then repeat bodies
        self.top: Emitter

    def fail(self, node: ast.Node, message: str) -> CompileError:
        return error_at(self.source, node.pos.line, node.pos.col, message)

    def members(self, name: str) -> dict[str, T] | None:
        """The states of the multi-state repeat zone bound to ``name``, by state name."""
        v = self.env.get(name)
        return {k: f.ty for k, f in v.fields.items()} if v is not None and v.fields else None

    def lookup(self, name: str) -> T | None:
        return self.env[name].ty if name in self.env else None

    # ----- what each kind fills in -------------------------------------------------

    def checker(self) -> ExprChecker[T]:
        """The type checker of this kind, resolving names in ``self.env``."""
        raise NotImplementedError

    def port_type(self, t: ast.TypeRef) -> T:
        """The type a parameter or result is declared with."""
        raise NotImplementedError

    def ir_type(self, t: T) -> Attribute:
        raise NotImplementedError

    def value(self, e: ast.Expr) -> SSAValue:
        """The value of ``e`` at the current top level (function or repeat body)."""
        raise NotImplementedError

    def result_value(self, e: ast.Expr, want: T) -> SSAValue:
        """A returned value, checked against the declared result type ``want``."""
        raise NotImplementedError

    def state_init(self, init: ast.Expr, ty: T) -> SSAValue:
        """The initial value of repeat state of type ``ty``."""
        raise NotImplementedError

    def state_value(self, value: ast.Expr, name: str, want: T) -> SSAValue:
        """A yielded value, checked against its state's type ``want``."""
        raise NotImplementedError

    def result_type(self, r: ast.Result) -> T:
        return self.port_type(r.type)

    def val(self, ty: T, ssa: SSAValue, expr: ast.Expr | None = None,
            fields: dict[str, Val] | None = None) -> Val:
        """The binding of a value of type ``ty`` (``expr``: the expression it came from)."""
        return Val(ty, ssa, None, fields)

    def bind_param(self, p: ast.Param, ty: T, arg: SSAValue) -> None:
        self.env[p.name] = self.val(ty, arg)

    # ----- the declaration -----------------------------------------------------------

    def generate(self) -> func.FuncOp:
        """The ``func.func``: each argument names its port (``graph.name``, and
        ``graph.default`` for a scalar with a default), ``graph.outputs`` names the results."""
        d = self.decl
        params, arg_attrs = [], []
        for p in d.params:
            ty = self.port_type(p.type)
            params.append(ty)
            default = decls.default_attr(p, ty, self.fail, d.kind) if p.default is not None else None
            shape = decls.static_shape(p.type, ty)
            arg_attrs.append(DictionaryAttr(ports.port_attrs(p.name, default, shape)))
        arg_types = [self.ir_type(t) for t in params]
        block = Block(arg_types=arg_types)
        self.top = Emitter(block, self.source.name)
        self.open.append(self.top)
        for p, ty, arg in zip(d.params, params, block.args):
            if p.name in self.env:
                raise self.fail(p, f"parameter '{p.name}' is declared twice")
            arg.name_hint = p.name
            self.bind_param(p, ty, arg)
        results = [self.result_type(r) for r in d.results]
        for r, ty in zip(d.results, results):  # a result's size comes from what computes it
            sizes = [a for a in r.type.args if isinstance(a, ast.DimsArg)]
            if sizes and not isinstance(ty, TensorType):
                raise self.fail(sizes[0], "a static size is for inputs; a result's size comes from "
                                          "the value returned: write image<T>")
        names = decls.result_names(d, self.fail)
        outputs = self.body(d.body, results)
        at(self.top, d.body.stmts[-1]).add(func.ReturnOp(*outputs))
        fn = func.FuncOp(d.name, (arg_types, [o.type for o in outputs]), Region(block),
                         arg_attrs=ArrayAttr(arg_attrs))
        ports.set_output_names(fn, names)
        shapes = self.result_shapes(d.results, results, outputs)
        if any(s is not None for s in shapes):  # results of a static size print it (prog.outputs)
            fn.res_attrs = ArrayAttr([DictionaryAttr(ports.port_attrs(n, shape=s)) for n, s in zip(names, shapes)])
        fn.location = at(self.top, d).loc
        return fn

    def result_shapes(self, decls_: list[ast.Result], results: list[T],
                      outputs: list[SSAValue]) -> list[tuple[int, ...] | None]:
        """The static size of each result (``graph.shape`` on the result), None where
        it comes from the inputs at run time: a tensor result's declared static sizes."""
        return [decls.static_shape(r.type, t) if isinstance(t, TensorType) else None
                for r, t in zip(decls_, results)]

    # ----- statements: a body is lets then one return; a zone lets then one yield -----

    def body(self, block: ast.Block, results: list[T]) -> list[SSAValue]:
        for i, stmt in enumerate(block.stmts):
            if isinstance(stmt, ast.Let):
                self.let(stmt)
            elif isinstance(stmt, ast.Return):
                if i != len(block.stmts) - 1:
                    raise self.fail(block.stmts[i + 1], "statements after 'return' are never reached")
                return self.returns(stmt, results)
            else:
                raise self.fail(stmt, "'yield' belongs inside a repeat zone")
        raise self.fail(block, f"{self.decl.kind} '{self.decl.name}' does not return its {self.RESULTS}")

    def zone_body(self, e: ast.Repeat, states: list[tuple[str, T]]) -> list[SSAValue]:
        stmts = e.body.stmts
        for i, stmt in enumerate(stmts):
            if isinstance(stmt, ast.Let):
                self.let(stmt)
            elif isinstance(stmt, ast.Yield):
                if i != len(stmts) - 1:
                    raise self.fail(stmts[i + 1], "statements after 'yield' are never reached")
                return self.zone_yield(stmt, states)
            else:
                raise self.fail(stmt, "a repeat zone ends with 'yield', not 'return'")
        raise self.fail(e.body, "a repeat zone must end with 'yield' of its next state")

    def let(self, stmt: ast.Let) -> None:
        if stmt.name in self.env:
            raise self.fail(stmt, f"'{stmt.name}' is already defined")
        ty = self.types.type_of(stmt.value)
        v = self.value(stmt.value)
        if not self.is_bound(stmt.value):  # an alias keeps the name it has (a parameter's, say)
            v.name_hint = stmt.name
        fields = None
        if isinstance(stmt.value, ast.Repeat) and len(stmt.value.states) > 1:
            states = self.types.repeat_states(stmt.value)
            fields = {n: self.val(t, r) for (n, t), r in zip(states, self.repeat(stmt.value))}
        self.env[stmt.name] = self.val(ty, v, stmt.value, fields)

    def is_bound(self, e: ast.Expr) -> bool:
        """Whether ``e`` reads a value already bound to a name: a name, or a state of a
        multi-state repeat zone."""
        if isinstance(e, ast.Name):
            return e.name in self.env
        return isinstance(e, ast.Member) and isinstance(e.base, ast.Name) and self.members(e.base.name) is not None

    def returns(self, stmt: ast.Return, results: list[T]) -> list[SSAValue]:
        if len(stmt.values) != len(results):
            raise self.fail(stmt, f"'{self.decl.name}' returns {len(results)} value"
                                  f"{'s' if len(results) != 1 else ''}, but {len(stmt.values)} given")
        return [self.result_value(e, want) for e, want in zip(stmt.values, results)]

    def zone_yield(self, stmt: ast.Yield, states: list[tuple[str, T]]) -> list[SSAValue]:
        if len(stmt.values) != len(states):
            raise self.fail(stmt, f"the repeat zone has {len(states)} state{'s' if len(states) != 1 else ''} "
                                  f"({', '.join(n for n, _ in states)}), but 'yield' gives {len(stmt.values)}")
        return [self.state_value(value, name, want) for value, (name, want) in zip(stmt.values, states)]

    def scalar_result(self, e: ast.Expr, got: Ty, want: Ty) -> SSAValue:
        """A scalar result: a number widens to the type it promotes to (i32 to f32 or
        i64, f32 to f64); any other difference of element types is an error."""
        v = self.value(e)
        if got.elem != want.elem:
            if not widens(got, want):
                raise self.fail(e, f"expected {want.elem}, got {got.elem}")
            v = coerce(at(self.top, e), v, got, want.elem)
        return v

    # ----- repeat zones -----------------------------------------------------------------

    def repeat(self, e: ast.Repeat) -> list[SSAValue]:
        """``loop.repeat``, generated once per zone: the body sees the states and
        ``iteration``; names it defines are local to it."""
        if id(e) in self.repeats:
            return self.repeats[id(e)]
        states = self.types.repeat_states(e)
        count = self.value(e.count)
        inits = [self.state_init(st.init, ty) for st, (_, ty) in zip(e.states, states)]
        body = Block(arg_types=[i32] + [v.type for v in inits])
        with self.scope(body):
            body.args[0].name_hint = "iteration"
            self.env["iteration"] = self.val(Ty("i32"), body.args[0])
            for (name, ty), arg in zip(states, body.args[1:]):
                arg.name_hint = name
                self.env[name] = self.val(ty, arg)
            yields = self.zone_body(e, states)
            at(self.top, e.body.stmts[-1]).add(loop.YieldOp(yields))
        op = loop.RepeatOp(count, inits, Region(body))
        at(self.top, e).add(op)
        self.repeats[id(e)] = list(op.res)
        return self.repeats[id(e)]

    @contextmanager
    def scope(self, body: Block) -> Iterator[Emitter]:
        """Generate into ``body`` (a repeat zone's block) with names bound there local to it."""
        outer_top, outer_env = self.top, dict(self.env)
        self.top = Emitter(body, self.source.name)
        self.open.append(self.top)
        try:
            yield self.top
        finally:
            self.open.pop()
            self.top = outer_top
            self.env.clear()
            self.env.update(outer_env)


def generate(program: ast.Program, source: Source, generators: Mapping[str, type[FunctionGen]]) -> ModuleOp:
    """Lower a checked program to an L1 module with one ``func.func`` per declaration,
    each by the generator ``generators`` names for its kind."""
    if not program.decls:
        raise error_at(source, 1, 1, "the program declares no graph")
    funcs = []
    seen: set[str] = set()
    for decl in program.decls:
        if decl.name in seen:
            raise error_at(source, decl.pos.line, decl.pos.col, f"'{decl.name}' is declared twice")
        seen.add(decl.name)
        funcs.append(generators[decl.kind](decl, source).generate())
    return ModuleOp(funcs)
