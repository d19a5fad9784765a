"""Ctrl-C during a native call that calls back into Python.

Python runs a signal handler at whatever bytecode comes next in the main thread; during
a native call that is inside a ctypes callback, where a ``KeyboardInterrupt`` can land
before the callback's ``try`` (on its first line) and ctypes can only print and drop
it. So for the duration of such a call SIGINT only records itself; the native code
sees the record at its next poll (the poll callback reads ``holder.interrupted``) and
stops, and the previous handler gets the signal once the call is over — the default
one raises ``KeyboardInterrupt`` as usual.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

try:  # the C functions under ``signal``: its wrappers convert to enums, microseconds a call
    import _signal as _raw
except ImportError:  # pragma: no cover - not CPython
    _raw = signal


def call_deferring_sigint(call: Callable[[], int], holder: Any) -> int:
    """``call()`` with SIGINT deferred; ``holder.interrupted`` is the list of caught
    signals' frames while it runs (``None`` otherwise). Main thread only."""
    previous = _raw.getsignal(signal.SIGINT)
    if not callable(previous):  # SIG_IGN or SIG_DFL: nothing in Python to defer to
        return call()
    caught: list[Any] = []
    _raw.signal(signal.SIGINT, lambda signum, frame: caught.append(frame))
    holder.interrupted = caught
    try:
        code = call()
    finally:
        _raw.signal(signal.SIGINT, previous)
        holder.interrupted = None
    if caught:
        previous(signal.SIGINT, caught[0])
    return code
