"""From per-window probabilities to gesture decisions: confidence rejection, then a majority
vote over the last ``vote`` accepted predictions. Pure."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass

import numpy as np

from edgekd.errors import ConfigError

# What `edgekd stream` decides with unless told otherwise, measured on the 22 Myo people
# (benchmarks/decision_policy.py → benchmarks/results/decision_policy.json): every confidence
# threshold lowered accuracy once rejections are read as rest (e.g. 0.5: -0.30 pp, 0 wins and
# 11 losses over people); a majority vote over 3 raised it (+0.09 pp, 11 wins / 2 losses,
# Wilcoxon p = 0.004) and cut instability by 43 % (0.0112 → 0.0064) for one hop of extra
# onset latency (+24 ms); longer votes gained more accuracy but cost 49-99 ms. The policy class
# itself stays neutral (no rejection, no vote).
DEFAULT_THRESHOLD = 0.0
DEFAULT_VOTE = 3


@dataclass
class Decision:
    end_sample: int
    label: int | None            # None: rejected (not confident enough) or no decision
    confidence: float
    raw: int                     # the window's own argmax, before rejection and voting
    probs: np.ndarray
    latency_ns: int = 0          # arrival of the completing frame's last byte → emitted
    receive_time_ns: int = 0
    device_time_us: int | None = 0
    source: str = "host"         # host: this model; device: decided on the armband
    acquired_ns: int = 0         # when the window's last sample was acquired (CLOCK_MONOTONIC
                                 # ns): the source's own timestamp where it has one (LSL,
                                 # BrainFlow), else the arrival of the bytes that carried it


class DecisionPolicy:
    def __init__(self, threshold: float = 0.0, vote: int = 1):
        if not 0 <= threshold < 1:
            raise ConfigError(f"--threshold {threshold}: must lie in [0, 1)")
        if vote < 1:
            raise ConfigError(f"--vote {vote}: must be >= 1")
        self.threshold, self.vote = threshold, vote
        self._recent: deque[int] = deque(maxlen=vote)

    def decide(self, end_sample: int, probs: np.ndarray) -> Decision:
        raw = int(probs.argmax())
        confidence = float(probs[raw])
        if confidence < self.threshold:
            return Decision(end_sample, None, confidence, raw, probs)
        if self.vote == 1:
            return Decision(end_sample, raw, confidence, raw, probs)
        self._recent.append(raw)
        counts = Counter(self._recent)
        best = max(counts.values())
        # ties go to the most recent of the tied classes
        label = next(c for c in reversed(self._recent) if counts[c] == best)
        return Decision(end_sample, label, confidence, raw, probs)

    def reset(self) -> None:
        self._recent.clear()
