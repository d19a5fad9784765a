"""The actor runtime: bounded queues, lifecycle, telemetry and batched compiled handlers.

``spec.py`` is the contract with the compiler (what an :class:`ActorProgram` is);
``interface.ActorRuntime`` runs one. Imports here are lazy so that importing
``ccomp.runtime.actors.spec`` (the compiler side does) stays cheap.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "ActorRuntime": "interface", "SyncRuntime": "sync", "TerminationReport": "terminate",
    "ActorState": "lifecycle", "Message": "messages", "Ragged": "messages", "Replies": "outbox",
    "ActorError": "errors", "BadMessage": "errors", "SendRejected": "errors", "IllegalTransition": "errors",
    "ActorStateError": "errors", "UnknownActor": "errors", "MessageFailed": "errors", "WireError": "errors",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ccomp.runtime.actors' has no attribute '{name}'")
    import importlib

    value = getattr(importlib.import_module(f"ccomp.runtime.actors.{module}"), name)
    globals()[name] = value
    return value


__all__ = sorted(_EXPORTS)
