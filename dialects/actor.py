"""The ``actor`` dialect (level L1): message types, actors with state and a bounded
queue, handlers, send/reply, and the wiring of pipelines.

A message type is a symbol with named, typed fields (scalars, ``tensor<Nxf32>``,
``tensor<?xf32>``). An actor owns a queue (capacity, backpressure policy), state
variables with initial values, and one handler per message type it accepts. A
handler's body computes ONE message: its block arguments are the message's fields,
then the actor's state variables, in declaration order; it may ``actor.reply`` once
and ``actor.send`` to other actors, and ends in ``actor.return`` with the next value
of every state variable. ``actor-lower`` turns each handler into a kernel over a batch
of queued messages and records the host function on the handler (``host``), whose
body is then empty::

    actor.message @Samples {names = ["data"], types = [tensor<?xf32>]}
    actor.message @Summary {names = ["total", "count"], types = [f64, i64]}
    actor.actor @summarise capacity 1024 policy "block" {
      actor.state @seen : i64 = 0 : i64
      actor.handler @Samples -> @Summary {
      ^bb0(%data: tensor<?xf32>, %seen: i64):
        ...
        actor.reply @Summary (%total, %next) : f64, i64
        actor.return %next : i64
      }
    }
    actor.pipeline @stats {stages = ["summarise"], edges = [], entries = ["summarise"], exits = ["summarise"]}

Names of fields and stages are plain strings: the dialect knows nothing of the
language, only what the runtime contract (``ccomp.runtime.actors.spec``) needs.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import (
    IntegerAttr,
    IntegerType,
    I64,
    ModuleOp,
    StringAttr,
    SymbolNameConstraint,
    SymbolRefAttr,
    TensorType,
    TypeAttribute,
    i64,
)
from xdsl.dialects.func import FuncOp
from xdsl.ir import Attribute, Dialect, Region, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.traits import HasParent, IsTerminator, NoTerminator, Pure, SymbolOpInterface, SymbolTable
from xdsl.utils.exceptions import VerifyException

from ccomp.dialects.actor_messages import MessageOp, PipelineOp, check_values, lookup_message

#: Backpressure policies (the runtime's ``spec.POLICIES``, spelt here too because
#: dialects import nothing of ccomp).
POLICIES = ("block", "reject", "drop_oldest")

#: Attributes ``actor-lower`` puts on a handler's host function: the message of each
#: check a row may fail (its status is the check's number, from 1) and its location,
#: and for each variable-length output the input field whose offsets it shares (or
#: its fixed length).
CHECKS, CHECK_LOCATIONS, LENGTHS = "actor.checks", "actor.check_locations", "actor.lengths"
#: ... and the message type of each outgoing message (the reply and the sends, in the
#: order of the host function's outputs).
OUT_MESSAGES = "actor.out_messages"
#: ... and the loop iterations one message costs in the kernel: per input field, how
#: many loops run as long as it; ``""`` fixed iterations; ``"?"`` when unbounded (a
#: length known only at run time). llvmpipe stops a shader invocation after 65535 loop
#: iterations in all, so the glsl runner splits batches by it.
LOOP_COST = "actor.loop_cost"


@irdl_op_definition
class ActorOp(IRDLOperation):
    """An actor: queue ``capacity`` and backpressure ``policy``; its body holds its
    ``actor.state`` and ``actor.handler`` ops."""

    name = "actor.actor"
    sym_name = prop_def(SymbolNameConstraint())
    capacity = prop_def(IntegerAttr[I64])
    policy = prop_def(StringAttr)
    body = region_def("single_block")
    traits = traits_def(SymbolOpInterface(), NoTerminator())
    assembly_format = "$sym_name `capacity` $capacity `policy` $policy attr-dict-with-keyword $body"

    def __init__(self, sym_name: str, capacity: int, policy: str, body: Region):
        super().__init__(properties={"sym_name": StringAttr(sym_name), "capacity": IntegerAttr(capacity, i64),
                                     "policy": StringAttr(policy)}, regions=[body])

    @property
    def states(self) -> list["StateOp"]:
        return [op for op in self.body.block.ops if isinstance(op, StateOp)]

    @property
    def handlers(self) -> list["HandlerOp"]:
        return [op for op in self.body.block.ops if isinstance(op, HandlerOp)]

    def verify_(self) -> None:
        if self.capacity.value.data < 1:
            raise VerifyException(f"actor @{self.sym_name.data}: queue capacity must be at least 1")
        if self.policy.data not in POLICIES:
            raise VerifyException(f"actor @{self.sym_name.data}: unknown backpressure policy "
                                  f"'{self.policy.data}' (one of {', '.join(POLICIES)})")
        seen: set[str] = set()
        for h in self.handlers:
            m = h.message.root_reference.data
            if m in seen:
                raise VerifyException(f"actor @{self.sym_name.data} has two handlers for @{m}")
            seen.add(m)


@irdl_op_definition
class StateOp(IRDLOperation):
    """A state variable of its actor: ``@name : type = init``."""

    name = "actor.state"
    sym_name = prop_def(SymbolNameConstraint())
    state_type = prop_def(TypeAttribute)
    init = prop_def(Attribute)
    traits = traits_def(HasParent(ActorOp))
    assembly_format = "$sym_name `:` $state_type `=` $init attr-dict"

    def __init__(self, sym_name: str, state_type: Attribute, init: Attribute):
        super().__init__(properties={"sym_name": StringAttr(sym_name), "state_type": state_type, "init": init})

@irdl_op_definition
class HandlerOp(IRDLOperation):
    """The handler of ``message`` (replying ``reply`` when set). Before ``actor-lower``
    its body computes one message (see the module docstring); afterwards the body is
    empty and ``host`` names the host function that runs a batch."""

    name = "actor.handler"
    message = prop_def(SymbolRefAttr)
    reply = opt_prop_def(SymbolRefAttr)
    host = opt_prop_def(SymbolRefAttr)
    body = region_def()
    traits = traits_def(HasParent(ActorOp))
    assembly_format = "$message (`->` $reply^)? (`host` $host^)? attr-dict-with-keyword $body"

    def __init__(self, message: str, reply: str | None, body: Region, host: str | None = None):
        props: dict[str, Attribute] = {"message": SymbolRefAttr(message)}
        if reply is not None:
            props["reply"] = SymbolRefAttr(reply)
        if host is not None:
            props["host"] = SymbolRefAttr(host)
        super().__init__(properties=props, regions=[body])

    def verify_(self) -> None:
        msg = lookup_message(self, self.message)
        if self.reply is not None:
            lookup_message(self, self.reply)
        if not self.body.blocks:
            if self.host is None:
                raise VerifyException("actor.handler has neither a body nor a host function")
            module = self.parent_op().parent_op() if self.parent_op() is not None else None
            if isinstance(module, ModuleOp) and not isinstance(SymbolTable.lookup_symbol(module, self.host), FuncOp):
                raise VerifyException(f"actor.handler names host @{self.host.root_reference.data}, "
                                      f"which is no func.func of the module")
            return
        actor = self.parent_op()
        states = actor.states if isinstance(actor, ActorOp) else []
        want = [t for _, t in msg.fields] + [s.state_type for s in states]
        got = [a.type for a in self.body.block.args]
        if got != want:
            raise VerifyException(f"actor.handler of @{msg.sym_name.data} takes ({', '.join(map(str, got))}); "
                                  f"expected its fields then the actor's state ({', '.join(map(str, want))})")
        replies = [op for op in self.body.walk() if isinstance(op, ReplyOp)]
        if self.reply is None and replies:
            raise VerifyException("actor.reply in a handler without a reply type")
        if self.reply is not None and len(replies) != 1:
            raise VerifyException(f"a handler replying @{self.reply.root_reference.data} must reply exactly once")
        last = self.body.block.last_op
        if not isinstance(last, ReturnOp) or [v.type for v in last.values] != [s.state_type for s in states]:
            raise VerifyException("actor.handler must end in actor.return of the next value of every state")


@irdl_op_definition
class ReplyOp(IRDLOperation):
    """Reply to the message being handled with a ``message`` built from ``values``
    (one per field, in order)."""

    name = "actor.reply"
    message = prop_def(SymbolRefAttr)
    values = var_operand_def()
    traits = traits_def(HasParent(HandlerOp))
    assembly_format = "$message `(` $values `)` attr-dict `:` type($values)"

    def __init__(self, message: str, values: Sequence[SSAValue]):
        super().__init__(operands=[values], properties={"message": SymbolRefAttr(message)})

    def verify_(self) -> None:
        check_values("actor.reply", self.values, lookup_message(self, self.message))
        handler = self.parent_op()
        if isinstance(handler, HandlerOp) and handler.reply != self.message:
            raise VerifyException(f"actor.reply of @{self.message.root_reference.data} in a handler that "
                                  f"replies {handler.reply}")


@irdl_op_definition
class SendOp(IRDLOperation):
    """Send a ``message`` built from ``values`` to actor ``target``."""

    name = "actor.send"
    target = prop_def(SymbolRefAttr)
    message = prop_def(SymbolRefAttr)
    values = var_operand_def()
    traits = traits_def(HasParent(HandlerOp))
    assembly_format = "$target $message `(` $values `)` attr-dict `:` type($values)"

    def __init__(self, target: str, message: str, values: Sequence[SSAValue]):
        super().__init__(operands=[values], properties={"target": SymbolRefAttr(target),
                                                        "message": SymbolRefAttr(message)})

    def verify_(self) -> None:
        check_values("actor.send", self.values, lookup_message(self, self.message))
        module = self
        while module is not None and not isinstance(module, ModuleOp):
            module = module.parent_op()
        target = SymbolTable.lookup_symbol(module, self.target) if module is not None else None
        name, msg = self.target.root_reference.data, self.message.root_reference.data
        if not isinstance(target, ActorOp):
            raise VerifyException(f"actor.send to unknown actor @{name}")
        if all(h.message != self.message for h in target.handlers):
            raise VerifyException(f"actor.send of @{msg} to @{name}, which has no handler for it")


@irdl_op_definition
class ReturnOp(IRDLOperation):
    """The next value of every state variable of the actor, in declaration order."""

    name = "actor.return"
    values = var_operand_def()
    traits = traits_def(IsTerminator(), HasParent(HandlerOp))
    assembly_format = "($values^ `:` type($values))? attr-dict"

    def __init__(self, values: Sequence[SSAValue] = ()):
        super().__init__(operands=[values])


@irdl_op_definition
class ElementOp(IRDLOperation):
    """Element ``index`` of a message's rank-1 tensor. Out of range, the message being
    handled fails (``actor-lower`` checks it per row); the result is then 0."""

    name = "actor.element"
    source = operand_def(TensorType)
    index = operand_def(IntegerType)
    result = result_def()
    traits = traits_def(Pure())
    assembly_format = "$source `[` $index `]` attr-dict `:` type($source) `,` type($index) `->` type($result)"

    def __init__(self, source: SSAValue, index: SSAValue):
        super().__init__(operands=[source, index], result_types=[source.type.element_type])

    def verify_(self) -> None:
        if self.source.type.get_num_dims() != 1 or self.result.type != self.source.type.element_type:
            raise VerifyException("actor.element reads one element of a rank-1 tensor")


Actor = Dialect("actor", [MessageOp, ActorOp, StateOp, HandlerOp, ReplyOp, SendOp, ReturnOp, ElementOp, PipelineOp], [])
