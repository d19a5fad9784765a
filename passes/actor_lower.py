"""``actor-lower``: every ``actor.handler`` becomes a kernel over a batch of messages
plus the host function that runs it (:mod:`ccomp.passes.lowering.actor_kernel`).

**Guarantees**: afterwards no ``actor.handler`` has a body; each names its host
function (``host @<actor>__<message>``), which takes the batch as struct-of-arrays
buffers and the actor's state, launches one kernel (``<host>_0``) and returns the
per-row status, the next state and the outgoing messages' columns. Message types,
actors, their state and queues, and pipelines stay as they are: they are what the
runtime needs to run the program (``ccomp.driver.actors`` reads them).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, SymbolRefAttr
from xdsl.ir import Region
from xdsl.passes import ModulePass

from ccomp.dialects import actor
from ccomp.passes.lowering.actor_kernel import HandlerLowering


def host_name(act: actor.ActorOp, handler: actor.HandlerOp) -> str:
    return f"{act.sym_name.data}__{handler.message.root_reference.data}"


@dataclass(frozen=True)
class ActorLowerPass(ModulePass):
    name = "actor-lower"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        messages = {m.sym_name.data: m for m in op.body.block.ops if isinstance(m, actor.MessageOp)}
        made = []
        for act in [a for a in op.body.block.ops if isinstance(a, actor.ActorOp)]:
            for handler in act.handlers:
                if not handler.body.blocks:
                    continue
                name = host_name(act, handler)
                kernel, host = HandlerLowering(act, handler, messages, name).lower()
                made += [kernel, host]
                handler.properties["host"] = SymbolRefAttr(name)
                handler.body.move_blocks(Region())  # the body lives on in the kernel; drop it here
        op.body.block.add_ops(made)
