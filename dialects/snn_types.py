"""The types of the ``snn`` dialect and the stage contracts networks leave on a
``func.func`` (declared here, next to the dialect that owns them, as
``sparse_format.py`` does for sparse storage; :mod:`ccomp.dialects.contracts` verifies
them). :mod:`ccomp.dialects.snn` re-exports everything."""

from __future__ import annotations

from xdsl.dialects.builtin import ArrayAttr, IntAttr
from xdsl.ir import Attribute, Operation, ParametrizedAttribute, SSAValue, TypeAttribute
from xdsl.irdl import irdl_attr_definition, param_def
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

WEIGHTS_FILE = "snn.weights_file"
"""Argument attribute: this input holds the weights a program read from a ``.npy``/``.npz``
file at compile time (``StringAttr``, the absolute path); the runtime loads it (with
``allow_pickle=False``) when the caller leaves the input out."""

DELIVERY = "snn.delivery"
"""Function attribute left by ``snn-lower``: one line per connection saying which
delivery path it took and why (``ArrayAttr`` of ``StringAttr``); ``ccomp run --explain``
prints it."""


def delivery_lines(fn: Operation) -> list[str]:
    """The :data:`DELIVERY` lines of a lowered network function (empty for others)."""
    lines = fn.attributes.get(DELIVERY)
    return [str(s.data) for s in lines.data] if isinstance(lines, ArrayAttr) else []


@irdl_attr_definition
class PopulationType(ParametrizedAttribute, TypeAttribute):
    """A population of ``size`` neurons (an encoder's spike sources or a LIF layer)."""

    name = "snn.population"
    size: IntAttr = param_def(IntAttr)

    def __init__(self, size: int):
        super().__init__(IntAttr(size))

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string(f"<{self.size.data}>")

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> list[Attribute]:
        with parser.in_angle_brackets():
            n = parser.parse_integer(allow_negative=False, allow_boolean=False)
        return [IntAttr(n)]

    def verify(self) -> None:
        if self.size.data < 1:
            raise VerifyException("a population has at least one neuron")


@irdl_attr_definition
class SynapsesType(ParametrizedAttribute, TypeAttribute):
    """A connection between two populations (what ``snn.stdp`` and ``snn.weights`` name)."""

    name = "snn.synapses"


def population_size(v: SSAValue) -> int:
    t = v.type
    assert isinstance(t, PopulationType), t
    return t.size.data
