"""Timing a callable the way a latency benchmark must: warm-up first, then enough timed runs
for stable tails, each timed on its own with a monotonic nanosecond clock."""

from __future__ import annotations

import os
import time
from typing import Callable

import numpy as np


def time_calls(fn: Callable[[], object], warmup: int, runs: int) -> np.ndarray:
    """Per-call wall times in microseconds."""
    for _ in range(warmup):
        fn()
    out = np.empty(runs)
    for i in range(runs):
        start = time.perf_counter_ns()
        fn()
        out[i] = (time.perf_counter_ns() - start) / 1e3
    return out


def summarize(times_us: np.ndarray, batch: int) -> dict:
    return {"batch": batch, "runs": int(len(times_us)),
            "p50_us": float(np.percentile(times_us, 50)),
            "p95_us": float(np.percentile(times_us, 95)),
            "p99_us": float(np.percentile(times_us, 99)),
            "mean_us": float(times_us.mean()),
            "windows_per_s": float(batch / (np.median(times_us) / 1e6))}


def pin_cores(n: int | None) -> list[int] | None:
    """Restrict this process to its first ``n`` allowed cores (emulates a small edge CPU)."""
    if n is None or not hasattr(os, "sched_setaffinity"):
        return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    allowed = sorted(os.sched_getaffinity(0))
    if n < 1 or n > len(allowed):
        from edgekd.errors import ConfigError
        raise ConfigError(f"--cores {n}: this machine allows 1..{len(allowed)}")
    os.sched_setaffinity(0, set(allowed[:n]))
    return allowed[:n]
