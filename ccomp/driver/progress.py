"""The progress bar ``ccomp run`` draws on stderr for long work, and the hook
(:func:`reporting`, :class:`Tracker`, :func:`terminal_bar`) other long work calls.

The host runner reports ``(done, total)`` after every iteration of an outermost
repeat zone (a few microseconds apart for small images), so the bar decides what to
show by the clock alone: nothing for a run that ends within ``delay`` (short runs
stay quiet), then at most one redraw per ``interval``. A dozen lines of our own
rather than tqdm: the only need is one throttled line, and a dependency for it would
be one more thing a fresh install must resolve.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO


class ProgressBar:
    """A callable ``progress(done, total)`` that draws one line on ``stream``;
    ``close()`` erases it (call it before printing anything else)."""

    def __init__(self, stream: TextIO, label: str = "", delay: float = 0.5, interval: float = 0.1,
                 width: int = 30):
        self.stream, self.label, self.interval, self.width = stream, label, interval, width
        self.start = time.monotonic()
        self.next = self.start + delay  # no line before this
        self.drawn = 0  # length of the line on screen, 0 when none
        self.updates = 0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now < self.next:
            return
        self.next = now + self.interval
        filled = self.width * done // total if total else self.width
        bar = "#" * filled + "." * (self.width - filled)
        percent = 100 * done // total if total else 100
        line = f"{self.label}[{bar}] {done}/{total} {percent}% {now - self.start:.1f} s"
        self.stream.write("\r" + line.ljust(self.drawn))
        self.stream.flush()
        self.drawn = len(line)
        self.updates += 1

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r" + " " * self.drawn + "\r")
            self.stream.flush()
            self.drawn = 0


# ---- the hook for other long work ---------------------------------------------------------
#
# Repeat zones report through the host runner. Other long work — a network's time steps,
# a ``--map`` batch over many inputs — reports through these three pieces, so that every
# kind of work draws the same bar under the same rule (a terminal only):
#
#     from ccomp.driver.progress import reporting
#
#     def run_batches(prog, batches, progress=None):
#         with reporting(len(batches), "map ", progress) as tracker:
#             for batch in batches:
#                 ...  # the work of one unit
#                 tracker.advance()
#
# ``progress`` is what a caller handed in (``prog(..., progress=callback)`` style, a
# ``callback(done, total)``); without one, a bar is drawn on stderr when stderr is a
# terminal, and nothing at all otherwise (a pipe, a file, CI logs).

Report = Callable[[int, int], Any]
"""A progress callback: ``report(done, total)``, called as work advances."""


def terminal_bar(label: str = "", stream: TextIO | None = None, enabled: bool | None = None) -> ProgressBar | None:
    """The CLI's rule for drawing: a :class:`ProgressBar` on ``stream`` (stderr) when
    ``enabled`` says so or, left None, when ``stream`` is a terminal; otherwise None."""
    stream = sys.stderr if stream is None else stream
    if enabled is None:
        enabled = bool(getattr(stream, "isatty", lambda: False)())
    return ProgressBar(stream, label) if enabled else None


class Tracker:
    """Counts finished units of ``total`` and passes ``(done, total)`` to ``report``
    (None: counts only). ``done`` never passes ``total``."""

    def __init__(self, total: int, report: Report | None = None):
        self.total, self.report, self.done = max(int(total), 0), report, 0

    def advance(self, units: int = 1) -> None:
        self.done = min(self.done + units, self.total)
        if self.report is not None:
            self.report(self.done, self.total)


@contextlib.contextmanager
def reporting(total: int, label: str = "", report: Report | None = None,
              stream: TextIO | None = None) -> Iterator[Tracker]:
    """A :class:`Tracker` for ``total`` units of long work that is not a repeat zone.

    ``report``: the caller's own callback, used as is; None: a terminal bar on
    ``stream`` (stderr) when it is a terminal, erased when the block ends (also on an
    error or Ctrl-C), and no output at all when it is not."""
    bar = terminal_bar(label, stream) if report is None else None
    try:
        yield Tracker(total, report if report is not None else bar)
    finally:
        if bar is not None:
            bar.close()
