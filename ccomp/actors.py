"""Actors from Python: compile a ``.cn`` program's actors and run them on asyncio.

    import ccomp.actors

    async with ccomp.actors.load("examples/stats.cn", target="llvm") as rt:
        await rt.launch("summarise")
        reply = await rt.ask("summarise", rt.message("Samples", data=[1.0, 2.0, 3.0]))
        print(reply.mean, rt.telemetry("summarise")["latency_us"])

    with ccomp.actors.load_sync("examples/stats.cn") as rt:   # scripts and notebooks
        rt.launch("summarise")
        print(rt.ask("summarise", {"data": [1.0, 2.0]}).total)

The calls are :class:`~ccomp.runtime.actors.interface.ActorRuntime`'s (docs/actors.md).
Importing this module does not compile anything, and ``import ccomp`` does not import it.
"""

from __future__ import annotations

import os
from typing import Any

from ccomp.runtime.actors.errors import (ActorError, ActorStateError, BadMessage, IllegalTransition,
                                         MessageFailed, SendRejected, UnknownActor, WireError)
from ccomp.runtime.actors.interface import ActorRuntime
from ccomp.runtime.actors.lifecycle import ActorState
from ccomp.runtime.actors.messages import Message, Ragged
from ccomp.runtime.actors.outbox import Replies
from ccomp.runtime.actors.spec import ActorProgram
from ccomp.runtime.actors.sync import SyncRuntime
from ccomp.runtime.actors.terminate import TerminationReport


def compile(src_or_path: str | os.PathLike[str], target: str = "llvm", *,
            filename: str | None = None) -> ActorProgram:
    """The compiled :class:`ActorProgram` of a ``.cn`` file (a path) or program text;
    errors are located :class:`ccomp.CompileError`."""
    from ccomp.driver.actors import compile_actor_program

    return compile_actor_program(src_or_path, target, filename=filename)


def load(src_or_path: str | os.PathLike[str] | ActorProgram, target: str = "llvm", *,
         filename: str | None = None, max_batch: int = 1 << 16, runtime: str = "local",
         address: str | None = None) -> ActorRuntime:
    """An :class:`ActorRuntime` for a program (compiled here unless an
    :class:`ActorProgram` is given); use it with ``async with``. ``runtime="ray"``
    puts each actor in a Ray actor process of its own (``address`` joins a cluster;
    docs/scaleout.md) with the same calls."""
    if runtime == "ray":
        from ccomp.driver.ray_actors import load_on_ray
        return load_on_ray(src_or_path, target, filename, address)  # type: ignore[return-value]
    if runtime != "local":
        raise ValueError(f"runtime is 'local' or 'ray', not {runtime!r}")
    program = src_or_path if isinstance(src_or_path, ActorProgram) else compile(src_or_path, target, filename=filename)
    return ActorRuntime(program, max_batch=max_batch)


def load_sync(src_or_path: str | os.PathLike[str] | ActorProgram, target: str = "llvm", **kwargs: Any) -> SyncRuntime:
    """The same runtime with blocking calls (its event loop in a thread of its own), so
    it works in scripts and in notebooks whose loop is already running; use ``with``."""
    return load(src_or_path, target, **kwargs).sync()


__all__ = ["load", "load_sync", "compile", "ActorRuntime", "SyncRuntime", "ActorProgram", "Message", "Ragged",
           "Replies", "ActorState", "TerminationReport", "ActorError", "BadMessage", "SendRejected",
           "IllegalTransition", "ActorStateError", "UnknownActor", "MessageFailed", "WireError"]
