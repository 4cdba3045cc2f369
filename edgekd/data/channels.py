"""Channel selection on recordings (e.g. a 4-electrode student from an 8-electrode armband)."""

from __future__ import annotations

from dataclasses import replace

from edgekd.data.recording import Dataset
from edgekd.errors import ConfigError


def select_channels(dataset: Dataset, indices: list[int], modality: str) -> Dataset:
    recs = []
    for rec in dataset.recordings:
        if rec.modality != modality:
            recs.append(rec)
            continue
        bad = [i for i in indices if not -rec.n_chans <= i < rec.n_chans]
        if bad:
            raise ConfigError(f"channels {bad} out of range for {rec.n_chans}-channel "
                              f"recording {rec.source}")
        recs.append(replace(rec, signals=rec.signals[:, indices],
                            channels=[rec.channels[i] for i in indices]))
    return Dataset(recs, dataset.label_names, dataset.source, dataset.format, dataset.problems)
