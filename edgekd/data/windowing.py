"""Dataset → labelled windows, through the same :class:`Preprocessor` the live path uses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgekd.data.recording import Dataset, Recording
from edgekd.signal import Preprocessor, PreprocessSpec, window_labels


@dataclass
class WindowSet:
    """Windows with the identity of where each came from (for splits and pairing).

    x: float32 ``[n, n_chans, n_times]`` (filtered, not yet normalised); y: int64 ``[n]``;
    person/session: str ``[n]``; repetition, recording, end: int64 ``[n]`` (``end`` is the index
    of the window's last sample in its recording).
    """

    x: np.ndarray
    y: np.ndarray
    person: np.ndarray
    session: np.ndarray
    repetition: np.ndarray
    recording: np.ndarray
    end: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, idx: np.ndarray) -> "WindowSet":
        return WindowSet(*(getattr(self, f)[idx] for f in self.__dataclass_fields__))

    @property
    def segment(self) -> np.ndarray:
        """Contiguous stretches of one label in one repetition of one recording."""
        keys = np.stack([self.recording, self.repetition, self.y], axis=1)
        _, seg = np.unique(keys, axis=0, return_inverse=True)
        return seg.reshape(-1)


def recording_windows(rec: Recording, spec: PreprocessSpec, index: int = 0,
                      keep_transitions: bool = False) -> WindowSet:
    """Filter ``rec`` causally from its first sample, cut windows, label and filter them."""
    if rec.n_chans != spec.n_chans or rec.fs != spec.fs:
        raise ValueError(f"{rec.source}: {rec.n_chans} ch @ {rec.fs} Hz does not match the "
                         f"preprocessing spec ({spec.n_chans} ch @ {spec.fs} Hz)")
    x, ends = Preprocessor(spec).push(rec.signals)
    y, keep = window_labels(rec.labels, rec.repetition, ends, spec.window.window, keep_transitions)
    n = int(keep.sum())
    return WindowSet(x[keep], y[keep], np.full(n, rec.person, dtype=object),
                     np.full(n, rec.session, dtype=object), rec.repetition[ends[keep]],
                     np.full(n, index, dtype=np.int64), ends[keep])


def dataset_windows(dataset: Dataset, spec: PreprocessSpec, modality: str | None = None,
                    keep_transitions: bool = False) -> WindowSet:
    """Windows of every recording of one modality, concatenated."""
    modality = modality or dataset.primary_modality
    parts = [recording_windows(rec, spec, i, keep_transitions)
             for i, rec in enumerate(dataset.recordings) if rec.modality == modality]
    if not parts:
        raise ValueError(f"{dataset.source}: no recordings of modality {modality!r}")
    return WindowSet(*(np.concatenate([getattr(p, f) for p in parts])
                       for f in WindowSet.__dataclass_fields__))
