"""Per-actor counters and latency statistics.

Counting is per batch (NumPy over the batch's columns), so telemetry costs the same
whether a batch holds one message or fifty thousand. Latencies (enqueue to reply, in
microseconds) go into a ring of the last ``window`` messages for the percentiles; the
maximum is kept over the actor's whole life. The counters are Python ints and the ring
an ``array.array``: at low load each message is its own batch, and one NumPy scalar
write or increment costs more (~100-200 ns) than a Python one, several times a message.
"""

from __future__ import annotations

from array import array

import numpy as np


class Telemetry:
    def __init__(self, window: int = 1 << 16):
        self.processed = self.rejected = self.dropped = self.failed = 0
        self.batches = 0
        self.batch_max = 0
        self.batch_hist = [0] * 32  # batches by size: bucket b holds sizes in [2^b, 2^(b+1))
        self._lat = array("d", bytes(8 * window))
        self._lat_np = np.frombuffer(self._lat, np.float64)  # the same memory, for batch writes
        self._lat_n = 0
        self.latency_max_us = 0.0

    def batch(self, size: int) -> None:
        self.batches += 1
        if size > self.batch_max:
            self.batch_max = size
        self.batch_hist[max(size, 1).bit_length() - 1] += 1

    def latency_one(self, enqueued_ns: int, now_ns: int) -> None:
        """One message's latency (the one-message batches of low load): no NumPy."""
        us = (now_ns - enqueued_ns) * 1e-3
        if us > self.latency_max_us:
            self.latency_max_us = us
        self._lat[self._lat_n % len(self._lat)] = us
        self._lat_n += 1

    def latencies(self, enqueued_ns: np.ndarray, now_ns: int) -> None:
        """Record the latencies of messages enqueued at ``enqueued_ns`` and answered now."""
        n = len(enqueued_ns)
        if n == 1:
            self.latency_one(int(enqueued_ns[0]), now_ns)
            return
        if not n:
            return
        if n > 4096:  # a sample keeps big batches cheap; row 0 (the oldest) is always in it
            enqueued_ns = enqueued_ns[:: n // 2048]
            n = len(enqueued_ns)
        us = (now_ns - enqueued_ns) * 1e-3
        top = float(us.max())
        if top > self.latency_max_us:
            self.latency_max_us = top
        ring = self._lat_np
        w = len(ring)
        if n >= w:
            ring[:] = us[-w:]
            self._lat_n += n
            return
        start = self._lat_n % w
        first = min(n, w - start)
        ring[start:start + first] = us[:first]
        ring[: n - first] = us[first:]
        self._lat_n += n

    def snapshot(self, depth: int, max_depth: int, extra: dict | None = None) -> dict:
        """A plain dict: counters, queue depth, batch sizes and latency percentiles (µs)."""
        seen = self._lat_np[: min(self._lat_n, len(self._lat))]
        p50, p99 = (np.percentile(seen, [50, 99]).tolist() if len(seen) else (None, None))
        sizes = {f"{1 << b}-{(2 << b) - 1}": int(c) for b, c in enumerate(self.batch_hist) if c}
        out = {
            "processed": self.processed, "rejected": self.rejected, "dropped": self.dropped,
            "failed": self.failed, "queue_depth": depth, "queue_depth_max": max_depth,
            "batches": self.batches, "batch_mean": (self.processed + self.failed) / self.batches if self.batches else 0.0,
            "batch_max": self.batch_max, "batch_sizes": sizes,
            "latency_us": {"p50": p50, "p99": p99, "max": self.latency_max_us if self._lat_n else None},
        }
        out.update(extra or {})
        return out
