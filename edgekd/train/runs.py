"""Reading trained run directories: which model belongs to which split or person."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from edgekd.errors import EdgekdError
from edgekd.models import model_from_config
from edgekd.signal import PreprocessSpec
from edgekd.train.checkpoint import load_checkpoint

MODEL_FILE = "model.pt"


def split_models(run_dir: str | Path) -> dict[str, Path]:
    """{split name: model.pt} of a finished run directory."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file():
        raise EdgekdError(f"{run_dir}: not an edgekd run directory (no config.yaml)")
    found = {}
    for result in sorted(run_dir.glob("splits/*/result.json")):
        info = json.loads(result.read_text())
        found[info["name"]] = result.parent / MODEL_FILE
    if not found:
        raise EdgekdError(f"{run_dir}: no finished split (train it, or --resume it)")
    return found


def model_for(run_dir: str | Path, split_name: str, person: str | None) -> Path:
    """The model of ``run_dir`` to use for ``split_name``: the same split, else the same
    person's, else the run's only model (e.g. one pre-trained across people)."""
    models = split_models(run_dir)
    if split_name in models:
        return models[split_name]
    if person is not None:
        same = [p for name, p in models.items() if name.split("/")[0] == person]
        if len(same) == 1:
            return same[0]
    if len(models) == 1:
        return next(iter(models.values()))
    raise EdgekdError(f"{run_dir}: no model for split {split_name!r} (has {sorted(models)})")


def load_model(path: str | Path, device: torch.device | str = "cpu"):
    """(model in eval mode, checkpoint dict) from a ``model.pt``."""
    ck = load_checkpoint(path, map_location=device)
    model = model_from_config(ck["model_config"])
    model.load_state_dict(ck["state_dict"])
    return model.to(device).eval(), ck


def checkpoint_spec(ck: dict) -> PreprocessSpec:
    return PreprocessSpec.from_dict(ck["preprocess"])
