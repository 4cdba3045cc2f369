"""Reader contract and the reader registry.

A reader turns a path into a :class:`Dataset`. With ``strict=True`` the first problem raises a
:class:`DataFormatError`; with ``strict=False`` problems are collected on ``Dataset.problems``
and every recording (or part of one) that is still good is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Protocol

from edgekd.data.recording import Dataset, Problem
from edgekd.errors import DataFormatError
from edgekd.registry import Registry


@dataclass
class ReaderOptions:
    """Options a user can give any reader; each reader uses the ones that apply to it."""

    fs: float | None = None            # sampling rate when the files do not carry it
    delimiter: str | None = None       # csv: None sniffs ',', ';', tab or whitespace
    header: bool | None = None         # csv: None = detect (first row non-numeric)
    label_column: str | None = None    # csv: column index (negative counts from the end) or name
    glob: str | None = None            # which files under the root to read
    path_regex: str | None = None      # named groups person/session/label/repetition from the path
    label_names: list[str] | None = None
    modality: str = "emg"
    extra: dict = field(default_factory=dict)


class Reader(Protocol):
    name: str
    description: str

    def detect(self, root: Path) -> bool: ...

    def read(self, root: Path, options: ReaderOptions, strict: bool) -> Dataset: ...


READERS: Registry[Reader] = Registry("data format")


class ProblemLog:
    """Collects problems, or raises the first one when strict."""

    def __init__(self, strict: bool):
        self.strict = strict
        self.problems: list[Problem] = []

    def report(self, path: str | Path, detail: str, *, line: int | None = None,
               offset: int | None = None, severity: str = "error") -> None:
        if self.strict and severity == "error":
            raise DataFormatError(path, detail, line=line, offset=offset)
        self.problems.append(Problem(str(path), detail, line, offset, severity))


def files_under(root: Path, patterns: list[str]) -> list[Path]:
    if root.is_file():
        return [root] if any(fnmatch(root.name, pat.rsplit("/", 1)[-1]) for pat in patterns) else []
    found: set[Path] = set()
    for pattern in patterns:
        found.update(p for p in root.glob(pattern) if p.is_file())
    return sorted(found)


def register_reader(cls: type) -> type:
    """Class decorator: register one instance of a reader under its ``name``."""
    READERS.register(cls.name)(cls())
    return cls
