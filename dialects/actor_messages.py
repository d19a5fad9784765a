"""The ``actor`` dialect's message types and pipelines (``actor.message``,
``actor.pipeline``) and the lookups its other ops share; the dialect itself is
assembled in :mod:`ccomp.dialects.actor`. Split out so each file stays one concern:
here the declarations that only name things, there actors and handlers."""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import (
    ArrayAttr,
    ModuleOp,
    NoneAttr,
    StringAttr,
    SymbolNameConstraint,
    SymbolRefAttr,
    TensorType,
    TypeAttribute,
)
from xdsl.ir import Attribute, SSAValue
from xdsl.irdl import IRDLOperation, ParsePropInAttrDict, irdl_op_definition, prop_def, traits_def
from xdsl.traits import SymbolOpInterface, SymbolTable
from xdsl.utils.exceptions import VerifyException


def names_of(attr: ArrayAttr) -> list[str]:
    return [a.data for a in attr.data]

@irdl_op_definition
class MessageOp(IRDLOperation):
    """A message type: field ``names`` and their ``types``, in order."""

    name = "actor.message"
    sym_name = prop_def(SymbolNameConstraint())
    names = prop_def(ArrayAttr[StringAttr])
    types = prop_def(ArrayAttr)
    traits = traits_def(SymbolOpInterface())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$sym_name attr-dict"

    def __init__(self, sym_name: str, fields: Sequence[tuple[str, Attribute]]):
        super().__init__(properties={
            "sym_name": StringAttr(sym_name),
            "names": ArrayAttr([StringAttr(n) for n, _ in fields]),
            "types": ArrayAttr([t for _, t in fields])})

    @property
    def fields(self) -> list[tuple[str, Attribute]]:
        return list(zip(names_of(self.names), self.types.data))

    def verify_(self) -> None:
        names = names_of(self.names)
        if len(names) != len(self.types.data):
            raise VerifyException(f"message @{self.sym_name.data} has {len(names)} field names "
                                  f"but {len(self.types.data)} types")
        if len(set(names)) != len(names):
            raise VerifyException(f"message @{self.sym_name.data} repeats a field name")
        for n, t in self.fields:
            if not isinstance(t, TypeAttribute):
                raise VerifyException(f"field '{n}' of @{self.sym_name.data} is not a type")
            if isinstance(t, TensorType) and (t.get_num_dims() != 1 or t.encoding != NoneAttr()):
                raise VerifyException(f"field '{n}' of @{self.sym_name.data}: tensors are dense and rank 1")

def lookup_message(op: IRDLOperation, ref: SymbolRefAttr) -> MessageOp:
    module = op
    while module is not None and not isinstance(module, ModuleOp):
        module = module.parent_op()
    found = SymbolTable.lookup_symbol(module, ref) if module is not None else None
    if not isinstance(found, MessageOp):
        raise VerifyException(f"{op.name} refers to unknown message @{ref.root_reference.data}")
    return found


def check_values(what: str, values: Sequence[SSAValue], msg: MessageOp) -> None:
    got, want = [v.type for v in values], [t for _, t in msg.fields]
    if got != want:
        raise VerifyException(f"{what} gives ({', '.join(map(str, got))}) but @{msg.sym_name.data} "
                              f"has fields ({', '.join(map(str, want))})")


@irdl_op_definition
class PipelineOp(IRDLOperation):
    """A pipeline: its ``stages`` (actors), ``edges`` (``[from, to]`` pairs: replies of
    ``from`` feed ``to``), ``entries`` and ``exits``."""

    name = "actor.pipeline"
    sym_name = prop_def(SymbolNameConstraint())
    stages = prop_def(ArrayAttr[StringAttr])
    edges = prop_def(ArrayAttr)
    entries = prop_def(ArrayAttr[StringAttr])
    exits = prop_def(ArrayAttr[StringAttr])
    traits = traits_def(SymbolOpInterface())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$sym_name attr-dict"

    def __init__(self, sym_name: str, stages: Sequence[str], edges: Sequence[tuple[str, str]],
                 entries: Sequence[str], exits: Sequence[str]):
        def strs(xs: Sequence[str]) -> ArrayAttr:
            return ArrayAttr([StringAttr(x) for x in xs])
        super().__init__(properties={"sym_name": StringAttr(sym_name), "stages": strs(stages),
                                     "edges": ArrayAttr([strs(e) for e in edges]),
                                     "entries": strs(entries), "exits": strs(exits)})

    @property
    def edge_list(self) -> list[tuple[str, str]]:
        return [tuple(names_of(e)) for e in self.edges.data]  # type: ignore[misc]

    def verify_(self) -> None:
        stages = names_of(self.stages)
        if not stages or len(set(stages)) != len(stages):
            raise VerifyException(f"pipeline @{self.sym_name.data} needs distinct stages")
        for e in self.edges.data:
            if not isinstance(e, ArrayAttr) or len(e.data) != 2 or any(
                    not isinstance(s, StringAttr) or s.data not in stages for s in e.data):
                raise VerifyException(f"pipeline @{self.sym_name.data}: an edge is a pair of its stages")
        for s in (*names_of(self.entries), *names_of(self.exits)):
            if s not in stages:
                raise VerifyException(f"pipeline @{self.sym_name.data}: '{s}' is not one of its stages")

