"""Latency percentiles for the summary and the live view (review item 9): bounded memory, no
sort of a growing array per view tick, the summary over the whole session."""

import numpy as np
import pytest

from firmware_bridge.consumer import SessionSummary
from firmware_bridge.latency import RECENT, LatencyStats


def test_summary_percentiles_cover_the_whole_session_in_bounded_memory():
    """The summary used to keep the newest 100 000 latencies only (and sorted them on every
    view tick): after 150 000 decisions its median described the last 100 000."""
    s = SessionSummary()
    for _ in range(100_000):
        s.add_latency(1_000_000)               # 1 ms for the first 100 000 decisions
    for _ in range(50_000):
        s.add_latency(3_000_000)               # then 3 ms
    assert s.latency_ms(50) == pytest.approx(1.0, rel=0.005)
    assert s.latency_ms(99) == pytest.approx(3.0, rel=0.005)
    assert sum(a.nbytes for a in vars(s.latency).values() if isinstance(a, np.ndarray)) < 100_000


def test_histogram_percentiles_are_within_half_a_percent_and_recent_ones_exact():
    rng = np.random.default_rng(0)
    ns = rng.lognormal(13.5, 0.8, 20_000).astype(np.int64)   # ~0.7 ms, wide spread
    stats = LatencyStats()
    for x in ns.tolist():
        stats.add(x)
    for q in (1, 50, 90, 99, 99.9):
        want = np.percentile(ns, q, method="inverted_cdf") / 1e6
        assert stats.percentile_ms(q) == pytest.approx(want, rel=0.005)
    recent = ns[-RECENT:]
    p50, p99 = stats.recent_ms(50, 99)
    assert p50 == np.percentile(recent, 50, method="inverted_cdf") / 1e6
    assert p99 == np.percentile(recent, 99, method="inverted_cdf") / 1e6
    assert LatencyStats().percentile_ms(50) is None and LatencyStats().recent_ms(50) == [None]
    one = LatencyStats()
    one.add(0)
    assert one.percentile_ms(99) == 0.0
