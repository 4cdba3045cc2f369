"""Reader contract and the reader registry.

A reader turns a path into a :class:`Dataset`. With ``strict=True`` the first problem raises a
:class:`DataFormatError`; with ``strict=False`` problems are collected on ``Dataset.problems``
and every recording (or part of one) that is still good is kept.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from fnmatch import fnmatch, fnmatchcase
from pathlib import Path
from typing import Protocol

from edgekd.data.recording import Dataset, Problem
from edgekd.errors import ConfigError, DataFormatError
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
    on_bad_row: str = "error"          # csv: "error" stops at a malformed row, "skip" drops it
    modality: str = "emg"
    extra: dict = field(default_factory=dict)


class Reader(Protocol):
    name: str
    description: str

    def detect(self, root: Path) -> bool: ...

    def read(self, root: Path, options: ReaderOptions, strict: bool) -> Dataset: ...


READERS: Registry[Reader] = Registry("data format")


BAD_ROW_POLICIES = ("error", "skip")


class ProblemLog:
    """Collects problems, or raises the first one when strict. A malformed row is an error
    unless ``on_bad_row="skip"``: then it is dropped and recorded, even when strict."""

    def __init__(self, strict: bool, on_bad_row: str = "error"):
        if on_bad_row not in BAD_ROW_POLICIES:
            raise ConfigError(f"--on-bad-row {on_bad_row!r}: expected one of "
                              f"{', '.join(BAD_ROW_POLICIES)}")
        self.strict = strict
        self.on_bad_row = on_bad_row
        self.problems: list[Problem] = []

    def report(self, path: str | Path, detail: str, *, line: int | None = None,
               offset: int | None = None, severity: str = "error") -> None:
        if self.strict and severity == "error":
            raise DataFormatError(path, detail, line=line, offset=offset)
        self.problems.append(Problem(str(path), detail, line, offset, severity))

    def bad_row(self, path: str | Path, line: int, detail: str) -> None:
        if self.strict and self.on_bad_row == "error":
            raise DataFormatError(path, detail, line=line)
        self.problems.append(Problem(str(path), f"row skipped: {detail}", line))


def walk_files(root: Path) -> list[str]:
    """Every file below folder ``root`` as a sorted POSIX path relative to it, following
    directory symlinks. Written here because ``Path.glob('**')`` does not follow them before
    Python 3.13, and ``glob.glob`` does but loops through a cyclic link until the path is too
    long: each real folder is entered once."""
    seen: set[tuple[int, int]] = set()
    found = []
    for folder, dirs, names in os.walk(root, followlinks=True):
        st = os.stat(folder)
        if (st.st_dev, st.st_ino) in seen:
            dirs.clear()
            continue
        seen.add((st.st_dev, st.st_ino))
        rel = Path(folder).relative_to(root)
        found += [(rel / n).as_posix() for n in names if os.path.isfile(os.path.join(folder, n))]
    return sorted(found)


def glob_match(rel: str, pattern: str) -> bool:
    """Glob semantics on a relative POSIX path: ``*``/``?``/``[..]`` stay inside one path
    part, ``**`` matches zero or more folders."""
    def match(parts: list[str], pats: list[str]) -> bool:
        if not pats:
            return not parts
        if pats[0] == "**":
            return any(match(parts[i:], pats[1:]) for i in range(len(parts) + 1))
        return bool(parts) and fnmatchcase(parts[0], pats[0]) and match(parts[1:], pats[1:])
    return match(rel.split("/"), [p for p in pattern.split("/") if p])


def files_under(root: Path, patterns: list[str]) -> list[Path]:
    """Files below ``root`` matching any glob pattern (directory symlinks followed), sorted;
    ``root`` itself when it is a file whose name matches."""
    if root.is_file():
        return [root] if any(fnmatch(root.name, pat.rsplit("/", 1)[-1]) for pat in patterns) else []
    return sorted(root / rel for rel in walk_files(root)
                  if any(glob_match(rel, p) for p in patterns))


def describe_tree(root: Path, top: int = 5) -> str:
    """What a folder holds, for "unknown layout" errors: file count and commonest suffixes."""
    files = walk_files(root) if root.is_dir() else [root.name]
    suffixes = Counter(Path(f).suffix.lower() or "(no suffix)" for f in files)
    common = ", ".join(f"{s} x{n}" for s, n in suffixes.most_common(top))
    return f"found {len(files)} file(s) (directory symlinks followed){': ' + common if common else ''}"


def register_reader(cls: type) -> type:
    """Class decorator: register one instance of a reader under its ``name``."""
    READERS.register(cls.name)(cls())
    return cls
