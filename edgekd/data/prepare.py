"""Recordings → per-split model inputs, with normalisation fitted on the training part only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgekd.data.recording import Dataset
from edgekd.data.splits import Split, SplitConfig, make_splits
from edgekd.data.windowing import WindowSet, dataset_windows
from edgekd.signal import ChannelNormalizer, FilterSpec, PreprocessSpec, WindowSpec


@dataclass
class PreparedSplit:
    """One split ready for a model: normalised windows and the spec that produced them."""

    split: Split
    spec: PreprocessSpec          # carries the normaliser fitted on ``split.train`` only
    train: WindowSet
    val: WindowSet
    test: WindowSet


def base_spec(dataset: Dataset, window: WindowSpec, filters: FilterSpec,
              modality: str | None = None) -> PreprocessSpec:
    modality = modality or dataset.primary_modality
    return PreprocessSpec(dataset.fs, len(dataset.channels(modality)), window, filters)


def prepare_splits(dataset: Dataset, window: WindowSpec, filters: FilterSpec,
                   split_cfg: SplitConfig, modality: str | None = None) -> list[PreparedSplit]:
    spec = base_spec(dataset, window, filters, modality)
    ws = dataset_windows(dataset, spec, modality)
    return [normalise_split(ws, s, spec) for s in make_splits(ws, split_cfg, window.window)]


def normalise_split(ws: WindowSet, split: Split, spec: PreprocessSpec) -> PreparedSplit:
    norm = ChannelNormalizer.fit(ws.x[split.train])
    fitted = PreprocessSpec(spec.fs, spec.n_chans, spec.window, spec.filters, norm)

    def part(idx: np.ndarray) -> WindowSet:
        sub = ws.subset(idx)
        sub.x = norm.transform(sub.x)
        return sub

    return PreparedSplit(split, fitted, part(split.train), part(split.val), part(split.test))
