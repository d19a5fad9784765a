"""IR generation for ``network`` declarations: one ``func.func`` whose body is one
``snn.network`` (see :mod:`ccomp.dialects.snn`).

The body of a network is checked as a whole before any IR is built: names of inputs
and layers are unique, every connection names a known population, every ``learn``
names an existing connection, each builtin's arguments have the right units
(:mod:`ccomp.frontend.network.args`), weights have the connection's shape, and
what ``return`` gives matches the declared results. Weights named by a path become an
extra input of the program whose argument carries ``snn.weights_file`` (the runtime
fills it from the file when the caller leaves it out).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects import arith, func
from xdsl.dialects.builtin import (
    ArrayAttr, DictionaryAttr, FileLineColLoc, IntAttr, IntegerAttr, NoneAttr, StringAttr, TensorType, f32, i32, i64,
)
from xdsl.ir import Block, Region, SSAValue

from ccomp.diagnostics import CompileError, Source, error_at
from ccomp.dialects import ports, snn
from ccomp.frontend import ast, decls
from ccomp.frontend.network import args as A
from ccomp.frontend.network import ast as nast
from ccomp.frontend.network.links import Links, Port
from ccomp.frontend.network.outputs import Outputs
from ccomp.frontend.network.types import ir_type, port_type, show
from ccomp.frontend.types import Ty


@dataclass
class Pop:
    value: SSAValue
    size: int
    is_layer: bool
    node: ast.Node


class NetGen(Links, Outputs):
    """Generates one ``network`` declaration."""

    def __init__(self, decl: nast.NetworkDecl, source: Source):
        self.decl, self.source = decl, source
        self.params: dict[str, tuple[ast.Param, object]] = {}
        self.pops: dict[str, Pop] = {}
        self.synapses: dict[tuple[str, str], SSAValue] = {}
        self.files: dict[str, Port] = {}  # weights files by absolute path
        self.ports: list[Port] = []
        self.block = Block()
        self.batched = False
        self.steps_static: int | None = None
        self.n_encoders = 0
        self.n_connections = 0

    def fail(self, node: ast.Node, message: str) -> CompileError:
        return error_at(self.source, node.pos.line, node.pos.col, message)

    def loc(self, node: ast.Node) -> FileLineColLoc:
        return FileLineColLoc(StringAttr(self.source.name), IntAttr(node.pos.line), IntAttr(node.pos.col))

    def add(self, block: Block, op, node: ast.Node) -> SSAValue | None:
        op.location = self.loc(node)
        block.add_op(op)
        return op.results[0] if op.results else None

    # ----- the declaration -------------------------------------------------------------
    def generate(self) -> func.FuncOp:
        d = self.decl
        for p in d.params:
            if p.name in self.params:
                raise self.fail(p, f"parameter '{p.name}' is declared twice")
            ty = port_type(p.type, self.fail)
            default = decls.default_attr(p, ty, self.fail, "network") if p.default is not None else None
            shape = decls.static_shape(p.type, ty) if isinstance(ty, TensorType) else None
            self.params[p.name] = (p, ty)
            self.ports.append(Port(p.name, ir_type(ty), ports.port_attrs(p.name, default, shape)))
        self.batched = self._batched()
        outer = self.block
        steps = self._steps(outer)
        seed = self._seed(outer)
        dt = self._dt()
        body = Block()
        returns = [s for s in d.stmts if isinstance(s, nast.NetReturn)]
        if not returns:
            raise self.fail(d, f"network '{d.name}' does not return its outputs")
        for s in d.stmts:
            if isinstance(s, nast.NetReturn) and s is not returns[-1]:
                raise self.fail(s, "a network has one 'return'")
        if d.stmts[-1] is not returns[-1]:
            raise self.fail(d.stmts[-1], "statements after 'return' are never reached")
        self.dt = dt
        for s in d.stmts:
            if isinstance(s, nast.InputDecl):
                self._input(body, s)
            elif isinstance(s, nast.LayerDecl):
                self._layer_decl(body, s)
        for s in d.stmts:  # connections may name layers declared later (recurrent, feedback)
            if isinstance(s, nast.LayerDecl):
                for c in s.connections:
                    self._connect(body, s, c)
        for s in d.stmts:
            if isinstance(s, nast.Learn):
                self._learn(body, s)
        outs = self._returns(body, returns[-1])
        self.add(body, snn.YieldOp(outs), returns[-1])
        # arguments: parameters then weights files, bound to the block made here
        args = Block(arg_types=[p.type for p in self.ports])
        for port, arg in zip(self.ports, args.args):
            arg.name_hint = port.name
            if port.arg is not None:
                port.arg.replace_all_uses_with(arg)
        for op in list(outer.ops):
            op.detach()
            args.add_op(op)
        net = snn.NetworkOp(self._arg(args, steps), self._arg(args, seed), dt, Region(body),
                            [o.type for o in outs], self.batched)
        self.add(args, net, d)
        self.add(args, func.ReturnOp(*net.res), returns[-1])
        fn = func.FuncOp(d.name, ([p.type for p in self.ports], [o.type for o in outs]), Region(args),
                         arg_attrs=ArrayAttr([DictionaryAttr(p.attrs) for p in self.ports]))
        ports.set_output_names(fn, decls.result_names(d, self.fail))  # type: ignore[arg-type]
        fn.location = self.loc(d)
        return fn

    def _arg(self, block: Block, v: SSAValue | str) -> SSAValue:
        if isinstance(v, str):
            return block.args[[p.name for p in self.ports].index(v)]
        return v

    # ----- steps, dt, seed, batch ---------------------------------------------------------------
    def _steps(self, outer: Block) -> SSAValue | str:
        e = self.decl.steps
        if isinstance(e, ast.Name):
            p = self._scalar_param(e, ("i32",), "steps")
            return p
        inner, sign = (e.operand, -1) if isinstance(e, ast.Unary) and e.op == "-" else (e, 1)
        if isinstance(inner, ast.Quantity):
            raise self.fail(e, "steps is a number of steps, not a time; the step length is dt")
        if not isinstance(inner, ast.Number) or inner.is_float:
            raise self.fail(e, "steps must be a whole number or an i32 parameter")
        n = sign * inner.value
        if n < 0:
            raise self.fail(e, f"steps must not be negative, got {n}")
        if n >= 2**31:
            raise self.fail(e, "steps does not fit in i32")
        self.steps_static = n
        return self.add(outer, arith.ConstantOp(IntegerAttr(n, i32)), e)

    def _seed(self, outer: Block) -> SSAValue | str:
        if "seed" not in self.params:
            return self.add(outer, arith.ConstantOp(IntegerAttr(0, i64)), self.decl)
        p, ty = self.params["seed"]
        if not isinstance(ty, Ty) or ty.elem != "i64":
            raise self.fail(p.type, "the seed of a network is an i64 parameter, as in seed: i64 = 0")
        return "seed"

    def _scalar_param(self, e: ast.Name, elems: tuple[str, ...], what: str) -> str:
        if e.name not in self.params:
            raise self.fail(e, f"unknown name '{e.name}'; {what} is a number or a parameter")
        p, ty = self.params[e.name]
        if not isinstance(ty, Ty) or ty.elem not in elems:
            raise self.fail(e, f"{what} must be {' or '.join(elems)}, but '{e.name}' is {show(ty)}")
        return e.name

    def _dt(self) -> float:
        e = self.decl.dt
        dt = A.value(e, A.Arg("dt", A.TIME), "dt", self.fail)
        if not dt > 0:
            raise self.fail(e, f"dt must be positive, got {dt}s")
        return float(dt)

    def _batched(self) -> bool:
        """Whether encoder inputs carry a leading batch axis; all must agree."""
        found: dict[bool, ast.Node] = {}
        for s in self.decl.stmts:
            if not isinstance(s, nast.InputDecl) or s.encoder.func not in A.ENCODERS:
                continue
            x = (s.encoder.args or [k.value for k in s.encoder.kwargs])[0] if (s.encoder.args or s.encoder.kwargs) else None
            if isinstance(x, ast.Name) and x.name in self.params:
                ty = self.params[x.name][1]
                if isinstance(ty, TensorType):
                    base = 2 if s.encoder.func == "spikes" else 1
                    found.setdefault(ty.get_num_dims() == base + 1, x)
        if len(found) > 1:
            raise self.fail(found[True], "some inputs have a batch axis and others do not")
        return bool(found) and next(iter(found))

    # ----- populations --------------------------------------------------------------------------
    def _new_name(self, node: ast.Node, name: str) -> None:
        if name in self.pops:
            raise self.fail(node, f"'{name}' is already defined")
        if name in self.params:
            raise self.fail(node, f"'{name}' is already a parameter of the network")

    def _input(self, body: Block, s: nast.InputDecl) -> None:
        self._new_name(s, s.name)
        kind = A.kind_of(s.encoder, A.ENCODERS, "input encoder", self.fail)
        got = A.bind(s.encoder, self.fail)
        x = got[A.SIGNATURES[kind][0].name]
        assert isinstance(x, ast.Name)
        if x.name not in self.params:
            raise self.fail(x, f"unknown name '{x.name}'; {kind}() reads a parameter of the network")
        ty = self.params[x.name][1]
        base = 2 if kind == "spikes" else 1
        want = f"tensor<{'Tx' if base == 2 else ''}Nxf32>"
        if not isinstance(ty, TensorType) or ty.get_num_dims() != base + self.batched or \
                ty.get_shape()[-1] < 0 or not isinstance(ty.encoding, NoneAttr):
            raise self.fail(x, f"{kind}() reads a dense {want} with a static N"
                               f"{' after the batch axis' if self.batched else ''}, but '{x.name}' is {show(ty)}")
        if ty.element_type != f32:
            raise self.fail(x, f"{kind}() reads f32 values, but '{x.name}' is {show(ty)}")
        param = {"poisson": got.get("max_rate"), "latency": got.get("t_max")}.get(kind, 0.0)
        if kind != "spikes" and not param > 0:
            raise self.fail(s.encoder, f"{kind}() needs a positive {'max_rate' if kind == 'poisson' else 't_max'}")
        n = ty.get_shape()[-1]
        op = snn.EncodeOp(self._arg_placeholder(x.name), kind, s.name, n, float(param),
                          snn.STREAM_POISSON + self.n_encoders)
        self.n_encoders += 1
        self.pops[s.name] = Pop(self.add(body, op, s), n, False, s)

    def _arg_placeholder(self, name: str) -> SSAValue:
        """A stand-in for parameter ``name`` until the function's block exists."""
        port = next(p for p in self.ports if p.name == name)
        if port.arg is None:
            holder = Block(arg_types=[port.type])
            port.arg = holder.args[0]
            self._holders = getattr(self, "_holders", []) + [holder]
        return port.arg

    def _layer_decl(self, body: Block, s: nast.LayerDecl) -> None:
        self._new_name(s, s.name)
        A.kind_of(s.neuron, A.NEURONS, "neuron model", self.fail)
        got = A.bind(s.neuron, self.fail)
        if not got["tau"] > 0:
            raise self.fail(s.neuron, "tau must be positive")
        if got["refractory"] < 0:
            raise self.fail(s.neuron, "refractory must not be negative")
        params = {k: float(got[k]) for k in ("tau", "v_th", "v_reset", "v_rest", "refractory", "bias")}
        op = snn.LifOp(s.name, int(got["size"]), r=float(got["R"]), **params)
        self.pops[s.name] = Pop(self.add(body, op, s), int(got["size"]), True, s)

    def _pop(self, node: ast.Node, name: str) -> Pop:
        if name not in self.pops:
            from ccomp.frontend.typecheck import did_you_mean

            raise self.fail(node, f"unknown layer or input '{name}'" + did_you_mean(name, self.pops))
        return self.pops[name]
