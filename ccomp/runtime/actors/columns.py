"""Queued messages stored as columns: a :class:`Segment` is a run of messages of one
type, one NumPy column per field plus the columns of their ids, correlation keys,
priorities and enqueue times (:class:`Meta`).

A message sent on its own is written into the free rows of a preallocated, writable
segment; a ``send_many`` batch or a compiled stage's replies become a segment that wraps
their arrays as they are. Taking ``k`` messages hands out views (or one concatenation
when they span segments), so no Python object exists per queued message.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ccomp.runtime.actors.spec import Batch, MessageSpec


@dataclass
class Meta:
    """Per-message bookkeeping, as columns: ``ids`` (unique), ``keys`` (the correlation
    id, or -1 when the sender set none), ``prio`` (0-255) and ``t`` (enqueue time, ns)."""

    ids: np.ndarray
    keys: np.ndarray
    prio: np.ndarray
    t: np.ndarray

    def __post_init__(self) -> None:
        self.n = len(self.ids)

    def take(self, rows: np.ndarray | slice) -> "Meta":
        return Meta(self.ids[rows], self.keys[rows], self.prio[rows], self.t[rows])

    @staticmethod
    def concat(parts: list["Meta"]) -> "Meta":
        return Meta(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("ids", "keys", "prio", "t")))

    def reply_keys(self) -> np.ndarray:
        """What replies carry: the request's correlation id, or its id when it had none."""
        if self.n == 1:  # one message: Python ints, not np.where (1.8 us)
            k = int(self.keys[0])
            return np.array([k if k >= 0 else int(self.ids[0])], np.int64)
        return np.where(self.keys >= 0, self.keys, self.ids)


def empty_meta(cap: int) -> Meta:
    return Meta(np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap, np.uint8), np.empty(cap, np.int64))


class Segment:
    """Rows ``head:tail`` of one message type (see the module docstring)."""

    __slots__ = ("spec", "columns", "offsets", "meta", "head", "tail", "cap", "writable", "fill")

    def __init__(self, spec: MessageSpec, batch: Batch, meta: Meta, writable: bool = False):
        self.spec, self.meta, self.writable = spec, meta, writable
        self.columns, self.offsets = batch.columns, batch.offsets
        self.head, self.tail, self.cap = 0, (0 if writable else batch.n), meta.n
        self.fill = {k: 0 for k in batch.offsets}  # used values of each variable column

    @classmethod
    def empty(cls, spec: MessageSpec, cap: int) -> "Segment":
        cols, offs = {}, {}
        for f in spec.fields:
            if f.variable:
                cols[f.name] = np.empty(cap * 4, f.dtype)
                offs[f.name] = np.zeros(cap + 1, np.int64)
            else:
                cols[f.name] = np.empty((cap, *f.shape), f.dtype)
        return cls(spec, Batch(spec.name, cap, cols, offs), empty_meta(cap), writable=True)

    @property
    def rows(self) -> int:
        return self.tail - self.head

    def room(self) -> bool:
        return self.writable and self.tail < self.cap

    def append(self, fields: dict, ident: int, key: int, prio: int, t: int) -> None:
        """Write one checked message into the next free row."""
        i = self.tail
        for name, col in self.columns.items():
            value = fields[name]
            off = self.offsets.get(name)
            if off is None:
                col[i] = value
                continue
            start = self.fill[name]
            end = start + len(value)
            if end > len(col):
                grown = np.empty(max(2 * len(col), end), col.dtype)
                grown[:start] = col[:start]
                self.columns[name] = col = grown
            col[start:end] = value
            off[i + 1] = self.fill[name] = end
        m = self.meta
        m.ids[i], m.keys[i], m.prio[i], m.t[i] = ident, key, prio, t
        self.tail = i + 1

    def take(self, k: int) -> tuple[Batch, Meta]:
        """The first ``k`` rows; they leave the segment. Views of a wrapped batch, copies
        of a writable segment (whose rows are written again once it empties)."""
        a, b = self.head, self.head + k
        self.head = b
        if not self.writable:
            return slice_batch(Batch(self.spec.name, self.tail, self.columns, self.offsets), a, b), \
                self.meta.take(slice(a, b))
        m = self.meta
        meta = Meta(m.ids[a:b].copy(), m.keys[a:b].copy(), m.prio[a:b].copy(), m.t[a:b].copy())
        if not self.offsets:
            batch = Batch(self.spec.name, k, {n: c[a:b].copy() for n, c in self.columns.items()})
        else:
            batch = slice_batch(Batch(self.spec.name, self.tail, self.columns, self.offsets), a, b)
            batch.columns = {n: c.copy() for n, c in batch.columns.items()}
        if self.head == self.tail:  # empty: reuse from the start
            self.head = self.tail = 0
            self.fill = dict.fromkeys(self.fill, 0)
        return batch, meta

    def drop(self, k: int) -> Meta:
        """Drop the first ``k`` rows; their bookkeeping, for the report."""
        meta = self.meta.take(slice(self.head, self.head + k))
        self.head += k
        return meta


def one_row(spec: MessageSpec, fields: dict, ident: int, key: int, prio: int, t: int) -> tuple[Batch, Meta] | None:
    """One checked message as the one-row batch and bookkeeping that queueing and taking
    it would give, built directly (~3 us instead of ~8 through a segment). None when a
    field has a variable length (its offsets take the queue's path)."""
    cols = {}
    for f in spec.fields:
        if None in f.shape:
            return None
        col = np.empty((1, *f.shape), f.dtype)
        col[0] = fields[f.name]  # the same cast as Segment.append
        cols[f.name] = col
    return Batch(spec.name, 1, cols), Meta(np.array([ident], np.int64), np.array([key], np.int64),
                                           np.array([prio], np.uint8), np.array([t], np.int64))


def concat_batches(parts: list[Batch]) -> Batch:
    """One batch of several of the same message type, in order."""
    if len(parts) == 1:
        return parts[0]
    cols, offs = {}, {}
    for name in parts[0].columns:
        cols[name] = np.concatenate([p.columns[name] for p in parts])
        if name in parts[0].offsets:
            pieces = [parts[0].offsets[name]]
            base = pieces[0][-1]
            for p in parts[1:]:
                pieces.append(p.offsets[name][1:] + base)
                base += p.offsets[name][-1]
            offs[name] = np.concatenate(pieces)
    return Batch(parts[0].message, sum(p.n for p in parts), cols, offs)


def slice_batch(batch: Batch, a: int, b: int) -> Batch:
    """Rows ``a:b`` of ``batch`` (views)."""
    cols, offs = {}, {}
    for name, col in batch.columns.items():
        off = batch.offsets.get(name)
        if off is None:
            cols[name] = col[a:b]
        else:
            cols[name] = col[off[a]:off[b]]
            offs[name] = off[a:b + 1] - off[a]
    return Batch(batch.message, b - a, cols, offs)


def take_rows(batch: Batch, rows: np.ndarray) -> Batch:
    """The rows ``rows`` (sorted indices) of ``batch``, copied."""
    cols, offs = {}, {}
    for name, col in batch.columns.items():
        off = batch.offsets.get(name)
        if off is None:
            cols[name] = col[rows]
        else:
            lens = off[rows + 1] - off[rows]
            new = np.zeros(len(rows) + 1, np.int64)
            np.cumsum(lens, out=new[1:])
            idx = np.concatenate([np.arange(off[r], off[r + 1]) for r in rows]) if len(rows) else np.zeros(0, int)
            cols[name], offs[name] = col[idx], new
    return Batch(batch.message, len(rows), cols, offs)
