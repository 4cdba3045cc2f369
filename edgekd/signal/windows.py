"""Sliding windows ``[n_chans, n_times]`` and the rule that labels them.

Window positions: a window ends at every sample index ``e`` with ``e + 1 >= window`` and
``(e + 1 - window) % hop == 0``, counted from the first sample a windower sees. The streaming
windower below is the only implementation: offline code feeds it a whole recording at once.

Label rule: a window's label is the label at its last sample. A window is dropped when its last
sample is unlabelled (-1), when it spans two repetitions (it would cross a split boundary), and,
unless ``keep_transitions``, when the label changes inside it. An unlabelled stretch (repetition
-1, e.g. rest between trials) counts as part of the repetition that follows it: a causal window
only reaches back into the rest before its own repetition.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from edgekd.data.recording import UNLABELLED


@dataclass(frozen=True)
class WindowSpec:
    """Window length and hop in samples."""

    window: int
    hop: int

    def __post_init__(self) -> None:
        if self.window < 1 or self.hop < 1:
            raise ValueError(f"window ({self.window}) and hop ({self.hop}) must be >= 1 sample")


class StreamingWindower:
    """Cuts windows from a stream of sample chunks; keeps only the last ``window - 1`` samples."""

    def __init__(self, spec: WindowSpec, n_chans: int):
        self.spec, self.n_chans = spec, n_chans
        self._tail = np.empty((0, n_chans), dtype=np.float32)
        self._seen = 0  # samples received so far

    def push(self, chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Add ``chunk`` ``[n, n_chans]``; return windows ``[k, n_chans, window]`` that became
        complete and the absolute index of each one's last sample ``[k]``."""
        w, hop = self.spec.window, self.spec.hop
        buf = np.concatenate([self._tail, np.asarray(chunk, dtype=np.float32)])
        first_abs = self._seen - len(self._tail)  # absolute index of buf[0]
        ends = _window_ends(self._seen, self._seen + len(chunk), w, hop)
        self._seen += len(chunk)
        self._tail = buf[max(len(buf) - (w - 1), 0):] if w > 1 else buf[:0]
        if len(ends) == 0:
            return np.empty((0, self.n_chans, w), dtype=np.float32), ends
        views = sliding_window_view(buf, w, axis=0)  # [len-w+1, n_chans, w]
        return np.ascontiguousarray(views[ends - (w - 1) - first_abs]), ends


def _window_ends(lo: int, seen: int, w: int, hop: int) -> np.ndarray:
    """Absolute end indices e in [lo, seen) that fall on the hop grid."""
    lo = max(lo, w - 1)
    first = lo + (-(lo + 1 - w)) % hop
    return np.arange(first, seen, hop, dtype=np.int64)


def window_labels(labels: np.ndarray, repetition: np.ndarray, ends: np.ndarray, window: int,
                  keep_transitions: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Labels and a keep-mask for windows ending at ``ends`` (the rule in the module doc)."""
    y = labels[ends]
    starts = ends - (window - 1)
    rep_changes = _changes_inside(_backfill(repetition), starts, ends)
    keep = (y != UNLABELLED) & (rep_changes == 0)
    if not keep_transitions:
        keep &= _changes_inside(labels, starts, ends) == 0
    return y, keep


def _changes_inside(values: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """How many times ``values`` changes between each start and end (inclusive)."""
    change = np.concatenate([[0], np.cumsum(values[1:] != values[:-1])])
    return change[ends] - change[starts]


def _backfill(repetition: np.ndarray) -> np.ndarray:
    """Give each -1 sample the next non-negative repetition id (trailing ones stay -1)."""
    n = len(repetition)
    idx = np.where(repetition >= 0, np.arange(n), n)
    next_valid = np.minimum.accumulate(idx[::-1])[::-1]
    return np.append(repetition, -1)[next_valid]
