"""Generic delimited-text reader: one file per recording part, channel columns plus an optional
per-row label column, or the label taken from the file path.

Files of one (person, session) are concatenated in path order. Person, session, label and
repetition come from ``--path-regex`` named groups matched against the path relative to the
root; other named groups are kept in ``Recording.meta``. Without a repetition source, the k-th
contiguous run of a label (a file boundary also ends a run) is repetition k.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekd.data.readers.base import register_reader, ProblemLog, ReaderOptions, files_under
from edgekd.data.recording import UNLABELLED, Dataset, Recording
from edgekd.errors import ConfigError

DEFAULT_GLOBS = ["**/*.csv", "**/*.tsv", "**/*.txt"]
NOTES_PROBE_LINES = 20     # a data file has a numeric row among its first lines; notes do not
_TOKENS = re.compile(r"[,;\t ]+")


@dataclass
class _Part:
    path: Path
    rows: np.ndarray          # float32 [n, n_chans]
    raw_labels: list[str]     # per row; "" = unlabelled
    groups: dict[str, str]
    channels: list[str]


@register_reader
class CsvReader:
    name = "csv"
    description = "delimited text: channel columns [+ label column]; ids from --path-regex"

    def detect(self, root: Path) -> bool:
        return bool(files_under(root, DEFAULT_GLOBS))

    def read(self, root: Path, options: ReaderOptions, strict: bool) -> Dataset:
        if options.fs is None:
            raise ConfigError("csv files carry no sampling rate: pass --fs (Hz)")
        log = ProblemLog(strict, options.on_bad_row)
        regex = _compile(options.path_regex)
        paths = files_under(root, [options.glob] if options.glob else DEFAULT_GLOBS)
        if not paths:
            log.report(root, f"no files matching {options.glob or DEFAULT_GLOBS}")
        parts = [p for path in paths if (p := _read_part(root, path, regex, options, log))]
        parts = _consistent_channels(parts, log)
        label_names, code = _label_coding(parts, options.label_names)
        recordings = _assemble(parts, code, options)
        return Dataset(recordings, label_names, str(root), self.name, log.problems)


def _compile(pattern: str | None) -> re.Pattern | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as err:
        raise ConfigError(f"--path-regex {pattern!r} is not a valid regular expression: {err}")


def _sniff_delimiter(line: str) -> str | None:
    for delim in (",", ";", "\t"):
        if delim in line:
            return delim
    return None  # whitespace


def _is_number(token: str) -> bool:
    try:
        float(token)
        return True
    except ValueError:
        return False


def _label_index(label_column: str | None, header: list[str] | None, n_cols: int) -> int | None:
    if label_column is None:
        return None
    if header is not None and label_column in header:
        return header.index(label_column)
    try:
        idx = int(label_column)
    except ValueError:
        raise ConfigError(f"--label-column {label_column!r} is neither a column index nor a "
                          f"header name (header: {header})") from None
    if not -n_cols <= idx < n_cols:
        raise ConfigError(f"--label-column {idx} is out of range for {n_cols} columns")
    return idx % n_cols


def _looks_like_notes(numbered: list[tuple[int, str]]) -> bool:
    """True when none of the first lines is mostly numbers (whatever the delimiter): a
    dataset's README, curated.txt or other notes, not a recording. A header line alone does
    not count: the rows below it are numeric."""
    for _, text in numbered[:NOTES_PROBE_LINES]:
        tokens = [t for t in _TOKENS.split(text.strip()) if t]
        if tokens and sum(map(_is_number, tokens)) * 2 > len(tokens):
            return False
    return True


def _read_part(root: Path, path: Path, regex: re.Pattern | None, options: ReaderOptions,
               log: ProblemLog) -> _Part | None:
    lines = path.read_text(errors="replace").splitlines()
    numbered = [(i + 1, ln) for i, ln in enumerate(lines) if ln.strip()]
    if not numbered:
        log.report(path, "empty file: expected rows of channel values")
        return None
    if _looks_like_notes(numbered):
        log.report(path, f"not a recording (no numeric row in its first {NOTES_PROBE_LINES} "
                         "lines): skipped", severity="info")
        return None
    groups = _path_groups(root, path, regex, log)
    if groups is None:
        return None
    delim = options.delimiter or _sniff_delimiter(numbered[0][1])
    first = [t.strip() for t in numbered[0][1].split(delim)]
    has_header = options.header if options.header is not None else not all(map(_is_number, first))
    header = first if has_header else None
    body = numbered[1:] if has_header else numbered
    n_cols = len(first)
    label_idx = _label_index(options.label_column, header, n_cols)
    chan_idx = [c for c in range(n_cols) if c != label_idx]
    rows, raw_labels, bad = [], [], []
    for line_no, text in body:
        tokens = [t.strip() for t in text.split(delim)]
        if len(tokens) != n_cols:
            bad.append((line_no, f"expected {n_cols} columns, got {len(tokens)}"))
            continue
        try:
            values = [float(tokens[c]) for c in chan_idx]
        except ValueError:
            col = next(c for c in chan_idx if not _is_number(tokens[c]))
            bad.append((line_no, f"column {col}: expected a number, got {tokens[col]!r}"))
            continue
        if not all(map(math.isfinite, values)):
            bad.append((line_no, "NaN or inf in a channel value"))
            continue
        rows.append(values)
        raw_labels.append(tokens[label_idx] if label_idx is not None else groups.get("label", ""))
    if not rows:  # one problem for the file, not one per row of a file that is all bad
        line_no, detail = bad[0] if bad else (None, "no rows below the header")
        log.report(path, f"no valid data rows ({len(bad)} bad; first: {detail})", line=line_no)
        return None
    for line_no, detail in bad:
        log.bad_row(path, line_no, detail)
    channels = [header[c] for c in chan_idx] if header else [f"ch{i}" for i in range(len(chan_idx))]
    return _Part(path, np.asarray(rows, dtype=np.float32), raw_labels, groups, channels)


def _path_groups(root: Path, path: Path, regex: re.Pattern | None,
                 log: ProblemLog) -> dict[str, str] | None:
    rel = path.relative_to(root).as_posix() if path != root else path.name
    if regex is None:
        parent = Path(rel).parent.as_posix()
        return {"person": parent if parent != "." else "person0", "session": Path(rel).stem}
    match = regex.search(rel)
    if match is None:
        log.report(path, f"path {rel!r} does not match --path-regex {regex.pattern!r}")
        return None
    return {k: v for k, v in match.groupdict().items() if v is not None}


def _consistent_channels(parts: list[_Part], log: ProblemLog) -> list[_Part]:
    if not parts:
        return parts
    counts = [p.rows.shape[1] for p in parts]
    expected = max(set(counts), key=counts.count)
    kept = []
    for part in parts:
        if part.rows.shape[1] != expected:
            log.report(part.path, f"{part.rows.shape[1]} channel columns, but most files have "
                                  f"{expected}")
        else:
            kept.append(part)
    return kept


def _label_coding(parts: list[_Part], given: list[str] | None) -> tuple[list[str], dict[str, int]]:
    """Map raw label tokens to integers: integer tokens keep their value; names are sorted."""
    tokens = sorted({t for p in parts for t in p.raw_labels if t != ""})
    if tokens and all(_is_number(t) and float(t).is_integer() for t in tokens):
        values = {t: int(float(t)) for t in tokens}
        n = max(values.values()) + 1 if values else 0
        names = list(given) if given else [str(i) for i in range(n)]
        return names, values
    names = list(given) if given else tokens
    missing = [t for t in tokens if t not in names]
    if missing:
        raise ConfigError(f"labels {missing} are not in --label-names {names}")
    return names, {t: names.index(t) for t in tokens}


def _assemble(parts: list[_Part], code: dict[str, int], options: ReaderOptions) -> list[Recording]:
    by_key: dict[tuple[str, str], list[_Part]] = defaultdict(list)
    for part in parts:
        by_key[(part.groups.get("person", "person0"), part.groups.get("session", "0"))].append(part)
    recordings = []
    for (person, session), group in sorted(by_key.items()):
        labels = [np.array([code.get(t, UNLABELLED) for t in p.raw_labels], dtype=np.int64)
                  for p in group]
        reps = _repetitions(group, labels)
        meta = {k: v for k, v in group[0].groups.items()
                if k not in ("person", "session", "label", "repetition")}
        recordings.append(Recording(
            np.concatenate([p.rows for p in group]), float(options.fs), np.concatenate(labels),
            reps, group[0].channels, person=person, session=session, modality=options.modality,
            source=str(group[0].path.parent), meta=meta))
    return recordings


def _repetitions(group: list[_Part], labels: list[np.ndarray]) -> np.ndarray:
    if all("repetition" in p.groups for p in group):
        return np.concatenate([np.full(len(p.rows), int(p.groups["repetition"])) for p in group])
    out, seen = [], defaultdict(int)
    for part_labels in labels:
        reps = np.full(len(part_labels), UNLABELLED, dtype=np.int64)
        starts = np.flatnonzero(np.diff(part_labels, prepend=part_labels[0] - 1) != 0)
        ends = np.append(starts[1:], len(part_labels))
        for s, e in zip(starts, ends):
            label = int(part_labels[s])
            if label != UNLABELLED:
                reps[s:e] = seen[label]
                seen[label] += 1
        out.append(reps)
    return np.concatenate(out)
