"""The progress bar ``ccomp run`` draws on stderr for long repeat zones.

The host runner reports ``(done, total)`` after every iteration of an outermost
repeat zone (a few microseconds apart for small images), so the bar decides what to
show by the clock alone: nothing for a run that ends within ``delay`` (short runs
stay quiet), then at most one redraw per ``interval``. A dozen lines of our own
rather than tqdm: the only need is one throttled line, and a dependency for it would
be one more thing a fresh install must resolve.
"""

from __future__ import annotations

import time
from typing import TextIO


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
