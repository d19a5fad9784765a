"""One actor's bounded queue: four priority bands of column segments.

Priorities 0-255 fall into bands served highest first — system (>= 224), high (>= 160),
normal (>= 64), low — and each band is FIFO. The capacity counts every queued message
of every band and type. The queue only stores and counts; waiting (``block``) and
refusing (``reject``) are the actor's business, since they need the event loop. For
``drop_oldest`` it removes the oldest message of the lowest band that is not above the
newcomer's: a flood of low-priority messages never pushes out a system message.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from ccomp.runtime.actors.columns import Meta, Segment, concat_batches
from ccomp.runtime.actors.spec import Batch, MessageSpec

BANDS = ("low", "normal", "high", "system")
_FLOORS = (0, 64, 160, 224)


def band_of(priority: int) -> int:
    """The band index (0 low … 3 system) of a priority."""
    return 3 if priority >= 224 else 2 if priority >= 160 else 1 if priority >= 64 else 0


class BandQueue:
    def __init__(self, capacity: int, segment_rows: int = 256):
        self.capacity = capacity
        self.bands: list[deque[Segment]] = [deque() for _ in BANDS]
        self.depth = 0
        self.max_depth = 0
        self.segment_rows = max(1, min(capacity, segment_rows))

    @property
    def free(self) -> int:
        return self.capacity - self.depth

    def put_one(self, spec: MessageSpec, fields: dict, ident: int, key: int, prio: int, t: int) -> None:
        band = self.bands[band_of(prio)]
        seg = band[-1] if band else None
        if seg is None or not seg.room() or seg.spec is not spec:
            # Segments start small and double while one type keeps coming, so types that
            # alternate in a band do not each allocate a full segment per message.
            same = seg is not None and seg.writable and seg.spec is spec
            seg = Segment.empty(spec, min(self.segment_rows, seg.cap * 2) if same else min(16, self.segment_rows))
            band.append(seg)
        seg.append(fields, ident, key, prio, t)
        self._grew(1)

    def put_segment(self, band: int, seg: Segment) -> None:
        """Queue a wrapped batch (all of one band); the caller checked the room."""
        if seg.rows:
            self.bands[band].append(seg)
            self._grew(seg.rows)

    def _grew(self, n: int) -> None:
        self.depth += n
        if self.depth > self.max_depth:
            self.max_depth = self.depth

    def take(self, limit: int) -> tuple[Batch, Meta] | None:
        """Up to ``limit`` messages of one type from the front of the highest non-empty
        band, in order, or None when the queue is empty."""
        for band in reversed(self.bands):
            while band and not band[0].rows:
                band.popleft()
            if not band:
                continue
            spec = band[0].spec
            parts: list[tuple[Batch, Meta]] = []
            want = limit
            while want and band and band[0].spec is spec:
                seg = band[0]
                k = min(want, seg.rows)
                parts.append(seg.take(k))
                want -= k
                if not seg.rows:
                    if seg.writable and len(band) == 1:
                        break  # kept for the next single sends
                    band.popleft()
            n = limit - want
            self.depth -= n
            if len(parts) == 1:
                return parts[0]
            return concat_batches([p[0] for p in parts]), Meta.concat([p[1] for p in parts])
        return None

    def drop_oldest(self, count: int, newcomer_band: int) -> tuple[int, list[Meta]]:
        """Drop up to ``count`` oldest messages from the lowest bands not above
        ``newcomer_band``; how many were dropped and their bookkeeping."""
        dropped, metas = 0, []
        for band in self.bands[: newcomer_band + 1]:
            while band and dropped < count:
                seg = band[0]
                k = min(count - dropped, seg.rows)
                if k:
                    metas.append(seg.drop(k))
                    dropped += k
                if not seg.rows:
                    if seg.writable and len(band) == 1:
                        seg.head = seg.tail = 0
                        seg.fill = dict.fromkeys(seg.fill, 0)
                        break
                    band.popleft()
        self.depth -= dropped
        return dropped, metas

    def take_all(self) -> list[tuple[Batch, Meta]]:
        """Everything still queued, band by band (for a terminate that does not drain)."""
        out = []
        while (got := self.take(max(self.depth, 1))) is not None:
            out.append(got)
        return out

    def depth_by_band(self) -> dict[str, int]:
        return {name: sum(s.rows for s in band) for name, band in zip(BANDS, self.bands)}


def meta_for(n: int, first_id: int, keys: np.ndarray | None, prio: int | np.ndarray, t: int) -> Meta:
    """Bookkeeping columns for ``n`` new messages with consecutive ids."""
    if n == 1:  # one message (low load, a stage's one-message batch): 2 us less than arange/full
        k = -1 if keys is None else int(keys[0])
        p = int(prio[0]) if isinstance(prio, np.ndarray) else int(prio)  # (np.isscalar: 1.5 us)
        return Meta(np.array([first_id], np.int64), np.array([k], np.int64), np.array([p], np.uint8),
                    np.array([t], np.int64))
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    k = np.full(n, -1, np.int64) if keys is None else np.asarray(keys, np.int64)
    p = np.full(n, prio, np.uint8) if np.isscalar(prio) else np.asarray(prio, np.uint8)
    return Meta(ids, k, p, np.full(n, t, np.int64))
