"""The teacher's view of each student training window: the same recording (person, session) and
the same last sample, but the teacher's modality, channels and preprocessing (filters, window
length, normalisation). Same-modality KD is the special case where only normalisation differs.
"""

from __future__ import annotations

import numpy as np

from edgekd.data.recording import Dataset, Recording
from edgekd.data.windowing import WindowSet
from edgekd.errors import DataFormatError
from edgekd.signal import CausalFilter, PreprocessSpec


def paired_recording(dataset: Dataset, rec: Recording, modality: str) -> Recording:
    """The recording of ``modality`` made together with ``rec``; checks the time base."""
    for other in dataset.recordings:
        if other.key == rec.key and other.modality == modality:
            _check_pair(rec, other)
            return other
    raise DataFormatError(rec.source or rec.person, f"no {modality!r} recording paired with "
                          f"person {rec.person!r} session {rec.session!r} (have modalities "
                          f"{dataset.modalities})")


def _check_pair(a: Recording, b: Recording) -> None:
    if a is b:
        return
    if a.fs != b.fs or a.n_samples != b.n_samples:
        raise DataFormatError(b.source, f"paired recordings differ in time base: {a.modality} "
                              f"{a.n_samples} samples @ {a.fs} Hz vs {b.modality} "
                              f"{b.n_samples} samples @ {b.fs} Hz")
    if not np.array_equal(a.labels, b.labels):
        first = int(np.argmax(a.labels != b.labels))
        raise DataFormatError(b.source, f"paired recordings disagree on labels from sample "
                              f"{first} ({a.modality}: {a.labels[first]}, {b.modality}: "
                              f"{b.labels[first]})")


def windows_at(signals: np.ndarray, spec: PreprocessSpec, ends: np.ndarray) -> np.ndarray:
    """Windows ``[n, C, window]`` ending at ``ends``: the causal filter over the whole recording
    from its first sample (as ``Preprocessor`` does), then slices."""
    w = spec.window.window
    if len(ends) and ends.min() < w - 1:
        raise DataFormatError("teacher windows", f"a {w}-sample teacher window cannot end at "
                              f"sample {int(ends.min())} (it would start before the recording)")
    filtered = CausalFilter(spec.filters, spec.fs, spec.n_chans).process(signals)
    idx = ends[:, None] + np.arange(-w + 1, 1)[None, :]
    out = filtered[idx].transpose(0, 2, 1)
    return spec.normalizer.transform(out) if spec.normalizer is not None else out.astype(np.float32)


def teacher_windows(dataset: Dataset, ws: WindowSet, spec: PreprocessSpec, modality: str,
                    channels: list[int] | None) -> np.ndarray:
    """Teacher inputs ``[len(ws), C_t, window_t]`` aligned with the student windows ``ws``
    (whose ``recording`` indices refer to ``dataset.recordings``)."""
    out = np.empty((len(ws), spec.n_chans, spec.window.window), dtype=np.float32)
    for r in np.unique(ws.recording):
        rows = np.flatnonzero(ws.recording == r)
        teacher_rec = paired_recording(dataset, dataset.recordings[int(r)], modality)
        signals = teacher_rec.signals if channels is None else teacher_rec.signals[:, channels]
        if signals.shape[1] != spec.n_chans:
            raise DataFormatError(teacher_rec.source, f"the teacher expects {spec.n_chans} "
                                  f"channels, the {modality} recording gives {signals.shape[1]}")
        out[rows] = windows_at(signals, spec, ws.end[rows])
    return out
