"""``edgekd data``: summary, import, synth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from edgekd.cli.console import console, progress
from edgekd.cli.options import (DataPath, Delimiter, Format, Fs, Glob, Header, LabelColumn,
                                LabelNames, PathRegex, reader_options)
from edgekd.data import native
from edgekd.data.readers import read_dataset
from edgekd.data.summary import summarize
from edgekd.data.synth import SynthConfig, synthesize
from edgekd.errors import format_location

app = typer.Typer(help="Inspect, import and synthesise recordings.", no_args_is_help=True)


@app.command()
def summary(path: DataPath, format: Format = None, fs: Fs = None, delimiter: Delimiter = None,
            header: Header = None, label_column: LabelColumn = None, glob: Glob = None,
            path_regex: PathRegex = None, label_names: LabelNames = None,
            as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """People, sessions, gestures (counts, durations), channels, fs, value range, and every
    problem found (it does not stop at the first)."""
    opts = reader_options(fs, delimiter, header, label_column, glob, path_regex, label_names)
    info = summarize(read_dataset(path, format, opts, strict=False))
    if as_json:
        print(json.dumps(info, indent=2))
        return
    print_summary(info)


def print_summary(info: dict) -> None:
    console.print(f"[bold]{info['source']}[/] ({info['format']}): {info['n_people']} people, "
                  f"{info['n_sessions']} sessions, {info['n_recordings']} recordings, "
                  f"{info['duration_s']:.1f} s, fs {info['fs']} Hz, value range "
                  f"{info['value_range']}")
    for m, d in info["modalities"].items():
        console.print(f"  modality [cyan]{m}[/]: {d['n_channels']} channels ({d['unit']})")
    table = Table("label", "gesture", "seconds", "segments", "people")
    for g in info["gestures"]:
        table.add_row(str(g["label"]), g["name"], f"{g['seconds']:.1f}", str(g["segments"]),
                      str(g["people"]))
    console.print(table)
    console.print(f"{info['n_problems']} problem(s)")
    for p in info["problems"]:
        where = format_location(p["path"], p["line"], p["offset"])
        console.print(f"  [{'red' if p['severity'] == 'error' else 'yellow'}]{p['severity']}[/] "
                      f"{where}: {p['detail']}", highlight=False, soft_wrap=True)


@app.command("import")
def import_(path: DataPath, out: Annotated[Path, typer.Argument(help="New dataset folder.")],
            format: Format = None, fs: Fs = None, delimiter: Delimiter = None,
            header: Header = None, label_column: LabelColumn = None, glob: Glob = None,
            path_regex: PathRegex = None, label_names: LabelNames = None,
            overwrite: Annotated[bool, typer.Option(help="Replace OUT if it exists.")] = False,
            ) -> None:
    """Convert recordings to the native format (dataset.json + .npz), atomically: on any error
    nothing is written."""
    opts = reader_options(fs, delimiter, header, label_column, glob, path_regex, label_names)
    dataset = read_dataset(path, format, opts, strict=True)
    manifest = native.write_dataset(dataset, out, overwrite=overwrite)
    console.print(f"wrote {len(dataset.recordings)} recordings of {len(dataset.people)} people "
                  f"to {manifest}")


@app.command()
def synth(out: Annotated[Path, typer.Argument(help="New dataset folder (native format).")],
          people: Annotated[int, typer.Option(help="Number of people.")] = 10,
          gestures: Annotated[int, typer.Option(help="Gestures (rest first), 2..12.")] = 7,
          channels: Annotated[int, typer.Option(help="Electrodes around the forearm.")] = 8,
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
    cfg = SynthConfig(people=people, gestures=gestures, channels=channels, fs=fs,
                      sessions=sessions, repetitions=repetitions, hold_s=hold, rest_s=rest,
                      mains_hz=mains, paired_channels=paired_channels, seed=seed)
    dataset = synthesize_with_progress(cfg)
    manifest = native.write_dataset(dataset, out, overwrite=overwrite)
    console.print(f"wrote {len(dataset.recordings)} recordings ({people} people, "
                  f"{', '.join(dataset.modalities)}) to {manifest}")


def synthesize_with_progress(cfg: SynthConfig):
    with progress("synthesising people", cfg.people) as advance:
        return synthesize(cfg, on_person=advance)
