"""Ground truth for a live session: the per-sample labels ``edgekd simulate --ground-truth``
writes, and the label of a window by the offline rule (``edgekd.signal.window_labels``: the
last sample is labelled and the label does not change inside the window)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgekd.errors import EdgekdError


class GroundTruth:
    """Per-sample labels (int, -1 = unlabelled) with O(1) window labels, so the live view can
    score each decision as it comes (``window_labels`` is O(n) per call)."""

    def __init__(self, labels: np.ndarray):
        self.labels = np.asarray(labels)
        # label changes up to each sample: a window has one label iff no change inside it
        self._changes = np.concatenate([[0], np.cumsum(self.labels[1:] != self.labels[:-1])])

    @classmethod
    def load(cls, path: str | Path) -> "GroundTruth":
        try:
            labels = np.load(Path(path).with_suffix(".npz"))["labels"]
        except (OSError, KeyError, ValueError) as err:
            raise EdgekdError(f"{path}: not a ground-truth file written by edgekd simulate "
                              f"({err})") from None
        return cls(labels)

    def window_label(self, end: int, window: int) -> int | None:
        """The true label of the window ``[end - window + 1, end]``; None where the offline
        pipeline would not label it (unlabelled, a label change inside, outside the labels)."""
        start = end - window + 1
        if start < 0 or end >= len(self.labels):
            return None
        y = int(self.labels[end])
        if y < 0 or self._changes[end] != self._changes[start]:
            return None
        return y


class RunningAccuracy:
    """Online accuracy so far: decisions that are not rejected, on windows with a true label."""

    def __init__(self, truth: GroundTruth, window: int):
        self.truth, self.window = truth, window
        self.scored = self.correct = 0
        self.last_truth: int | None = None

    def add(self, end_sample: int, label: int | None) -> None:
        self.last_truth = self.truth.window_label(end_sample, self.window)
        if label is None or self.last_truth is None:
            return
        self.scored += 1
        self.correct += label == self.last_truth

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.scored if self.scored else None
