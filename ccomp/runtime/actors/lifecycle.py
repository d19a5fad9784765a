"""The lifecycle of an actor: a small state machine with named transitions.

``CREATED → LAUNCHED → ACTIVE ⇄ DEACTIVATED → TERMINATING → TERMINATED``; ``terminate``
is also allowed straight from ``LAUNCHED`` (an actor that never ran still has a queue to
drain or report). Anything else is an :class:`IllegalTransition` that names the state,
the call and the calls allowed from there, rather than a silent no-op: a script that
activates an actor twice has a bug worth hearing about.
"""

from __future__ import annotations

import enum

from ccomp.runtime.actors.errors import IllegalTransition


class ActorState(enum.Enum):
    CREATED = "created"
    LAUNCHED = "launched"
    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    TERMINATING = "terminating"
    TERMINATED = "terminated"


S = ActorState
#: call -> {state it may be called in: the state it leads to}
TRANSITIONS: dict[str, dict[ActorState, ActorState]] = {
    "launch": {S.CREATED: S.LAUNCHED},
    "activate": {S.LAUNCHED: S.ACTIVE, S.DEACTIVATED: S.ACTIVE},
    "deactivate": {S.ACTIVE: S.DEACTIVATED},
    "terminate": {S.LAUNCHED: S.TERMINATING, S.ACTIVE: S.TERMINATING, S.DEACTIVATED: S.TERMINATING},
    "finish": {S.TERMINATING: S.TERMINATED},  # internal: the drain or report is done
}

#: States whose queue accepts new messages.
ACCEPTING = frozenset({S.LAUNCHED, S.ACTIVE, S.DEACTIVATED})


def allowed_calls(state: ActorState) -> list[str]:
    return [call for call, edges in TRANSITIONS.items() if state in edges and call != "finish"]


def next_state(actor: str, state: ActorState, call: str) -> ActorState:
    """The state ``call`` leads to from ``state``, or a clear :class:`IllegalTransition`."""
    edges = TRANSITIONS[call]
    if state in edges:
        return edges[state]
    allowed = allowed_calls(state)
    hint = f"allowed now: {', '.join(allowed)}" if allowed else "it has ended; nothing more is allowed"
    raise IllegalTransition(f"actor '{actor}' is {state.name}: cannot {call} it ({hint})")
