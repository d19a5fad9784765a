"""Compile an actor program (``message``/``actor``/``pipeline``) into the
:class:`~ccomp.runtime.actors.spec.ActorProgram` the actor runtime runs.

The flow is the one of every program: frontend (``actor`` dialect), ``actor-lower``
(one kernel and one host function per handler), canonicalize/cse, code generation for
the target, and a :class:`ccomp.api.Program` per handler — the same device, pool,
host schedule runner (native on llvm) and fast argument binding as any program. A
handler's ``run(state, batch)`` binds the batch's columns to its host function's
ports, calls it once, and turns the per-row status into failed rows with located
diagnostics; the kernel has already kept the state as the successful rows made it.
"""

from __future__ import annotations

import os
from pathlib import Path

from xdsl.dialects import func
from xdsl.dialects.builtin import FileLineColLoc, ModuleOp

from ccomp.diagnostics import CompileError, Source, SourceLoc
from ccomp.dialects import actor, kern
from ccomp.driver.actor_batches import HandlerRunner, dtype_of, field_spec
from ccomp.runtime.actors.spec import ActorProgram, ActorSpec, HandlerSpec, MessageSpec, PipelineSpec, StateSpec

PASSES = "cse,actor-lower,canonicalize,cse"
"""What turns the frontend's ``actor`` module into kernels and host functions. The
first ``cse`` merges identical reductions of a handler (``sum(m.data)`` and the sum
inside ``mean(m.data)``), so each message's data is walked once instead of twice."""


def _source(src_or_path: str | os.PathLike[str], filename: str | None) -> Source:
    """A ``PathLike`` is a file; a ``str`` is program text, or a file when it looks like
    a path to one (``ccomp.actors.load("stats.cn")``)."""
    from ccomp.frontend.text import looks_like_path, source_from_file, source_from_text

    if isinstance(src_or_path, os.PathLike) or (looks_like_path(src_or_path) and Path(src_or_path).is_file()):
        source = source_from_file(src_or_path)
        return source if filename is None else Source(filename, source.text)
    return source_from_text(src_or_path, filename or "<string>")


def lower_actor_module(source: Source) -> ModuleOp:
    """The program after ``actor-lower``: actor ops, kernels and host functions (the
    same for every target: handler kernels bind few buffers and need no per-target
    pass options)."""
    from ccomp.driver.pipeline import run_passes
    from ccomp.frontend import lower_to_l1

    module = lower_to_l1(source)
    if not any(isinstance(op, actor.ActorOp) for op in module.body.block.ops):
        raise CompileError(f"{source.name}: the program declares no actor")
    run_passes(module, PASSES)
    return module


def compile_actor_program(src_or_path: str | os.PathLike[str], target: str = "llvm", *,
                          filename: str | None = None) -> ActorProgram:
    """Compile an actor program for ``target``; errors are located :class:`CompileError`."""
    from ccomp.api import check_target, generate

    target = check_target(target)
    source = _source(src_or_path, filename)
    module = lower_actor_module(source)
    ops = list(module.body.block.ops)
    kernels = {k.kernel_name: k for k in ops if isinstance(k, kern.KernelOp)}
    messages = {m.sym_name.data: m for m in ops if isinstance(m, actor.MessageOp)}
    message_specs = {name: MessageSpec(name, tuple(field_spec(n, t) for n, t in m.fields))
                     for name, m in messages.items()}
    hosts = {f.sym_name.data: f for f in ops if isinstance(f, func.FuncOp)}
    actors = {}
    for a in (op for op in ops if isinstance(op, actor.ActorOp)):
        states = tuple(StateSpec(s.sym_name.data, dtype_of(s.state_type), (), _init(s)) for s in a.states)
        handlers = {}
        for h in a.handlers:
            # each handler's own kernel and host function: a device compiles only its code
            host = hosts[h.host.root_reference.data].clone()
            code_module = ModuleOp([kernels[f"{host.sym_name.data}_0"].clone(), host])
            runner = HandlerRunner(source, target, code_module, generate(code_module, target), host, message_specs,
                                   h.message.root_reference.data,
                                   h.reply.root_reference.data if h.reply is not None else None,
                                   [s.name for s in states], _checks(host, source))
            handlers[runner.message] = HandlerSpec(runner.message, runner.reply, runner.sends, runner)
        delivery, every = a.attributes.get("delivery"), a.attributes.get("checkpoint_every")  # docs/scaleout.md
        actors[a.sym_name.data] = ActorSpec(a.sym_name.data, a.capacity.value.data, a.policy.data, states, handlers,
                                            delivery.data if delivery is not None else "at_most_once",
                                            every.value.data if every is not None else 0)
    pipelines = {p.sym_name.data: PipelineSpec(p.sym_name.data, tuple(s.data for s in p.stages.data),
                                               tuple(p.edge_list), tuple(s.data for s in p.entries.data),
                                               tuple(s.data for s in p.exits.data))
                 for p in ops if isinstance(p, actor.PipelineOp)}
    return ActorProgram(target, message_specs, actors, pipelines, source.name)


def _init(s: actor.StateOp) -> float | int | bool:
    """A state's initial value (the frontend writes an integer or float literal of its
    type; a bool is an ``i1`` integer)."""
    value = s.init.value.data  # type: ignore[attr-defined]
    return bool(value) if dtype_of(s.state_type) == "bool" else value


def _checks(host: func.FuncOp, source: Source) -> list[tuple[str, SourceLoc | None]]:
    """The messages and locations of a handler's checks, numbered from 1 in its status."""
    messages = [m.data for m in host.attributes[actor.CHECKS].data]
    locs = []
    for loc in host.attributes[actor.CHECK_LOCATIONS].data:
        if isinstance(loc, FileLineColLoc):
            locs.append(SourceLoc(source.name, loc.line.data, loc.column.data))
        else:
            locs.append(None)
    return list(zip(messages, locs))

