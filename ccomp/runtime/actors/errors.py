"""The errors the actor runtime raises to its users.

Every one says what happened in words a user knows (which actor, which message, which
field) and is a subclass of :class:`ActorError`, so a script can catch them all; none
of them means the actor stopped: after a bad message, a rejected send or a failed
handler row the actor keeps serving the rest.
"""

from __future__ import annotations

import numpy as np


class ActorError(Exception):
    """The base of every actor runtime error."""


class BadMessage(ActorError, ValueError):
    """A message of the wrong type, an unknown field or a field of the wrong shape or
    type: refused at the sender, before anything was queued."""


class SendRejected(ActorError):
    """The queue was full and its policy is ``reject``. ``accepted`` messages of a
    ``send_many`` batch (its first ones) were queued; ``rejected`` were not."""

    def __init__(self, actor: str, capacity: int, accepted: int = 0, rejected: int = 1):
        self.actor, self.capacity, self.accepted, self.rejected = actor, capacity, accepted, rejected
        what = "the message was" if rejected == 1 and accepted == 0 else f"{rejected} messages were"
        extra = f" ({accepted} accepted before it filled)" if accepted else ""
        super().__init__(f"actor '{actor}': queue full ({capacity} messages, backpressure reject): "
                         f"{what} rejected{extra}")


class IllegalTransition(ActorError):
    """A lifecycle call that the actor's current state does not allow."""


class ActorStateError(ActorError):
    """A send to an actor that cannot take messages now (not launched, or terminating)."""


class UnknownActor(ActorError, KeyError):
    """A name that is neither an actor nor a pipeline of the program."""

    def __str__(self) -> str:
        return str(self.args[0])


class MessageFailed(ActorError):
    """The handler failed on this message (a ``kern.check``, an index out of range), or
    the message was dropped or never processed; ``error`` is the located diagnostic."""

    def __init__(self, actor: str, message_id: int, correlation_id: int, error: str):
        self.actor, self.message_id, self.correlation_id, self.error = actor, message_id, correlation_id, error
        super().__init__(f"actor '{actor}': message {message_id} (correlation {correlation_id}) failed: {error}")


class WireError(ActorError, ValueError):
    """Bytes that are not a valid encoding of a message or batch of the program."""


def failures_of(actor: str, keys: np.ndarray, ids: np.ndarray, error: str) -> list[MessageFailed]:
    """One :class:`MessageFailed` per message of a batch that failed as a whole."""
    return [MessageFailed(actor, int(i), int(k), error) for i, k in zip(ids, keys)]
