"""Checkpoints: plain tensors and JSON strings only, so ``torch.load(weights_only=True)`` reads
them and nothing pickles code. Written to a temporary file and renamed (atomic)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from edgekd.atomic import atomic_path
from edgekd.errors import EdgekdError

FORMAT = "edgekd-checkpoint"
_JSON_KEYS = ("model_config", "preprocess", "train_config", "history", "best", "extra")


def save_checkpoint(path: str | Path, **fields) -> None:
    """Fields named in ``_JSON_KEYS`` are stored as JSON text; the rest must be tensors, state
    dicts, numbers or strings."""
    payload = {"format": FORMAT, "version": 1}
    for key, value in fields.items():
        payload[key] = json.dumps(value) if key in _JSON_KEYS else value
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(payload, tmp)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    path = Path(path)
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise EdgekdError(f"{path}: checkpoint not found") from None
    except Exception as err:  # torch raises many types for corrupt files
        raise EdgekdError(f"{path}: not a readable edgekd checkpoint ({err})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise EdgekdError(f"{path}: not an edgekd checkpoint (no format={FORMAT!r})")
    for key in _JSON_KEYS:
        if key in payload:
            payload[key] = json.loads(payload[key])
    return payload


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
