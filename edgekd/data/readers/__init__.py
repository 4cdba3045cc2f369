"""Readers, chosen by auto-detection of the layout or forced by name (``--reader``)."""

from __future__ import annotations

from pathlib import Path

from edgekd.data.readers import csv_reader, edf, myo, ninapro, npz, xdf  # noqa: F401  (registers)
from edgekd.data.readers.base import READERS, ReaderOptions, describe_tree
from edgekd.data.recording import Dataset
from edgekd.errors import DataFormatError

# Most specific layouts first: a native dataset folder also holds no csv, a Myo tree no .mat.
DETECTION_ORDER = ["npz", "myo-dat", "ninapro", "xdf", "edf", "csv"]


def detect_format(root: str | Path) -> str:
    root = Path(root)
    if not root.exists():
        raise DataFormatError(root, "no such file or folder")
    if root.is_dir() and not any(root.iterdir()):
        raise DataFormatError(root, "empty folder: expected recordings")
    for name in DETECTION_ORDER:
        if READERS.get(name).detect(root):
            return name
    raise DataFormatError(root, "unknown layout: looked for dataset.json (npz), "
                                "**/classe_<i>.dat (myo-dat), **/*.mat (ninapro), "
                                "**/*.xdf (xdf), **/*.edf|*.bdf (edf) and "
                                f"**/*.csv|*.tsv|*.txt (csv); {describe_tree(root)}; "
                                "or pass --reader")


def read_dataset(path: str | Path, format: str | None = None,
                 options: ReaderOptions | None = None, strict: bool = True) -> Dataset:
    """Read any layout a registered reader knows. ``format=None`` auto-detects it."""
    path = Path(path)
    name = format or detect_format(path)
    reader = READERS.get(name)
    if not path.exists():
        raise DataFormatError(path, "no such file or folder")
    dataset = reader.read(path, options or ReaderOptions(), strict)
    if not dataset.recordings and strict:
        raise DataFormatError(path, f"no recordings found by the {name} reader")
    return dataset


__all__ = ["READERS", "ReaderOptions", "read_dataset", "detect_format"]
