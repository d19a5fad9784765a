"""The ``snn`` dialect: spiking networks (level L1).

A ``network`` program is one ``snn.network`` op: its body declares populations
(input encoders and LIF layers), the connections between them, plasticity and the
decoders whose values the network returns. The body is a *description*, not code run
in order: ``snn-lower`` turns it into per-step kernels inside a host time loop
(``steps`` iterations of ``dt`` seconds). Every population has a static size, so each
kernel knows its extents; sizes are carried by the type ``!snn.population<N>``.

Batching: when ``batched`` is set, every encoder input has one more leading axis (the
batch) than the population needs, every decoder result one more too, and the network
runs B independent copies (weights are shared; plasticity is not allowed).

    %r = snn.network steps %steps seed %seed dt 1.000000e-03 -> tensor<10xi32> {
      %s = snn.encode %pixels {kind = "poisson", label = "s", param = 100.0 : f64, stream = 256 : i64}
           : tensor<784xf32> -> !snn.population<784>
      %h = snn.lif {label = "h", size = 128 : i64, tau = 1.000000e-02 : f64, ...} : !snn.population<128>
      %c = snn.connect %s, %h, %w1 {delay = 0 : i64, index = 0 : i64}
           : !snn.population<784>, !snn.population<128>, tensor<784x128xf32> -> !snn.synapses
      %n = snn.decode %h {kind = "spike_count"} : !snn.population<128> -> tensor<128xi32>
      snn.yield %n : tensor<128xi32>
    }

Semantics (docs/language.md, "Spiking networks"): exact integration of
``tau dv/dt = -(v - v_rest) + R I`` over each step with I constant in the step; I =
bias + weights of the sources that spiked in the previous step (plus ``delay`` whole
steps); threshold ``v >= v_th``, reset to ``v_reset``; refractory for
``round(refractory/dt)`` steps counting the spike step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects.builtin import (
    I64,
    FloatAttr,
    Float64Type,
    IntegerAttr,
    StringAttr,
    TensorType,
    UnitAttr,
    f64,
    i32,
    i64,
)
from xdsl.ir import Attribute, Dialect, Region, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.traits import HasParent, IsTerminator, RecursiveMemoryEffect
from xdsl.utils.exceptions import VerifyException

from ccomp.dialects.common import check_kind, check_types, enclosing, terminator
from ccomp.dialects.snn_types import (  # noqa: F401 - re-exported: the dialect's types and contracts
    DELIVERY, WEIGHTS_FILE, PopulationType, SynapsesType, delivery_lines, population_size,
)

ENCODERS = ("poisson", "latency", "spikes")
DECODERS = ("spike_count", "rate", "first_spike", "voltage", "raster", "trace")
INITIALISERS = ("uniform", "normal")
STREAM_POISSON = 0x100  # Philox stream (counter word 3) of input encoder k: 0x100 + k
STREAM_INIT = 0x200  # of the initialiser of connection k: 0x200 + k

def _network(op: IRDLOperation) -> "NetworkOp":
    net = enclosing(op, NetworkOp)
    if net is None:
        raise VerifyException(f"{op.name} must be inside an snn.network")
    return net


def _f64(v: float) -> FloatAttr:
    return FloatAttr(float(v), f64)


def _i64(v: int) -> IntegerAttr:
    return IntegerAttr(int(v), i64)


@irdl_op_definition
class NetworkOp(IRDLOperation):
    """Run the network of the body for ``steps`` steps of ``dt`` seconds; the results are
    what ``snn.yield`` gives (decoders and learned weights)."""

    name = "snn.network"
    steps = operand_def(i32)
    seed = operand_def(i64)
    dt = prop_def(FloatAttr[Float64Type])
    batched = opt_prop_def(UnitAttr)
    res = var_result_def()
    body = region_def("single_block")
    traits = traits_def(RecursiveMemoryEffect())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "`steps` $steps `seed` $seed attr-dict-with-keyword `->` type($res) $body"

    def __init__(self, steps: SSAValue, seed: SSAValue, dt: float, body: Region,
                 result_types: Sequence[Attribute], batched: bool = False):
        props: dict[str, Attribute] = {"dt": _f64(dt)}
        if batched:
            props["batched"] = UnitAttr()
        super().__init__(operands=[steps, seed], properties=props, result_types=[list(result_types)],
                         regions=[body])

    @property
    def is_batched(self) -> bool:
        return self.batched is not None

    def verify_(self) -> None:
        if not self.dt.value.data > 0:
            raise VerifyException("snn.network dt must be positive")
        last = terminator(self, self.body.block, YieldOp)
        check_types("snn.yield values must match the snn.network results",
                    [v.type for v in last.values], [r.type for r in self.res])
        if self.is_batched and any(isinstance(o, StdpOp) for o in self.body.block.ops):
            raise VerifyException("a batched snn.network cannot learn (weights are shared by the batch)")


@irdl_op_definition
class EncodeOp(IRDLOperation):
    """Input spikes from ``input``: ``poisson`` (a spike with probability x·param·dt per
    step, param a rate in Hz), ``latency`` (one spike at step round((1 - x)·param/dt),
    param t_max in seconds, none for x <= 0) or ``spikes`` (the given T×N train)."""

    name = "snn.encode"
    input = operand_def(TensorType)
    kind = prop_def(StringAttr)
    label = prop_def(StringAttr)
    param = prop_def(FloatAttr[Float64Type])
    stream = prop_def(IntegerAttr[I64])
    result = result_def(PopulationType)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` type($input) `->` type($result)"

    def __init__(self, x: SSAValue, kind: str, label: str, size: int, param: float = 0.0, stream: int = 0):
        super().__init__(operands=[x], properties={"kind": StringAttr(kind), "label": StringAttr(label),
                                                   "param": _f64(param), "stream": _i64(stream)},
                         result_types=[PopulationType(size)])

    def verify_(self) -> None:
        check_kind("snn.encode kind", self.kind.data, ENCODERS)
        net = _network(self)
        shape = list(self.input.type.get_shape())
        if net.is_batched:
            shape = shape[1:]
        want_rank = 2 if self.kind.data == "spikes" else 1
        if len(shape) != want_rank:
            raise VerifyException(f"snn.encode {self.kind.data} takes a rank-{want_rank} input"
                                  f"{' after the batch axis' if net.is_batched else ''}, got {self.input.type}")
        if shape[-1] != population_size(self.result):
            raise VerifyException(f"snn.encode input has {shape[-1]} elements per step, the population "
                                  f"{population_size(self.result)}")


@irdl_op_definition
class LifOp(IRDLOperation):
    """A layer of ``size`` leaky integrate-and-fire neurons (times in seconds)."""

    name = "snn.lif"
    label = prop_def(StringAttr)
    size = prop_def(IntegerAttr[I64])
    tau = prop_def(FloatAttr[Float64Type])
    v_th = prop_def(FloatAttr[Float64Type])
    v_reset = prop_def(FloatAttr[Float64Type])
    v_rest = prop_def(FloatAttr[Float64Type])
    r = prop_def(FloatAttr[Float64Type])
    refractory = prop_def(FloatAttr[Float64Type])
    bias = prop_def(FloatAttr[Float64Type])
    result = result_def(PopulationType)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "attr-dict `:` type($result)"

    PARAMS: ClassVar[tuple[str, ...]] = ("tau", "v_th", "v_reset", "v_rest", "r", "refractory", "bias")

    def __init__(self, label: str, size: int, **params: float):
        props: dict[str, Attribute] = {"label": StringAttr(label), "size": _i64(size)}
        props.update({k: _f64(params[k]) for k in self.PARAMS})
        super().__init__(properties=props, result_types=[PopulationType(size)])

    def value(self, param: str) -> float:
        return getattr(self, param).value.data

    def verify_(self) -> None:
        _network(self)
        if self.size.value.data != population_size(self.result):
            raise VerifyException("snn.lif size differs from its population type")
        if not self.tau.value.data > 0:
            raise VerifyException("snn.lif tau must be positive")
        if self.refractory.value.data < 0:
            raise VerifyException("snn.lif refractory must not be negative")


@irdl_op_definition
class InitWeightsOp(IRDLOperation):
    """Weights drawn from Philox (stream ``stream``, counter (row, column, 0, stream)):
    ``uniform`` in [a, b) or ``normal`` with mean a and deviation b."""

    name = "snn.init_weights"
    kind = prop_def(StringAttr)
    a = prop_def(FloatAttr[Float64Type])
    b = prop_def(FloatAttr[Float64Type])
    stream = prop_def(IntegerAttr[I64])
    result = result_def(TensorType)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "attr-dict `:` type($result)"

    def __init__(self, kind: str, a: float, b: float, stream: int, rows: int, cols: int):
        from xdsl.dialects.builtin import f32

        super().__init__(properties={"kind": StringAttr(kind), "a": _f64(a), "b": _f64(b), "stream": _i64(stream)},
                         result_types=[TensorType(f32, [rows, cols])])

    def verify_(self) -> None:
        _network(self)
        check_kind("snn.init_weights kind", self.kind.data, INITIALISERS)
        if any(d < 1 for d in self.result.type.get_shape()):
            raise VerifyException("snn.init_weights needs a static shape")


@irdl_op_definition
class ConnectOp(IRDLOperation):
    """``post`` receives the spikes of ``pre`` through ``weights`` (pre × post, dense or a
    sparse encoding) after 1 + ``delay`` steps."""

    name = "snn.connect"
    pre = operand_def(PopulationType)
    post = operand_def(PopulationType)
    weights = operand_def(TensorType)
    delay = prop_def(IntegerAttr[I64])
    index = prop_def(IntegerAttr[I64])
    result = result_def(SynapsesType)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = ("$pre `,` $post `,` $weights attr-dict `:` type($pre) `,` type($post) `,` "
                       "type($weights) `->` type($result)")

    def __init__(self, pre: SSAValue, post: SSAValue, weights: SSAValue, delay: int, index: int):
        super().__init__(operands=[pre, post, weights], properties={"delay": _i64(delay), "index": _i64(index)},
                         result_types=[SynapsesType()])

    def verify_(self) -> None:
        _network(self)
        if not isinstance(self.post.owner, LifOp):
            raise VerifyException("snn.connect must target a snn.lif layer")
        if self.delay.value.data < 0:
            raise VerifyException("snn.connect delay must not be negative")
        shape = tuple(self.weights.type.get_shape())
        want = (population_size(self.pre), population_size(self.post))
        if len(shape) != 2 or any(s >= 0 and s != w for s, w in zip(shape, want)):
            raise VerifyException(f"snn.connect weights {self.weights.type} do not match "
                                  f"{want[0]} sources x {want[1]} targets")


@irdl_op_definition
class StdpOp(IRDLOperation):
    """Pair-based STDP on ``synapses`` (Brian2's classic rule; times in seconds)."""

    name = "snn.stdp"
    synapses = operand_def(SynapsesType)
    a_plus = prop_def(FloatAttr[Float64Type])
    a_minus = prop_def(FloatAttr[Float64Type])
    tau_plus = prop_def(FloatAttr[Float64Type])
    tau_minus = prop_def(FloatAttr[Float64Type])
    w_min = prop_def(FloatAttr[Float64Type])
    w_max = prop_def(FloatAttr[Float64Type])
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$synapses attr-dict"

    PARAMS: ClassVar[tuple[str, ...]] = ("a_plus", "a_minus", "tau_plus", "tau_minus", "w_min", "w_max")

    def __init__(self, synapses: SSAValue, **params: float):
        super().__init__(operands=[synapses], properties={k: _f64(params[k]) for k in self.PARAMS})

    def value(self, param: str) -> float:
        return getattr(self, param).value.data

    def verify_(self) -> None:
        _network(self)
        if not (self.tau_plus.value.data > 0 and self.tau_minus.value.data > 0):
            raise VerifyException("snn.stdp time constants must be positive")
        if self.w_min.value.data > self.w_max.value.data:
            raise VerifyException("snn.stdp w_min exceeds w_max")


@irdl_op_definition
class DecodeOp(IRDLOperation):
    """A result read from a population: ``spike_count``/``first_spike`` (i32 per neuron,
    first_spike −1 if none), ``rate`` (Hz), ``voltage`` (final, LIF only), ``raster``
    ((k, 2) i32 pairs (step, neuron); (k, 3) (batch, step, neuron) when batched) or
    ``trace`` (steps × N membrane potentials, LIF only)."""

    name = "snn.decode"
    population = operand_def(PopulationType)
    kind = prop_def(StringAttr)
    result = result_def(TensorType)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$population attr-dict `:` type($population) `->` type($result)"

    def __init__(self, population: SSAValue, kind: str, result_type: Attribute):
        super().__init__(operands=[population], properties={"kind": StringAttr(kind)}, result_types=[result_type])

    def verify_(self) -> None:
        check_kind("snn.decode kind", self.kind.data, DECODERS)
        _network(self)
        if self.kind.data in ("voltage", "trace") and not isinstance(self.population.owner, LifOp):
            raise VerifyException(f"snn.decode {self.kind.data} reads a snn.lif layer")


@irdl_op_definition
class WeightsOp(IRDLOperation):
    """The weights of ``synapses`` after the run (learned, where ``snn.stdp`` adapts them)."""

    name = "snn.weights"
    synapses = operand_def(SynapsesType)
    result = result_def(TensorType)
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$synapses attr-dict `:` type($result)"

    def __init__(self, synapses: SSAValue, result_type: Attribute):
        super().__init__(operands=[synapses], result_types=[result_type])

    def verify_(self) -> None:
        _network(self)


@irdl_op_definition
class YieldOp(IRDLOperation):
    """The network's results."""

    name = "snn.yield"
    values = var_operand_def()
    traits = traits_def(IsTerminator(), HasParent(NetworkOp))
    assembly_format = "($values^ `:` type($values))? attr-dict"

    def __init__(self, values: Sequence[SSAValue]):
        super().__init__(operands=[values])


Snn = Dialect("snn", [NetworkOp, EncodeOp, LifOp, InitWeightsOp, ConnectOp, StdpOp, DecodeOp, WeightsOp, YieldOp],
              [PopulationType, SynapsesType])
