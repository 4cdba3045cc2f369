"""The native format as a reader (see :mod:`edgekd.data.native`)."""

from __future__ import annotations

from pathlib import Path

from edgekd.data import native
from edgekd.data.readers.base import register_reader, ReaderOptions
from edgekd.data.recording import Dataset


@register_reader
class NpzReader:
    name = "npz"
    description = "edgekd native: dataset.json + one .npz per recording"

    def detect(self, root: Path) -> bool:
        return (root / native.MANIFEST).is_file() or root.name == native.MANIFEST

    def read(self, root: Path, options: ReaderOptions, strict: bool) -> Dataset:
        return native.read_dataset(root, strict=strict)
