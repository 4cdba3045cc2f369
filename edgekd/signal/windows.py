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
from numpy.lib.stride_tricks import as_strided

UNLABELLED = -1  # the data model's "no label" (edgekd.data.recording); signal imports numpy only


@dataclass(frozen=True)
class WindowSpec:
    """Window length and hop in samples."""

    window: int
    hop: int

    def __post_init__(self) -> None:
        if self.window < 1 or self.hop < 1:
            raise ValueError(f"window ({self.window}) and hop ({self.hop}) must be >= 1 sample")


class StreamingWindower:
    """Cuts windows from a stream of sample chunks; keeps only the last ``window - 1`` samples,
    channel-major in one buffer that is reused from call to call (no per-chunk allocation
    unless a window is due: the windows returned are always a fresh array)."""

    def __init__(self, spec: WindowSpec, n_chans: int):
        self.spec, self.n_chans = spec, n_chans
        self._buf = np.empty((n_chans, max(4 * spec.window, 256)), dtype=np.float32)
        self._fill = 0  # valid samples in _buf (the newest at _fill - 1)
        self._seen = 0  # samples received so far

    def push(self, chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Add ``chunk`` ``[n, n_chans]``; return windows ``[k, n_chans, window]`` that became
        complete and the absolute index of each one's last sample ``[k]``."""
        w, hop = self.spec.window, self.spec.hop
        lo = self._seen
        self._append(chunk)
        self._seen += len(chunk)
        first = max(lo, w - 1)
        first += (-(first + 1 - w)) % hop          # the first end on the hop grid, >= lo
        if first >= self._seen:
            return np.empty((0, self.n_chans, w), dtype=np.float32), np.empty(0, np.int64)
        k = (self._seen - 1 - first) // hop + 1
        start = first - (w - 1) - (self._seen - self._fill)   # of the first window, in _buf
        ends = np.arange(first, first + k * hop, hop, dtype=np.int64)
        if k == 1:   # the live case: one window, a plain slice is cheaper than a strided view
            return self._buf[None, :, start:start + w].copy(), ends
        view = self._buf[:, start:]
        s_chan, s_time = view.strides
        windows = as_strided(view, shape=(k, self.n_chans, w),
                             strides=(hop * s_time, s_chan, s_time), writeable=False)
        return np.array(windows), ends

    def _append(self, chunk: np.ndarray) -> None:
        n, keep = len(chunk), min(self._fill, self.spec.window - 1)
        if self._fill + n > self._buf.shape[1]:  # room for the new samples behind the tail
            size = max(self._buf.shape[1], keep + n)
            buf = self._buf if size == self._buf.shape[1] else np.empty((self.n_chans, size),
                                                                        np.float32)
            buf[:, :keep] = self._buf[:, self._fill - keep:self._fill]
            self._buf, self._fill = buf, keep
        self._buf[:, self._fill:self._fill + n] = np.asarray(chunk).T
        self._fill += n


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
