"""The native on-disk format: one ``.npz`` per recording plus a ``dataset.json`` manifest.

The whole folder is written under a temporary name and renamed into place, so an interrupted
``edgekd data import`` never leaves a half-written dataset behind.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np

from edgekd import __version__
from edgekd.atomic import atomic_directory, write_json_atomic
from edgekd.data.recording import Dataset, Problem, Recording
from edgekd.errors import DataFormatError, EdgekdError

MANIFEST = "dataset.json"
FORMAT_VERSION = 1


def _file_stem(rec: Recording, index: int) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{rec.person}__{rec.session}__{rec.modality}")
    return f"{index:04d}_{safe}.npz"


def write_dataset(dataset: Dataset, out: str | Path, overwrite: bool = False,
                  imported: dict | None = None) -> Path:
    """Write ``dataset`` to folder ``out`` atomically; returns the manifest path. ``imported``
    (what ``data import`` read, skipped and why) is kept in the manifest under ``import``."""
    entries = []
    if Path(out).exists() and not overwrite:
        raise EdgekdError(f"{out} exists; pass --overwrite to replace it")
    with atomic_directory(out, overwrite=overwrite) as tmp:
        for i, rec in enumerate(dataset.recordings):
            name = _file_stem(rec, i)
            np.savez_compressed(tmp / name, signals=rec.signals, labels=rec.labels,
                                repetition=rec.repetition)
            entries.append({"file": name, "person": rec.person, "session": rec.session,
                            "modality": rec.modality, "fs": rec.fs, "unit": rec.unit,
                            "channels": rec.channels, "n_samples": rec.n_samples,
                            "source": rec.source, "meta": rec.meta})
        manifest = {
            "format": "edgekd-dataset", "format_version": FORMAT_VERSION,
            "edgekd_version": __version__, "label_names": dataset.label_names,
            "fs": sorted({r.fs for r in dataset.recordings}),
            "modalities": {m: dataset.channels(m) for m in dataset.modalities},
            "recordings": entries,
        }
        if imported is not None:
            manifest["import"] = imported
        write_json_atomic(tmp / MANIFEST, manifest)
    return Path(out) / MANIFEST


def read_manifest(root: Path) -> dict:
    path = root / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise DataFormatError(path, f"not valid JSON ({err.msg})", line=err.lineno) from None
    for key in ("label_names", "recordings"):
        if key not in manifest:
            raise DataFormatError(path, f"missing required key {key!r}")
    return manifest


def read_dataset(root: str | Path, strict: bool = True) -> Dataset:
    """Read a native dataset folder (or its ``dataset.json``)."""
    root = Path(root)
    if root.name == MANIFEST:
        root = root.parent
    manifest = read_manifest(root)
    recordings, problems = [], []
    for k, entry in enumerate(manifest["recordings"]):
        try:
            recordings.append(_read_entry(root, entry, k))
        except DataFormatError as err:
            if strict:
                raise
            problems.append(Problem(err.path, err.detail))
    return Dataset(recordings, list(manifest["label_names"]), str(root), "npz", problems)


def _read_entry(root: Path, entry: dict, k: int) -> Recording:
    path = root / entry["file"]
    try:
        with np.load(path) as z:
            arrays = {name: z[name] for name in ("signals", "labels", "repetition")}
    except FileNotFoundError:
        raise DataFormatError(path, f"listed as recording {k} in {MANIFEST} but missing") from None
    except (KeyError, ValueError, OSError, zipfile.BadZipFile) as err:
        raise DataFormatError(path, f"unreadable npz ({err}); expected arrays "
                                    "signals, labels, repetition") from None
    bad = ~np.isfinite(arrays["signals"])
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise DataFormatError(path, f"non-finite value (NaN/inf) at sample {row}")
    return Recording(arrays["signals"], float(entry["fs"]), arrays["labels"], arrays["repetition"],
                     list(entry["channels"]), str(entry["person"]), str(entry["session"]),
                     entry.get("modality", "emg"), entry.get("unit", "a.u."), str(path),
                     entry.get("meta", {}))
