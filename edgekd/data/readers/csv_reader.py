"""Generic delimited-text reader: one file per recording part, channel columns plus an optional
per-row label column, or the label taken from the file path.

Files of one (person, session) are concatenated in path order. Where ``--on-bad-row skip``
dropped rows, the session is split into separate recordings (same person and session,
``meta["segment"]``): rows on either side of a dropped one are not consecutive samples, so
filters must restart and no window may span them. Repetition ids are those of the whole
session: a hold interrupted by a bad row is still one repetition. Person, session, label and
repetition come from ``--path-regex`` named groups matched against the path relative to the
root; other named groups are kept in ``Recording.meta``. Without a repetition source, the k-th
contiguous run of a label (a file boundary also ends a run) is repetition k.

Data starts at the first row that is mostly numbers; lines before it (less the header) are a
preamble, skipped and listed as a warning. A file with no such row anywhere is notes (a
README, curated.txt), skipped and listed; one that cannot be read as text is an error.
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
_TOKENS = re.compile(r"[,;\t ]+")


@dataclass
class _Part:
    path: Path
    rows: np.ndarray          # float32 [n, n_chans]
    raw_labels: list[str]     # per row; "" = unlabelled
    groups: dict[str, str]
    channels: list[str]
    breaks: list[tuple[int, int]]   # (row index, file line of the last dropped row before it)


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


def _is_data_like(text: str) -> bool:
    """Mostly numbers, whatever the delimiter: a row of channel values (a text label column
    allowed), not a header, a preamble line or notes."""
    tokens = [t for t in _TOKENS.split(text.strip()) if t]
    return bool(tokens) and sum(map(_is_number, tokens)) * 2 > len(tokens)


def _text_lines(path: Path, log: ProblemLog) -> list[str] | None:
    """The file's lines, or None (reported) when it cannot be read as text: an I/O error or
    binary content is an error, never mistaken for notes."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        log.report(path, f"cannot be read: {err.strerror or err}")
        return None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):   # UTF-16 with BOM (spreadsheet exports)
        return raw.decode("utf-16", errors="replace").splitlines()
    if b"\0" in raw:
        log.report(path, "not a text file (NUL byte): expected rows of channel values",
                   offset=raw.index(b"\0"))
        return None
    return raw.decode("utf-8-sig", errors="replace").splitlines()


def _split_header(numbered: list[tuple[int, str]], start: int, delim: str | None,
                  header_opt: bool | None):
    """(header tokens or None, body lines, preamble lines) around the first data-like line
    ``start``: the line just before it is the header when asked to be, or (detected) when it
    has as many columns; lines before that are a preamble. With no line before it, the first
    line is a header when asked to be or (detected) when not all numbers."""
    split = lambda i: [t.strip() for t in numbered[i][1].split(delim)]  # noqa: E731
    if start == 0:
        first = split(0)
        has = header_opt if header_opt is not None else not all(map(_is_number, first))
        return (first, numbered[1:], []) if has else (None, numbered, [])
    if header_opt is not False and (header_opt or len(split(start - 1)) == len(split(start))):
        return split(start - 1), numbered[start:], numbered[:start - 1]
    return None, numbered[start:], numbered[:start]


def _read_part(root: Path, path: Path, regex: re.Pattern | None, options: ReaderOptions,
               log: ProblemLog) -> _Part | None:
    lines = _text_lines(path, log)
    if lines is None:
        return None
    numbered = [(i + 1, ln) for i, ln in enumerate(lines) if ln.strip()]
    if not numbered:
        log.report(path, "empty file: expected rows of channel values")
        return None
    start = next((i for i, (_, text) in enumerate(numbered) if _is_data_like(text)), None)
    if start is None:
        log.report(path, "not a recording (no numeric row anywhere): skipped", severity="info")
        return None
    groups = _path_groups(root, path, regex, log)
    if groups is None:
        return None
    delim = options.delimiter or _sniff_delimiter(numbered[start][1])
    header, body, preamble = _split_header(numbered, start, delim, options.header)
    if preamble:
        before = "the header" if header is not None else "the data"
        log.report(path, f"preamble of {len(preamble)} line(s) before {before} skipped (lines "
                         f"{preamble[0][0]}-{preamble[-1][0]})", line=preamble[0][0],
                   severity="warning")
    n_cols = len(header) if header is not None else len(body[0][1].split(delim))
    label_idx = _label_index(options.label_column, header, n_cols)
    chan_idx = [c for c in range(n_cols) if c != label_idx]
    rows, raw_labels, bad = [], [], []
    for line_no, text in body:
        try:
            values = _row_values(text, delim, n_cols, chan_idx)
        except ValueError as err:
            bad.append((line_no, str(err)))
            continue
        rows.append(values)
        raw_labels.append(_row_label(text, delim, label_idx, groups))
    if not rows:  # one problem for the file, not one per row of a file that is all bad
        line_no, detail = bad[0] if bad else (None, "no rows below the header")
        log.report(path, f"no valid data rows ({len(bad)} bad; first: {detail})", line=line_no)
        return None
    for line_no, detail in bad:
        log.bad_row(path, line_no, detail)
    breaks = _breaks([ln for ln, _ in body], {ln for ln, _ in bad})
    channels = [header[c] for c in chan_idx] if header else [f"ch{i}" for i in range(len(chan_idx))]
    return _Part(path, np.asarray(rows, dtype=np.float32), raw_labels, groups, channels, breaks)


def _row_values(text: str, delim: str | None, n_cols: int, chan_idx: list[int]) -> list[float]:
    """The channel values of one row; ValueError says what is wrong with it."""
    tokens = [t.strip() for t in text.split(delim)]
    if len(tokens) != n_cols:
        raise ValueError(f"expected {n_cols} columns, got {len(tokens)}")
    bad = next((c for c in chan_idx if not _is_number(tokens[c])), None)
    if bad is not None:
        raise ValueError(f"column {bad}: expected a number, got {tokens[bad]!r}")
    values = [float(tokens[c]) for c in chan_idx]
    if not all(map(math.isfinite, values)):
        raise ValueError("NaN or inf in a channel value")
    return values


def _row_label(text: str, delim: str | None, label_idx: int | None, groups: dict) -> str:
    if label_idx is None:
        return groups.get("label", "")
    return text.split(delim)[label_idx].strip()


def _breaks(lines: list[int], dropped: set[int]) -> list[tuple[int, int]]:
    """(index among the kept rows, last dropped line) wherever dropped rows precede a kept
    row, or end the file (index = number of kept rows)."""
    out, kept, last = [], 0, None
    for line in lines:
        if line in dropped:
            last = line
            continue
        if last is not None:
            out.append((kept, last))
            last = None
        kept += 1
    return out + ([(kept, last)] if last is not None else [])


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
        signals, labels = np.concatenate([p.rows for p in group]), np.concatenate(labels)
        for a, b, seg in _segments(group):
            recordings.append(Recording(
                signals[a:b], float(options.fs), labels[a:b], reps[a:b], group[0].channels,
                person=person, session=session, modality=options.modality,
                source=str(group[0].path.parent), meta={**meta, **seg}))
    return recordings


def _segments(group: list[_Part]) -> list[tuple[int, int, dict]]:
    """(start, stop, meta) of the stretches of consecutive rows of one session, split where
    rows were dropped; one stretch with no extra meta when none was."""
    cuts, offset = [], 0
    for part in group:
        cuts += [(offset + i, part.path, line) for i, line in part.breaks]
        offset += len(part.rows)
    cuts = sorted({c[0]: c for c in cuts if 0 < c[0] < offset}.values())  # one per place
    if not cuts:
        return [(0, offset, {})]
    starts = [0] + [c[0] for c in cuts]
    stops = starts[1:] + [offset]
    metas = [{"segment": 0}] + [{"segment": k + 1, "after_skipped_file": str(path),
                                 "after_skipped_line": line}
                                for k, (_, path, line) in enumerate(cuts)]
    return list(zip(starts, stops, metas))


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
