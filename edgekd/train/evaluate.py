"""Recompute metrics of a trained run on any dataset the readers know."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from edgekd.data.readers import read_dataset
from edgekd.data.splits import make_splits
from edgekd.data.windowing import dataset_windows
from edgekd.errors import EdgekdError
from edgekd.signal import PreprocessSpec
from edgekd.train.config import load_yaml, resolve
from edgekd.train.loop import predict_logits
from edgekd.train.metrics import classification_metrics, mean_sd
from edgekd.train.runs import checkpoint_spec, load_model, split_models

PARTS = ("test", "all")


def evaluate_run(run_dir: str | Path, data: str | Path, part: str = "test",
                 format: str | None = None) -> dict:
    """``part='test'`` rebuilds each split's test part on ``data`` (same split rules as the
    run); ``part='all'`` uses every window of the split's person (e.g. another session)."""
    if part not in PARTS:
        raise EdgekdError(f"--split {part!r}: expected one of {PARTS}")
    cfg = resolve(base=load_yaml(Path(run_dir) / "config.yaml"))
    dataset = read_dataset(data, format)
    if cfg.data.channels is not None:
        from edgekd.data.channels import select_channels
        dataset = select_channels(dataset, cfg.data.channels,
                                  cfg.data.modality or dataset.primary_modality)
    results = {}
    for name, path in split_models(run_dir).items():
        model, ck = load_model(path)
        spec = checkpoint_spec(ck)
        raw = PreprocessSpec(spec.fs, spec.n_chans, spec.window, spec.filters)  # no normaliser
        ws = dataset_windows(dataset, raw, cfg.data.modality)
        idx = _part_indices(ws, cfg, name, ck.get("split"), part)
        if len(idx) == 0:
            raise EdgekdError(f"{data}: no windows for split {name!r} ({part})")
        x = torch.from_numpy(spec.normalizer.transform(ws.x[idx]))
        pred = predict_logits(model, x).argmax(1).numpy()
        results[name] = classification_metrics(ws.y[idx], pred, len(ck["label_names"]))
    return {"run": str(run_dir), "data": str(data), "part": part, "splits": results,
            "summary": mean_sd(list(results.values()))}


def _part_indices(ws, cfg, name: str, split_name: str, part: str) -> np.ndarray:
    if part == "test":
        for split in make_splits(ws, cfg.split, cfg.data.window):
            if split.name == split_name:
                return split.test
        raise EdgekdError(f"split {split_name!r} cannot be rebuilt on this data")
    person = name.split("/")[0] if cfg.split.per_person and cfg.split.scheme != "person" else None
    return np.flatnonzero(ws.person == person) if person else np.arange(len(ws))
