"""What a network returns (a mixin of :class:`ccomp.frontend.network.irgen.NetGen`):
decoders of layers and inputs (``snn.decode``) and learned weights (``snn.weights``),
each checked against the result it is returned as."""

from __future__ import annotations

from xdsl.dialects.builtin import NoneAttr, TensorType, f32, i32
from xdsl.ir import Block, SSAValue

from ccomp.dialects import snn
from ccomp.frontend import ast
from ccomp.frontend.network import ast as nast
from ccomp.frontend.network.types import port_type, show, tensor

DECODERS = {"spike_count": "i32", "rate": "f32", "first_spike": "i32", "voltage": "f32", "raster": "i32",
            "trace": "f32"}


class Outputs:
    """Needs the generator's ``decl``, ``pops``, ``synapses``, ``batched``,
    ``steps_static``, ``fail``, ``add`` and ``_pop``."""

    def _returns(self, body: Block, r: nast.NetReturn) -> list[SSAValue]:
        results = self.decl.results
        if len(r.values) != len(results):
            raise self.fail(r, f"'{self.decl.name}' returns {len(results)} value{'s' if len(results) != 1 else ''}, "
                               f"but {len(r.values)} given")
        return [self._output(body, e, res) for e, res in zip(r.values, results)]

    def _output(self, body: Block, e: ast.Expr, res: ast.Result) -> SSAValue:
        batch = [-1] if self.batched else []
        if isinstance(e, nast.PairOutput):
            if e.func != "weights":
                raise self.fail(e, f"unknown output '{e.func}(pre -> post)'; did you mean 'weights'?")
            syn = self.synapses.get((e.pair.pre, e.pair.post))
            if syn is None:
                raise self.fail(e.pair, f"there is no connection {e.pair.pre} -> {e.pair.post}")
            conn = syn.owner
            got = tensor(f32, [self.pops[e.pair.pre].size, self.pops[e.pair.post].size])
            self._check_result(e, res, got, conn.weights.type)
            return self.add(body, snn.WeightsOp(syn, got), e)
        if not isinstance(e, ast.Call) or e.func not in DECODERS:
            raise self.fail(e, f"a network returns decoders of its layers: {', '.join(DECODERS)}, or "
                               f"weights(pre -> post)")
        if len(e.args) != 1 or e.kwargs or not isinstance(e.args[0], ast.Name):
            raise self.fail(e, f"{e.func}() takes one layer or input, as in {e.func}(h)")
        pop = self._pop(e.args[0], e.args[0].name)
        if e.func in ("voltage", "trace") and not pop.is_layer:
            raise self.fail(e.args[0], f"{e.func}() reads a layer's membrane; '{e.args[0].name}' is an input")
        elem = f32 if DECODERS[e.func] == "f32" else i32
        if e.func == "raster":
            dims = [-1, 3 if self.batched else 2]
        elif e.func == "trace":
            dims = batch + [self.steps_static if self.steps_static is not None else -1, pop.size]
        else:
            dims = batch + [pop.size]
        got = tensor(elem, dims)
        self._check_result(e, res, got, None)
        return self.add(body, snn.DecodeOp(pop.value, e.func, got), e)

    def _check_result(self, e: ast.Expr, res: ast.Result, got: TensorType, _w) -> None:
        want = port_type(res.type, self.fail)
        ok = isinstance(want, TensorType) and want.get_num_dims() == got.get_num_dims() and \
            want.element_type == got.element_type and isinstance(want.encoding, NoneAttr) and all(
                w < 0 or g < 0 or w == g for w, g in zip(want.get_shape(), got.get_shape()))
        if not ok:
            raise self.fail(e, f"this output is {show(got)}, but the result is declared {show(want)}")
