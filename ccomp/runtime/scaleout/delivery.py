"""What the driver of a Ray pipeline remembers about delivery: which messages it sent,
which were answered or failed, and (for ``delivery at_least_once``) the encoded batches
to send again after a stage process died.

A message counts as answered when a reply (or a failure) with its correlation key came
back from the pipeline. After a stage restart, the messages sent but not answered are
the ones that may have been in the dead process: with ``at_least_once`` they are sent
again (so some may be answered twice: duplicates, never losses); without it they are
reported as lost once the pipeline has drained — in telemetry and as failures, never
silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ccomp.runtime.actors.spec import MessageSpec
from ccomp.runtime.actors.wire import decode_batch, encode_batch


@dataclass
class Sent:
    entries: tuple[str, ...]
    data: bytes
    keys: np.ndarray


@dataclass
class DeliveryLog:
    keep: bool  # keep batches for resending (some stage is at_least_once)
    sent: list[Sent] = field(default_factory=list)
    answered: list[np.ndarray] = field(default_factory=list)
    resent: int = 0
    lost: int = 0

    def record(self, entries: tuple[str, ...], data: bytes, keys: np.ndarray) -> None:
        self.sent.append(Sent(entries, data if self.keep else b"", keys))

    def answer(self, keys: np.ndarray) -> None:
        if len(keys):
            self.answered.append(np.asarray(keys, np.int64))

    def outstanding(self) -> np.ndarray:
        """Keys sent and not answered yet."""
        if not self.sent:
            return np.zeros(0, np.int64)
        sent = np.concatenate([s.keys for s in self.sent])
        done = np.concatenate(self.answered) if self.answered else np.zeros(0, np.int64)
        return np.setdiff1d(sent, done)

    def to_resend(self, specs: dict[str, MessageSpec]) -> list[tuple[tuple[str, ...], bytes]]:
        """The unanswered rows of every kept batch, re-encoded: what to send again."""
        missing = self.outstanding()
        out = []
        if not missing.size or not self.keep:
            return out
        from ccomp.runtime.actors.columns import take_rows

        for s in self.sent:
            rows = np.flatnonzero(np.isin(s.keys, missing))
            if not rows.size:
                continue
            batch, meta = decode_batch(s.data, specs)
            spec = specs[batch.message]
            part = batch if rows.size == batch.n else take_rows(batch, rows)
            out.append((s.entries, encode_batch(spec, part, meta.take(rows))))
            self.resent += int(rows.size)
        return out

    def counts(self) -> dict:
        sent = sum(len(s.keys) for s in self.sent)
        return {"sent": sent, "answered": int(np.unique(np.concatenate(self.answered)).size) if self.answered else 0,
                "resent": self.resent, "lost": self.lost}
