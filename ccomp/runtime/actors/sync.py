"""Blocking calls over an :class:`ActorRuntime`, for scripts and notebooks.

The runtime's event loop runs in a thread of its own, so this works where a loop is
already running (Jupyter) as well as where none is; each call submits the coroutine to
that loop and waits for its result. ``close()`` (or leaving ``with``) terminates the
actors, draining their queues, and stops the thread.

    with ccomp.actors.load_sync("examples/stats.cn") as rt:
        rt.launch("summarise")
        print(rt.ask("summarise", rt.message("Samples", data=[1.0, 2.0])).mean)
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ccomp.runtime.actors.interface import ActorRuntime

_BLOCKING = ("launch", "activate", "deactivate", "terminate", "send", "send_many", "ask", "receive",
             "receive_many", "close")
_PLAIN = ("message", "telemetry", "state", "configure", "encode", "decode", "program", "actors", "pipelines")


class SyncRuntime:
    def __init__(self, rt: "ActorRuntime"):
        self._rt = rt
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ccomp-actors", daemon=True)
        self._thread.start()
        self._closed = False

    def _call(self, coro: Any) -> Any:
        if self._closed:
            coro.close()
            raise RuntimeError("this actor runtime is closed")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def __getattr__(self, name: str) -> Any:
        if name in _BLOCKING:
            method = getattr(self._rt, name)

            def call(*args: Any, **kwargs: Any) -> Any:
                return self._call(method(*args, **kwargs))
            call.__doc__ = method.__doc__
            call.__name__ = name
            return call
        if name in _PLAIN:
            return getattr(self._rt, name)
        raise AttributeError(f"'SyncRuntime' has no attribute '{name}'")

    def close(self, drain: bool = True) -> list:
        """Terminate what still runs and stop the loop's thread (idempotent)."""
        if self._closed:
            return []
        try:
            return self._call(self._rt.close(drain))
        finally:
            self._closed = True
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    def __enter__(self) -> "SyncRuntime":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(drain=exc is None)
