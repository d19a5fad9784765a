"""The ``loop`` dialect: repeat zones (level L1, and L2 host schedules until
``loop-pingpong`` turns them into ``scf.for``).

``loop.repeat`` runs its body ``count`` times (a runtime ``i32``; zero or negative
runs it not at all). Its block arguments are the iteration index (``i32``, from 0)
and the loop-carried state; ``loop.yield`` gives the next state. State may be of
any type — images, memrefs, scalars, vectors — and an image's size may change from
one iteration to the next. With ``count`` = 0 the results are the initial values.

    %r = loop.repeat %steps (%u0) : (!graph.image<f32>) -> !graph.image<f32> {
    ^bb0(%i: i32, %u: !graph.image<f32>):
      ...
      loop.yield %next : !graph.image<f32>
    }
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import i32
from xdsl.ir import Attribute, Dialect, Region, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    irdl_op_definition,
    operand_def,
    region_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.traits import HasParent, IsTerminator, Pure, RecursiveMemoryEffect
from xdsl.utils.exceptions import VerifyException

from ccomp.dialects.common import check_types, terminator


@irdl_op_definition
class RepeatOp(IRDLOperation):
    """Run the body ``count`` times, threading ``inits`` through as state."""

    name = "loop.repeat"
    count = operand_def(i32)
    inits = var_operand_def()
    res = var_result_def()
    body = region_def("single_block")
    traits = traits_def(RecursiveMemoryEffect())

    assembly_format = "$count `(` $inits `)` attr-dict `:` functional-type($inits, $res) $body"

    def __init__(self, count: SSAValue, inits: Sequence[SSAValue], body: Region,
                 result_types: Sequence[Attribute] | None = None):
        types = [v.type for v in inits] if result_types is None else list(result_types)
        super().__init__(operands=[count, inits], result_types=[types], regions=[body])

    def verify_(self) -> None:
        block = self.body.block
        if len(block.args) != len(self.inits) + 1 or block.args[0].type != i32:
            raise VerifyException("loop.repeat body takes the iteration index (i32) and one argument per state")
        for arg, init, res in zip(block.args[1:], self.inits, self.res):
            if arg.type != res.type:
                raise VerifyException(f"loop.repeat state argument {arg.type} does not match its result {res.type}")
            if not _compatible(init.type, res.type):
                raise VerifyException(f"loop.repeat initial value {init.type} does not match its state {res.type}")
        last = terminator(self, block, YieldOp)
        check_types("loop.yield values must match the loop.repeat state types",
                    [v.type for v in last.values], [r.type for r in self.res])


def _compatible(a: Attribute, b: Attribute) -> bool:
    return a == b


@irdl_op_definition
class YieldOp(IRDLOperation):
    """The next iteration's state."""

    name = "loop.yield"
    values = var_operand_def()
    traits = traits_def(IsTerminator(), HasParent(RepeatOp), Pure())
    assembly_format = "($values^ `:` type($values))? attr-dict"

    def __init__(self, values: Sequence[SSAValue]):
        super().__init__(operands=[values])


Loop = Dialect("loop", [RepeatOp, YieldOp], [])
