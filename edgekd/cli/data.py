"""``edgekd data``: summary, import, synth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from edgekd.cli.console import console, progress
# edgekd.data is imported inside the commands: `edgekd --help` must not wait for scipy.signal
from edgekd.cli.options import (DataPath, Delimiter, Fs, Glob, Header, LabelColumn,
                                LabelNames, OnBadRow, PathRegex, Reader, reader_options)

if TYPE_CHECKING:
    from edgekd.data.synth import SynthConfig

SHOW_AT_MOST = 20  # problems listed on the terminal; the JSON / manifest holds all

app = typer.Typer(help="Inspect, import and synthesise recordings.", no_args_is_help=True)


@app.command()
def summary(path: DataPath, reader: Reader = None, fs: Fs = None, delimiter: Delimiter = None,
            header: Header = None, label_column: LabelColumn = None, glob: Glob = None,
            path_regex: PathRegex = None, label_names: LabelNames = None,
            as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """People, sessions, gestures (counts, durations), channels, fs, value range, and every
    problem found (it does not stop at the first)."""
    from edgekd.data.readers import read_dataset
    from edgekd.data.summary import summarize

    opts = reader_options(fs, delimiter, header, label_column, glob, path_regex, label_names)
    info = summarize(read_dataset(path, reader, opts, strict=False))
    if as_json:
        print(json.dumps(info, indent=2))
        return
    print_summary(info)


def print_summary(info: dict) -> None:
    console.print(f"[bold]{escape(info['source'])}[/] ({info['format']}): {info['n_people']} "
                  f"people, {info['n_sessions']} sessions, {info['n_recordings']} recordings, "
                  f"{info['duration_s']:.1f} s, fs {info['fs']} Hz, value range "
                  f"{info['value_range']}", highlight=False)
    for m, d in info["modalities"].items():
        console.print(f"  modality [cyan]{escape(m)}[/]: {d['n_channels']} channels "
                      f"({escape(d['unit'])})")
    print_sessions(info["sessions"])
    table = Table("label", "gesture", "seconds", "segments", "people")
    for g in info["gestures"]:
        table.add_row(str(g["label"]), escape(g["name"]), f"{g['seconds']:.1f}",
                      str(g["segments"]), str(g["people"]))
    console.print(table)
    print_problems(f"{info['n_problems']} problem(s)", info["problems"])
    if info["skipped_files"]:
        print_problems(f"{len(info['skipped_files'])} file(s) skipped as not recordings",
                       info["skipped_files"])


def print_sessions(sessions: dict[str, list[str]]) -> None:
    """Session names (what --test / --train-on take): once if every person has the same."""
    distinct = {tuple(s) for s in sessions.values()}
    if len(distinct) == 1 and len(sessions) > 1:
        console.print(f"  sessions of every person: {escape(', '.join(next(iter(distinct))))}",
                      highlight=False)
        return
    for person, names in sessions.items():
        console.print(f"  sessions of {escape(person)}: {escape(', '.join(names))}",
                      highlight=False)


def print_problems(title: str, problems: list[dict], more_in: str = "--json") -> None:
    from edgekd.data.importing import problem_line

    console.print(title)
    colour = {"error": "red", "warning": "yellow"}
    for p in problems[:SHOW_AT_MOST]:
        console.print(f"  [{colour.get(p['severity'], 'dim')}]{p['severity']}[/] "
                      f"{escape(problem_line(p))}", highlight=False, soft_wrap=True)
    if len(problems) > SHOW_AT_MOST:
        console.print(f"  ... and {len(problems) - SHOW_AT_MOST} more (all in {more_in})")


@app.command("import")
def import_(path: DataPath, out: Annotated[Path, typer.Argument(help="New dataset folder.")],
            reader: Reader = None, fs: Fs = None, delimiter: Delimiter = None,
            header: Header = None, label_column: LabelColumn = None, glob: Glob = None,
            path_regex: PathRegex = None, label_names: LabelNames = None,
            on_bad_row: OnBadRow = "error",
            overwrite: Annotated[bool, typer.Option(help="Replace OUT if it exists.")] = False,
            ) -> None:
    """Convert recordings to the native format (dataset.json + .npz), atomically: on any error
    nothing is written. Skipped rows and files are listed in the output and the manifest."""
    from edgekd.data.importing import import_dataset

    opts = reader_options(fs, delimiter, header, label_column, glob, path_regex, label_names,
                          on_bad_row)
    dataset, manifest, report = import_dataset(path, out, reader, opts, overwrite)
    console.print(f"wrote {len(dataset.recordings)} recordings of {len(dataset.people)} people "
                  f"to {escape(str(manifest))}", highlight=False)
    if report["split_at"]:
        console.print(f"{len(report['split_at'])} session split(s) where rows were dropped, so "
                      "that no window spans a gap (recordings with meta 'segment')")
    where = f"{manifest} under import"
    for key, title in (("skipped_rows", "bad row(s) skipped (--on-bad-row skip)"),
                       ("skipped_files", "file(s) skipped as not recordings"),
                       ("warnings", "warning(s)")):
        if report[key]:
            print_problems(f"{len(report[key])} {title}", report[key], escape(where))


@app.command()
def synth(out: Annotated[Path, typer.Argument(help="New dataset folder (native format).")],
          n_people: Annotated[int, typer.Option("--n-people", help="Number of people.")] = 10,
          gestures: Annotated[int, typer.Option(help="Gestures (rest first), 2..12.")] = 7,
          n_channels: Annotated[int, typer.Option(
              "--n-channels", help="Electrodes around the forearm.")] = 8,
          fs: Annotated[float, typer.Option(help="Sampling rate, Hz.")] = 200.0,
          sessions: Annotated[int, typer.Option(help="Sessions per person.")] = 2,
          repetitions: Annotated[int, typer.Option(help="Repetitions per gesture.")] = 4,
          hold: Annotated[float, typer.Option(help="Seconds each gesture is held.")] = 3.0,
          rest: Annotated[float, typer.Option(help="Seconds of rest between gestures.")] = 1.5,
          mains: Annotated[float, typer.Option(help="Mains frequency, Hz (0: none).")] = 50.0,
          paired_channels: Annotated[int, typer.Option(
              help="Add a simultaneous 'hd-emg' modality with this many channels (0: none).")] = 0,
          seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
          overwrite: Annotated[bool, typer.Option(help="Replace OUT if it exists.")] = False,
          ) -> None:
    """Synthesise a realistic multi-channel sEMG armband dataset (see edgekd.data.synth)."""
    from edgekd.data import native
    from edgekd.data.synth import SynthConfig

    cfg = SynthConfig(people=n_people, gestures=gestures, channels=n_channels, fs=fs,
                      sessions=sessions, repetitions=repetitions, hold_s=hold, rest_s=rest,
                      mains_hz=mains, paired_channels=paired_channels, seed=seed)
    dataset = synthesize_with_progress(cfg)
    manifest = native.write_dataset(dataset, out, overwrite=overwrite)
    console.print(f"wrote {len(dataset.recordings)} recordings ({n_people} people, "
                  f"{', '.join(dataset.modalities)}) to {manifest}")


def synthesize_with_progress(cfg: SynthConfig):
    from edgekd.data.synth import synthesize

    with progress("synthesising people", cfg.people) as advance:
        return synthesize(cfg, on_person=advance)
