"""Checks of what a user passes to the runtime: which message type an actor takes, a
priority, a correlation id. Each refusal is a :class:`BadMessage` that says what was
wrong; nothing reaches a queue unchecked."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ccomp.runtime.actors.errors import BadMessage
from ccomp.runtime.actors.messages import Codec, Message


def handled_types(targets: list) -> list[str]:
    """The message types every one of ``targets`` (actors) handles."""
    types = list(targets[0].spec.handlers)
    return [t for t in types if all(t in a.spec.handlers for a in targets)]


def message_type(targets: list, wanted: str | None, what: str) -> str:
    """The type to send: ``wanted``, or the only one the targets handle."""
    types = handled_types(targets)
    names = ", ".join(a.name for a in targets)
    if wanted is None:
        if len(types) == 1:
            return types[0]
        raise BadMessage(f"{what}: '{names}' handles several message types ({', '.join(types)}); "
                         "say which (rt.message(TYPE, ...) or message_type=TYPE)")
    if wanted not in types:
        raise BadMessage(f"{what}: '{names}' has no handler for message type '{wanted}' "
                         f"(it handles: {', '.join(types) or 'nothing'})")
    return wanted


def checked_message(codecs: Mapping[str, Codec], targets: list, msg: Any) -> Message:
    """``msg`` (a :class:`Message` or a mapping of fields) checked for ``targets``."""
    if isinstance(msg, Message):
        kind = message_type(targets, msg.type, "send")
        codec = codecs[kind]
        return msg if msg._spec is codec.spec else codec.message(msg.fields)
    if isinstance(msg, Mapping):
        return codecs[message_type(targets, None, "send")].message(msg)
    raise BadMessage(f"send: a message is built with rt.message(TYPE, field=...) or given as a dict of "
                     f"fields, not a {type(msg).__name__}")


def priority(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 255:
        raise BadMessage(f"priority must be an integer from 0 to 255, got {value!r}")
    return value


def correlation(value: Any) -> int:
    """A correlation id: None (-1 inside) or a non-negative integer below 2**63."""
    if value is None:
        return -1
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 63:
        raise BadMessage(f"correlation_id must be None or a non-negative integer, got {value!r}")
    return value


def correlations(values: Any, n: int) -> np.ndarray | None:
    """A batch's correlation ids: None, or ``n`` non-negative integers (one per message)."""
    if values is None:
        return None
    keys = np.asarray(values)
    if keys.shape != (n,) or keys.dtype.kind not in "iu" or (keys.size and keys.min() < 0):
        raise BadMessage(f"correlation_ids must be {n} non-negative integers")
    return keys
