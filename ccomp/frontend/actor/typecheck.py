"""Declaration-level checks of actor programs, with located errors: message field
types, queues, state variables and their initial values, handler signatures and
pipelines. Handler bodies are typed by :mod:`ccomp.frontend.actor.handlers`.

The result is a :class:`Declared` table the generator reads, so every name an actor
program uses (message types, actors, fields) is resolved once, here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from xdsl.dialects.builtin import NoneAttr, TensorType

from ccomp.frontend import ast, decls
from ccomp.frontend.actor import ast as A
from ccomp.frontend.typecheck import I32_MAX, did_you_mean, literal_of
from ccomp.frontend.types import SCALARS, Ty, fits_literal, tensor_type

Fail = Callable[[ast.Node, str], Exception]
POLICIES = ("block", "reject", "drop_oldest")
DEFAULT_CAPACITY, DEFAULT_POLICY = 1024, "block"
FieldTy = Ty | TensorType
VECTORS = {"vec2": 2, "vec3": 3, "vec4": 4}


@dataclass
class Message:
    decl: A.MessageDecl
    fields: dict[str, FieldTy]


@dataclass
class Actor:
    decl: A.ActorDecl
    capacity: int = DEFAULT_CAPACITY
    policy: str = DEFAULT_POLICY
    delivery: str = "at_most_once"
    checkpoint_every: int = 0
    scaleout_seen: set[str] = field(default_factory=set)  # delivery / checkpoint, each once
    states: dict[str, tuple[A.StateDecl, Ty, int | float | bool]] = field(default_factory=dict)
    handlers: dict[str, A.HandlerDecl] = field(default_factory=dict)


@dataclass
class Declared:
    messages: dict[str, Message] = field(default_factory=dict)
    actors: dict[str, Actor] = field(default_factory=dict)


def field_type(t: ast.TypeRef, fail: Fail) -> FieldTy:
    """A message field: a scalar, ``vecN`` (read as ``tensor<Nxf32>`` in handler bodies)
    or a dense rank-1 ``tensor<?xf32>``/``tensor<Nxf32>``."""
    if t.name in VECTORS and not t.args:
        return tensor_type(1, None, [VECTORS[t.name]])
    if t.name == "tensor":
        tt = decls.tensor_type_of(t, fail)
        if tt.get_num_dims() != 1 or tt.encoding != NoneAttr():
            raise fail(t, "a message field holds a dense rank-1 tensor: tensor<?xf32> or tensor<Nxf32>")
        return tt
    if t.name in SCALARS:
        if t.args:
            raise fail(t, f"{t.name} takes no type arguments")
        return Ty(t.name)
    raise fail(t, f"unknown field type '{t.name}'; a field is f32, f64, i32, i64, bool, vec2-vec4, "
                  f"tensor<?xf32> or tensor<Nxf32>" + did_you_mean(t.name, [*SCALARS, *VECTORS, "tensor"]))


def check_message(d: A.MessageDecl, fail: Fail) -> Message:
    fields: dict[str, FieldTy] = {}
    for f in d.fields:
        if f.name in fields:
            raise fail(f, f"field '{f.name}' of message {d.name} is declared twice")
        fields[f.name] = field_type(f.type, fail)
    if not fields:
        raise fail(d, f"message {d.name} has no fields; a message carries at least one")
    return Message(d, fields)


def state_init(s: A.StateDecl, ty: Ty, fail: Fail) -> int | float | bool:
    """The initial value: a literal of the state's type (an integer for a float state)."""
    if isinstance(s.init, ast.Bool):
        if ty.elem != "bool":
            raise fail(s.init, f"state '{s.name}' is {ty.elem}, but its initial value is a bool")
        return s.init.value
    lit = literal_of(s.init)
    if lit is None:
        raise fail(s.init, f"the initial value of state '{s.name}' must be a literal")
    number, sign = lit
    if ty.elem == "bool":
        raise fail(s.init, f"state '{s.name}' is bool; its initial value is true or false")
    if number.is_float and ty.is_int:
        raise fail(s.init, f"state '{s.name}' is {ty.elem}, but its initial value {number.text} is a float")
    value = sign * number.value
    if not fits_literal(value, ty.elem):
        raise fail(s.init, f"the initial value {number.text} does not fit in {ty.elem}")
    return float(value) if ty.is_float else int(value)


def check_actor(d: A.ActorDecl, messages: dict[str, Message], fail: Fail) -> Actor:
    actor = Actor(d)
    queue = None
    for item in d.items:
        if isinstance(item, A.QueueDecl):
            if queue is not None:
                raise fail(item, f"actor '{d.name}' declares its queue twice")
            queue = item
            text = item.capacity.name
            if not text.isdigit() or not 1 <= int(text) <= I32_MAX:
                raise fail(item.capacity, f"the queue capacity must be a whole number from 1 to {I32_MAX}, "
                                          f"got {text}")
            if item.policy.name not in POLICIES:
                raise fail(item.policy, f"unknown backpressure policy '{item.policy.name}'; "
                                        f"choose block, reject or drop_oldest"
                                        + did_you_mean(item.policy.name, POLICIES))
            actor.capacity, actor.policy = int(text), item.policy.name
        elif isinstance(item, (A.DeliveryDecl, A.CheckpointDecl)):
            check_scaleout(item, actor, fail)
        elif isinstance(item, A.StateDecl):
            if item.name in actor.states:
                raise fail(item, f"state '{item.name}' is declared twice")
            if item.type.name not in SCALARS or item.type.args:
                raise fail(item.type, f"state '{item.name}' must be a scalar: f32, f64, i32, i64 or bool")
            ty = Ty(item.type.name)
            actor.states[item.name] = (item, ty, state_init(item, ty, fail))
        else:
            assert isinstance(item, A.HandlerDecl)
            name = item.message.name
            if name not in messages:
                raise fail(item.message, f"unknown message type '{name}'" + did_you_mean(name, messages))
            if item.reply is not None and item.reply.name not in messages:
                raise fail(item.reply, f"unknown message type '{item.reply.name}'"
                                       + did_you_mean(item.reply.name, messages))
            if name in actor.handlers:
                raise fail(item, f"actor '{d.name}' already has a handler for {name}")
            if item.param.name in actor.states:
                raise fail(item.param, f"'{item.param.name}' is a state of actor '{d.name}'; "
                                       f"name the message something else")
            actor.handlers[name] = item
    if not actor.handlers:
        raise fail(d, f"actor '{d.name}' handles no message; add a handler: on Msg(m) {{ ... }}")
    return actor


DELIVERIES = ("at_most_once", "at_least_once")


def check_scaleout(item: A.Node, actor: Actor, fail: Fail) -> None:
    """``delivery`` and ``checkpoint every``: each at most once, with a known value."""
    what = "delivery" if isinstance(item, A.DeliveryDecl) else "checkpoint"
    if what in actor.scaleout_seen:
        raise fail(item, f"actor '{actor.decl.name}' declares its {what} twice")
    actor.scaleout_seen.add(what)
    if isinstance(item, A.DeliveryDecl):
        if item.policy.name not in DELIVERIES:
            raise fail(item.policy, f"unknown delivery '{item.policy.name}'; choose at_most_once or at_least_once"
                                    + did_you_mean(item.policy.name, DELIVERIES))
        actor.delivery = item.policy.name
        return
    text = item.every.name
    if not text.isdigit() or not 1 <= int(text) <= I32_MAX:
        raise fail(item.every, f"checkpoint every N takes a whole number of messages from 1 to {I32_MAX}, got {text}")
    actor.checkpoint_every = int(text)


def check_pipeline(d: A.PipelineDecl, declared: Declared, fail: Fail) -> tuple[list[str], list[tuple[str, str]]]:
    """Stages (in order) and edges; every stage an actor, none twice (so no cycle), and
    every stage fed by another handles what that one replies."""
    stages: list[str] = []
    for group in d.groups:
        for s in group:
            if s.name not in declared.actors:
                raise fail(s, f"unknown actor '{s.name}' in pipeline '{d.name}'"
                              + did_you_mean(s.name, declared.actors))
            if s.name in stages:
                raise fail(s, f"actor '{s.name}' appears twice in pipeline '{d.name}'; "
                              f"a pipeline may not loop back")
            stages.append(s.name)
    edges = []
    for before, after in zip(d.groups, d.groups[1:]):
        for a in before:
            replies = {h.reply.name for h in declared.actors[a.name].handlers.values() if h.reply is not None}
            if not replies:
                raise fail(a, f"'{a.name}' sends no replies, so it cannot feed the next stage of '{d.name}'")
            for b in after:
                missing = sorted(replies - set(declared.actors[b.name].handlers))
                if missing:
                    raise fail(b, f"'{b.name}' has no handler for {missing[0]}, which '{a.name}' replies")
                edges.append((a.name, b.name))
    return stages, edges
