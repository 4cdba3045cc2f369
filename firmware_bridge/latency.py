"""Latency percentiles that cost the live path nothing, however long it runs.

The live view asks for them ~10 times a second from the consumer thread, so they must not
sort a growing array: the whole session goes into a log-spaced histogram (fixed size, 1 %
wide bins: percentiles to ±0.5 %), and the newest ``RECENT`` values into a small ring for the
live view's "right now" figures (exact). Pure.
"""

from __future__ import annotations

import math

import numpy as np

RECENT = 2048                        # latencies the live view's percentiles are taken over
_RATIO = 1.01                        # bin width: each bin is 1 % wider than the one before
_K = 1.0 / math.log(_RATIO)
_BINS = int(math.log(1e12) * _K) + 1  # 1 ns .. 1000 s; anything longer lands in the last bin


class LatencyStats:
    """``add(ns)`` per decision (O(1)); ``percentile_ms(q)`` over the whole session (from the
    histogram, ±0.5 %); ``recent_ms(*qs)`` over the newest ``RECENT`` (exact)."""

    def __init__(self):
        self.count = 0
        self.max_ns = 0
        self._hist = np.zeros(_BINS, np.int64)
        self._recent = np.zeros(RECENT, np.int64)

    def add(self, ns: int) -> None:
        i = int(math.log(ns) * _K) if ns > 1 else 0
        self._hist[i if i < _BINS else _BINS - 1] += 1
        self._recent[self.count % RECENT] = ns
        self.count += 1
        if ns > self.max_ns:
            self.max_ns = ns

    def percentile_ms(self, q: float) -> float | None:
        """The q-th percentile (0..100) of every latency added, in ms (None before any)."""
        if not self.count:
            return None
        rank = min(max(q / 100 * self.count, 1), self.count)   # nearest rank, 1-based
        i = int(np.searchsorted(np.cumsum(self._hist), rank))
        centre = _RATIO ** (i + 0.5)                          # the bin's geometric middle
        return float(min(centre, self.max_ns) / 1e6)

    def recent_ms(self, *qs: float) -> list[float | None]:
        """The qs-th percentiles (nearest rank) of the newest ``RECENT`` latencies, in ms."""
        n = min(self.count, RECENT)
        if not n:
            return [None] * len(qs)
        ranks = [min(max(math.ceil(q / 100 * n), 1), n) - 1 for q in qs]
        part = np.partition(self._recent[:n], ranks)     # ~20 µs; np.percentile took ~500
        return [float(part[k] / 1e6) for k in ranks]
