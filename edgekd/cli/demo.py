"""``edgekd demo``: the whole toolkit on embedded synthetic data.

Stages that exist today: synthesise an armband dataset, write it in the native format,
summarise it, window it causally and split it without leakage (normalisation fitted on the
training part only). Training, distillation, export, benchmarking and streaming are added here
as they land (issues 3–8).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from edgekd.cli.console import console
from edgekd.cli.data import print_summary, synthesize_with_progress
from edgekd.data import native
from edgekd.data.prepare import prepare_splits
from edgekd.data.readers import read_dataset
from edgekd.data.splits import SplitConfig
from edgekd.data.summary import summarize
from edgekd.data.synth import SynthConfig
from edgekd.signal import FilterSpec, WindowSpec


def demo(out: Annotated[Path, typer.Option(help="Where to put everything the demo makes.")]
         = Path("edgekd-demo"),
         quick: Annotated[bool, typer.Option(help="Smaller data, for CI.")] = False) -> None:
    """Run the pipeline end to end on synthetic armband data."""
    cfg = SynthConfig(people=3 if quick else 6, sessions=1 if quick else 2, paired_channels=16)
    data_dir = out / "data"
    console.rule("1. synthesise an armband dataset")
    native.write_dataset(synthesize_with_progress(cfg), data_dir, overwrite=True)
    dataset = read_dataset(data_dir)
    print_summary(summarize(dataset))
    console.rule("2. causal preprocessing, leakage-free splits")
    splits = prepare_splits(dataset, WindowSpec(52, 5), FilterSpec(),
                            SplitConfig(scheme="repetition", per_person=True))
    table = Table("split", "train", "val", "test", "test repetitions", "norm mean (ch0)")
    for p in splits:
        table.add_row(p.split.name, str(len(p.train)), str(len(p.val)), str(len(p.test)),
                      str(sorted(set(p.test.repetition.tolist()))),
                      f"{p.spec.normalizer.mean[0]:.3f}")
    console.print(table)
    console.print(f"[bold green]done[/]: dataset in {data_dir}")
