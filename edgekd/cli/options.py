"""Option types shared by every command that reads recordings (any format a reader knows)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:  # imported when used: the CLI starts without edgekd.data
    from edgekd.data.readers import ReaderOptions

DataPath = Annotated[Path, typer.Argument(help="Recordings: a folder or file in any format "
                                               "edgekd reads (see --reader).")]
Reader = Annotated[Optional[str], typer.Option(
    "--reader", help="Reader: npz, myo-dat, csv, ninapro, edf. Default: auto-detect.")]
Fs = Annotated[Optional[float], typer.Option(
    "--fs", help="Sampling rate in Hz, for files that do not carry it (csv).")]
Delimiter = Annotated[Optional[str], typer.Option(
    help="csv: column delimiter. Default: sniff ',', ';', tab, else whitespace.")]
Header = Annotated[Optional[bool], typer.Option(
    "--header/--no-header", help="csv: first row is a header. Default: detect.")]
LabelColumn = Annotated[Optional[str], typer.Option(
    help="csv: label column, by index (-1 = last) or header name.")]
Glob = Annotated[Optional[str], typer.Option(
    help="Which files under PATH to read, e.g. '*/*/*.txt' (directory symlinks are followed). "
         "Default: **/*.csv, **/*.tsv, **/*.txt. Text files with no numeric rows (README.txt, "
         "notes) are skipped and listed.")]
PathRegex = Annotated[Optional[str], typer.Option(
    help="Regex on the path below PATH with named groups person, session, label, repetition, "
         "e.g. '(?P<person>[^/]+)-(?P<session>[^/]+)/(?P<label>[^/.]+)\\.txt$'.")]
LabelNames = Annotated[Optional[str], typer.Option(
    help="Comma-separated label names, in label order.")]
OnBadRow = Annotated[str, typer.Option(
    help="csv: a malformed row (wrong column count, not a number, NaN) is an 'error' (stop, "
         "write nothing) or is 'skip'ped: dropped, counted and listed with file:line in the "
         "output and in the new dataset's manifest; the session is split into recordings "
         "there, so no window spans the gap.")]


def reader_options(fs: float | None = None, delimiter: str | None = None,
                   header: bool | None = None, label_column: str | None = None,
                   glob: str | None = None, path_regex: str | None = None,
                   label_names: str | None = None, on_bad_row: str = "error") -> ReaderOptions:
    from edgekd.data.readers import ReaderOptions

    names = [n.strip() for n in label_names.split(",")] if label_names else None
    return ReaderOptions(fs=fs, delimiter=delimiter, header=header, label_column=label_column,
                         glob=glob, path_regex=path_regex, label_names=names,
                         on_bad_row=on_bad_row)
