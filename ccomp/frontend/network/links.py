"""Connections and learning rules of a network (a mixin of
:class:`ccomp.frontend.network.irgen.NetGen`): ``<- src weights W [delay: D]`` becomes
``snn.connect`` with its weights — a parameter, a checked file (an extra input whose
argument carries ``snn.weights_file``) or ``snn.init_weights`` — and ``learn stdp(...)``
becomes ``snn.stdp`` on an existing connection."""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects.builtin import NoneAttr, StringAttr, TensorType, f32
from xdsl.ir import Attribute, Block, SSAValue

from ccomp.dialects import ports, snn
from ccomp.dialects.sparse_format import FormatAttr
from ccomp.frontend import ast
from ccomp.frontend.network import args as A
from ccomp.frontend.network import ast as nast
from ccomp.frontend.network import weights as W
from ccomp.frontend.network.types import show


@dataclass
class Port:
    name: str
    type: Attribute
    attrs: dict[str, Attribute]
    arg: SSAValue | None = None


class Links:
    """Needs the generator's ``pops``, ``params``, ``ports``, ``files``, ``synapses``,
    ``dt``, ``batched``, ``fail``, ``add`` and ``_arg_placeholder``."""

    def _connect(self, body: Block, s: nast.LayerDecl, c: nast.Connection) -> None:
        pre, post = self._pop(c, c.source), self.pops[s.name]
        if (c.source, s.name) in self.synapses:
            raise self.fail(c, f"'{s.name}' already receives from '{c.source}'")
        delay = 0
        if c.delay is not None:
            t = A.value(c.delay, A.Arg("delay", A.TIME), "delay", self.fail)
            if t < 0:
                raise self.fail(c.delay, "delay must not be negative")
            delay = int(round(t / self.dt))
        w = self._weights(body, c, pre.size, post.size)
        op = snn.ConnectOp(pre.value, post.value, w, delay, self.n_connections)
        self.n_connections += 1
        self.synapses[(c.source, s.name)] = self.add(body, op, c)

    def _weights(self, body: Block, c: nast.Connection, rows: int, cols: int) -> SSAValue:
        e = c.weights
        want = f"{rows}x{cols}"
        if isinstance(e, ast.Name):
            if e.name not in self.params:
                raise self.fail(e, f"unknown name '{e.name}'; weights are a parameter, a file path or "
                                   f"an initialiser such as uniform(0, 1)")
            ty = self.params[e.name][1]
            if not isinstance(ty, TensorType) or ty.get_num_dims() != 2 or ty.element_type != f32:
                raise self.fail(e, f"weights must be a tensor<{want}xf32>, but '{e.name}' is {show(ty)}")
            if tuple(ty.get_shape()) != (rows, cols):
                raise self.fail(e, f"the weights from '{c.source}' must be {want} (sources x targets), "
                                   f"but '{e.name}' is {show(ty)}")
            return self._arg_placeholder(e.name)
        if isinstance(e, ast.String):
            wf, _ = W.read(e, self.source.name, self.fail)
            if wf.shape != (rows, cols):
                raise self.fail(e, f"the weights from '{c.source}' must be {want} (sources x targets), "
                                   f"but '{e.value}' holds {wf.shape[0]}x{wf.shape[1]}")
            if wf.path not in self.files:
                taken = {p.name for p in self.ports}
                name = W.port_name(wf.path, taken)
                fmt = FormatAttr("csr") if wf.sparse else NoneAttr()
                t = TensorType(f32, [rows, cols], fmt)
                attrs = ports.port_attrs(name, None, (rows, cols))
                attrs[snn.WEIGHTS_FILE] = StringAttr(wf.path)
                port = Port(name, t, attrs)
                self.ports.append(port)
                self.files[wf.path] = port
            port = self.files[wf.path]
            if tuple(port.type.get_shape()) != (rows, cols):
                raise self.fail(e, f"'{e.value}' is used for {want} weights elsewhere with another shape")
            return self._arg_placeholder(port.name)
        if isinstance(e, ast.Call) and e.func in A.INITIALISERS:
            got = A.bind(e, self.fail)
            a, b = (got["lo"], got["hi"]) if e.func == "uniform" else (got["mu"], got["sigma"])
            if e.func == "uniform" and not a <= b:
                raise self.fail(e, "uniform(lo, hi) needs lo <= hi")
            if e.func == "normal" and b < 0:
                raise self.fail(e, "normal(mu, sigma) needs sigma >= 0")
            op = snn.InitWeightsOp(e.func, float(a), float(b), snn.STREAM_INIT + self.n_connections, rows, cols)
            return self.add(body, op, e)
        raise self.fail(e, "weights are a parameter, a path string (\"w.npy\") or an initialiser: "
                           "uniform(lo, hi) or normal(mu, sigma)")

    def _learn(self, body: Block, s: nast.Learn) -> None:
        A.kind_of(ast.Call(s.pos, s.rule, ()), A.RULES, "learning rule", self.fail)
        pair = s.pair
        for name, pos in ((pair.pre, pair.pre_pos), (pair.post, pair.post_pos)):
            if name not in self.pops:
                raise self.fail(ast.Name(pos, name), f"unknown layer '{name}' in learn")
        syn = self.synapses.get((pair.pre, pair.post))
        if syn is None:
            raise self.fail(pair, f"'{pair.post}' has no connection from '{pair.pre}' to learn")
        if self.batched:
            raise self.fail(s, "a network with a batch axis cannot learn (the batch shares its weights)")
        if syn.owner.delay.value.data:
            raise self.fail(s, f"the connection {pair.pre} -> {pair.post} has a delay; a delayed connection "
                               f"cannot learn in this version of ccomp")
        if any(isinstance(o, snn.StdpOp) and o.synapses is syn for o in body.ops):
            raise self.fail(s, f"the connection {pair.pre} -> {pair.post} already learns")
        got = A.bind(ast.Call(s.pos, s.rule, s.args, s.kwargs), self.fail)
        for k in ("tau_plus", "tau_minus"):
            if not got[k] > 0:
                raise self.fail(s, f"{k} must be positive")
        if got["w_min"] > got["w_max"]:
            raise self.fail(s, "w_min must not exceed w_max")
        self.add(body, snn.StdpOp(syn, **{k: float(v) for k, v in got.items()}), s)
