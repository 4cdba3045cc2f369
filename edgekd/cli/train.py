"""``edgekd train``, ``edgekd evaluate``, ``edgekd models``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from edgekd.cli.console import console, err_console
from edgekd.profiling import MAC_CONVENTION, count_macs, count_parameters

Opt = typer.Option


def _csv(text: str | None, cast=str) -> list | None:
    return [cast(t.strip()) for t in text.split(",") if t.strip()] if text else None


def train(
    data: Annotated[Optional[Path], Opt("--data", help="Recordings (any format edgekd reads).")] = None,
    model: Annotated[Optional[str], Opt(help="Registered model name (see `edgekd models`).")] = None,
    out: Annotated[Path, Opt(help="Run directory to create (or resume).")] = Path("runs/train"),
    config: Annotated[Optional[Path], Opt(help="YAML config; flags override it.")] = None,
    resume: Annotated[bool, Opt(help="Continue the run in --out where it stopped.")] = False,
    split: Annotated[Optional[str], Opt(help="repetition | session | person (LOPO) | kfold.")] = None,
    test: Annotated[Optional[str], Opt(help="Held-out groups, comma-separated (default: last).")] = None,
    pooled: Annotated[Optional[bool], Opt("--pooled/--per-person", help="One model across people, or one per person.")] = None,
    k: Annotated[Optional[int], Opt(help="Folds for --split kfold.")] = None,
    window: Annotated[Optional[int], Opt(help="Window length, samples.")] = None,
    hop: Annotated[Optional[int], Opt(help="Hop between training windows, samples.")] = None,
    channels: Annotated[Optional[str], Opt(help="Channel indices to keep, e.g. 0,2,4,6.")] = None,
    people: Annotated[Optional[str], Opt(help="Only these people, comma-separated.")] = None,
    epochs: Annotated[Optional[int], Opt(help="Maximum epochs.")] = None,
    batch_size: Annotated[Optional[int], Opt(help="Batch size.")] = None,
    lr: Annotated[Optional[float], Opt(help="Learning rate.")] = None,
    optimizer: Annotated[Optional[str], Opt(help="adamw | adam | sgd.")] = None,
    schedule: Annotated[Optional[str], Opt(help="cosine | onecycle | step | none.")] = None,
    weight_decay: Annotated[Optional[float], Opt(help="Weight decay.")] = None,
    patience: Annotated[Optional[int], Opt(help="Early-stopping patience on validation accuracy (0: off).")] = None,
    augment_amplitude: Annotated[Optional[float], Opt(help="± relative per-channel gain jitter.")] = None,
    augment_noise: Annotated[Optional[float], Opt(help="Additive noise (normalised units).")] = None,
    augment_rotation: Annotated[Optional[int], Opt(help="± channels of electrode rotation.")] = None,
    seed: Annotated[Optional[int], Opt(help="Random seed.")] = None,
    device: Annotated[Optional[str], Opt(help="auto | cpu | cuda.")] = None,
    amp: Annotated[Optional[bool], Opt("--amp/--no-amp", help="bf16 mixed precision on CUDA.")] = None,
    compile: Annotated[Optional[bool], Opt("--compile/--no-compile", help="torch.compile the model.")] = None,
    init_from: Annotated[Optional[Path], Opt(help="Start from this run's weights (pre-training).")] = None,
    freeze_trunk: Annotated[Optional[bool], Opt("--freeze-trunk/--no-freeze-trunk", help="With --init-from: train only the head.")] = None,
) -> None:
    """Train a model per split (per person by default) with honest model selection."""
    from edgekd.train.config import resolve
    from edgekd.train.run import train_run

    overrides = {
        "data.path": str(data) if data else None, "model": model, "split.scheme": split,
        "split.test": _csv(test), "split.per_person": None if pooled is None else not pooled,
        "split.k": k, "data.window": window, "data.hop": hop,
        "data.channels": _csv(channels, int), "data.people": _csv(people),
        "optim.epochs": epochs, "optim.batch_size": batch_size, "optim.lr": lr,
        "optim.optimizer": optimizer, "optim.schedule": schedule,
        "optim.weight_decay": weight_decay, "optim.patience": patience,
        "augment.amplitude": augment_amplitude, "augment.noise": augment_noise,
        "augment.rotation": augment_rotation, "seed": seed, "device": device, "amp": amp,
        "compile": compile, "init_from": str(init_from) if init_from else None,
        "freeze_trunk": freeze_trunk,
    }
    cfg = None if resume else resolve(config, overrides)
    if cfg is not None and not cfg.data.path:
        raise typer.BadParameter("--data is required (or data.path in --config)")
    if int(os.environ.get("RANK", "0")) != 0:  # torchrun: only rank 0 reports
        train_run(cfg, out, resume)
        return
    print_metrics(run_with_progress(lambda rep: train_run(cfg, out, resume, rep)), out)


def run_with_progress(run):
    """Run ``run(reporter)`` under a progress bar per split and one for epochs."""
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn)

    from edgekd.train.run import Reporter

    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[info]}"), TimeElapsedColumn()]
    with Progress(*columns, console=err_console) as bar:
        splits = bar.add_task("splits", total=None, info="")
        epochs = bar.add_task("epochs", total=None, info="")

        def on_split(name, i, n):
            bar.update(splits, total=n, completed=i, info=name)
            bar.reset(epochs, total=None, info="")

        def on_epoch(name, s):
            bar.update(epochs, advance=1, info=f"{name} epoch {s.epoch}: loss {s.train_loss:.3f} "
                                              f"val acc {s.val_acc:.3f}")

        def on_result(r):
            bar.update(splits, advance=1, info=f"{r['name']}: test acc {r['test']['accuracy']:.3f}")

        return run(Reporter(on_split, on_epoch, on_result))


def print_metrics(metrics: dict, out: Path) -> None:
    table = Table("split", "accuracy", "balanced acc", "macro-F1", "kappa", "best epoch",
                  title=f"{metrics['model']}: test metrics")
    for name, m in metrics["splits"].items():
        table.add_row(name, f"{m['accuracy']:.4f}", f"{m['balanced_accuracy']:.4f}",
                      f"{m['macro_f1']:.4f}", f"{m['kappa']:.4f}", str(m["best_epoch"]))
    s = metrics["summary"]
    table.add_row("[bold]mean ± sd", *(f"{s[k]['mean']:.4f} ± {s[k]['sd']:.4f}"
                                       for k in ("accuracy", "balanced_accuracy", "macro_f1",
                                                 "kappa")), "")
    console.print(table)
    console.print(f"run directory: {out} (metrics.json, confusion.png, curves.png, train.log); "
                  f"wall time {metrics['wall_s']:.1f} s on {metrics['device']}")


def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="A finished run directory.")],
    data: Annotated[Path, Opt("--data", help="Recordings to evaluate on (any format).")],
    split: Annotated[str, Opt(help="test: rebuild each split's test part; all: every window of the split's person.")] = "test",
    format: Annotated[Optional[str], Opt("--format", help="Reader (default: auto-detect).")] = None,
    as_json: Annotated[bool, Opt("--json", help="Print JSON.")] = False,
) -> None:
    """Recompute metrics from a run's checkpoints on any dataset."""
    from edgekd.train.evaluate import evaluate_run

    result = evaluate_run(run_dir, data, split, format)
    if as_json:
        print(json.dumps(result, indent=2))
        return
    table = Table("split", "accuracy", "balanced acc", "macro-F1", "kappa", "windows")
    for name, m in result["splits"].items():
        table.add_row(name, f"{m['accuracy']:.4f}", f"{m['balanced_accuracy']:.4f}",
                      f"{m['macro_f1']:.4f}", f"{m['kappa']:.4f}", str(m["n"]))
    console.print(table)
    acc = result["summary"]["accuracy"]
    console.print(f"mean accuracy {acc['mean']:.4f} ± {acc['sd']:.4f}")


def models(
    role: Annotated[Optional[str], Opt(help="teacher | student.")] = None,
    chans: Annotated[int, Opt(help="Input channels for the counts.")] = 8,
    times: Annotated[int, Opt(help="Input window length (samples) for the counts.")] = 52,
    fs: Annotated[float, Opt(help="Sampling rate, Hz.")] = 200.0,
    classes: Annotated[int, Opt(help="Output classes.")] = 7,
    tiny: Annotated[bool, Opt(help="Include the *_tiny CI variants.")] = False,
) -> None:
    """List registered models with role, parameters and MACs for one input window."""
    from edgekd.models import create_model, list_models

    table = Table("model", "role", "parameters", "MACs", "description",
                  title=f"input {chans} ch x {times} samples @ {fs:g} Hz, {classes} classes")
    for entry in list_models(role):
        if entry.name.endswith("_tiny") and not tiny:
            continue
        model = create_model(entry.name, n_chans=chans, n_times=times, n_outputs=classes, sfreq=fs)
        table.add_row(entry.name, entry.role, f"{count_parameters(model):,}",
                      f"{count_macs(model, (chans, times)):,}", entry.description)
    console.print(table)
    console.print(f"[dim]{MAC_CONVENTION}[/]")
