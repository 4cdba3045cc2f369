"""``edgekd train``, ``edgekd evaluate``, ``edgekd models``."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from edgekd.cli import train_options as O
from edgekd.cli.console import console, print_warning
from edgekd.decision_policy import DEFAULT_THRESHOLD, DEFAULT_VOTE

Opt = typer.Option


def train(
    data: O.Data = None,
    model: Annotated[Optional[str], Opt(help="Registered model name (see `edgekd models`).")] = None,
    out: O.Out = Path("runs/train"), config: O.Config = None, resume: O.Resume = False,
    scheme: O.Scheme = None, test: O.Test = None, train_on: O.TrainOn = None,
    pooled: O.Pooled = None, k: O.K = None,
    window: O.Window = None, hop: O.Hop = None, notch: O.Notch = None, channels: O.Channels = None,
    people: O.People = None, epochs: O.Epochs = None, batch_size: O.BatchSize = None,
    lr: O.Lr = None, optimizer: O.Optimizer = None, schedule: O.Schedule = None,
    weight_decay: O.WeightDecay = None, patience: O.Patience = None,
    augment_amplitude: O.AugAmplitude = None, augment_noise: O.AugNoise = None,
    augment_rotation: O.AugRotation = None, seed: O.Seed = None, device: O.Device = None,
    amp: O.Amp = None, compile: O.Compile = None, modality: O.Modality = None,
    reader: O.Reader = None,
    init_from: Annotated[Optional[Path], Opt(help="Start from this run's weights (pre-training).")] = None,
    freeze_trunk: Annotated[Optional[bool], Opt("--freeze-trunk/--no-freeze-trunk", help="With --init-from: train only the head.")] = None,
) -> None:
    """Train a model per split (per person by default) with honest model selection."""
    overrides = O.common_overrides(
        data, scheme, test, pooled, k, window, hop, channels, people, epochs, batch_size, lr,
        optimizer, schedule, weight_decay, patience, augment_amplitude, augment_noise,
        augment_rotation, seed, device, amp, compile, modality, reader, notch)
    overrides.update({"model": model, "init_from": str(init_from) if init_from else None,
                      "freeze_trunk": freeze_trunk, "split.train": O.csv_list(train_on)})
    run_training(config, overrides, out, resume)


def run_training(config: Path | None, overrides: dict, out: Path, resume: bool) -> None:
    """Resolve the config, train with progress (rank 0 only under torchrun), print metrics."""
    from edgekd.train.config import resolve
    from edgekd.train.run import train_run

    notch_off = overrides.get("data.filters.notch_hz") == "none"
    if notch_off:  # None means "not given" to resolve(): switch the notch off after it
        overrides["data.filters.notch_hz"] = None
    cfg = None if resume else resolve(config, overrides)
    if cfg is not None and notch_off:
        cfg.data.filters = dataclasses.replace(cfg.data.filters, notch_hz=None)
    if cfg is not None and not cfg.data.path:
        raise typer.BadParameter("--data is required (or data.path in --config)")
    if int(os.environ.get("RANK", "0")) != 0:  # torchrun: only rank 0 reports
        train_run(cfg, out, resume)
        return
    print_metrics(run_with_progress(lambda rep: train_run(cfg, out, resume, rep)), out)


def run_with_progress(run):
    """Run ``run(reporter)`` under a progress bar per split and one for epochs."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

    from edgekd.cli.console import live_progress
    from edgekd.train.run import Reporter

    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[info]}"), TimeElapsedColumn()]
    with live_progress(*columns) as bar:
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
    windows: Annotated[str, Opt(help="test: rebuild each split's test part; all: every window of the split's person (e.g. other sessions). Either way, windows the model trained or validated on are excluded, by content.")] = "test",
    reader: Annotated[Optional[str], Opt("--reader", help="Reader: npz, myo-dat, csv, ninapro, edf, xdf (default: auto-detect).")] = None,
    threshold: Annotated[float, Opt(help="Control metrics: reject decisions below this confidence, as `edgekd stream --threshold` (same default).")] = DEFAULT_THRESHOLD,
    vote: Annotated[int, Opt(help="Control metrics: majority vote over the last K accepted decisions, as `edgekd stream --vote` (same default).")] = DEFAULT_VOTE,
    allow_unchecked: Annotated[bool, Opt("--allow-unchecked", help="Score --windows all even when the run cannot say what its models saw (no identity.json, an older one, or one written on resume): the scores may include training data, and say so.")] = False,
    as_json: Annotated[bool, Opt("--json", help="Print JSON.")] = False,
) -> None:
    """Recompute metrics from a run's checkpoints on any dataset, never on data the run
    trained or validated on; people missing from the data are listed, not fatal. Control
    metrics (rejections, active error, instability, onset latency) side by side."""
    from edgekd.train.evaluate import evaluate_run

    from edgekd.cli.console import working

    with working(f"evaluate {run_dir}"):
        result = evaluate_run(run_dir, data, windows, reader, threshold, vote, allow_unchecked)
    if as_json:
        print(json.dumps(result, indent=2))
        return
    table = Table("split", "accuracy", "balanced acc", "macro-F1", "kappa", "windows")
    for name, m in result["splits"].items():
        table.add_row(escape(name), f"{m['accuracy']:.4f}", f"{m['balanced_accuracy']:.4f}",
                      f"{m['macro_f1']:.4f}", f"{m['kappa']:.4f}", str(m["n"]))
    console.print(table)
    acc = result["summary"]["accuracy"]
    console.print(f"mean accuracy {acc['mean']:.4f} ± {acc['sd']:.4f} over "
                  f"{len(result['splits'])} split(s)")
    print_control_summary(result["control_summary"], threshold, vote)
    print_evaluation_notes(result)


CONTROL_COLUMNS = [("accuracy_accepted", "accuracy (accepted)"),
                   ("accuracy_rejections_as_rest", "accuracy (rejections as rest)"),
                   ("rejection_rate", "rejected"), ("rejection_rate_gesture", "rejected gestures"),
                   ("availability", "availability"), ("active_error", "active error"),
                   ("instability", "instability"),
                   ("onset_latency_ms_p50", "onset → first correct (ms, p50)")]


def print_control_summary(summary: dict, threshold: float, vote: int) -> None:
    """The control metrics, mean over splits, as `edgekd stream` would decide."""
    table = Table("control metric (mean over splits)", "value",
                  title=f"decided as edgekd stream --threshold {threshold:g} --vote {vote}")
    for key, label in CONTROL_COLUMNS:
        value = summary.get(key)
        table.add_row(label, "n/a" if value is None else f"{value:.4f}")
    console.print(table)


def print_evaluation_notes(result: dict) -> None:
    """Everything left out of the scores, and why."""
    for name, e in result["excluded"].items():
        print_warning(f"{name}: excluded {e['windows']} of {e['of']} windows ({e['in_data']}): "
                      f"the same content this model was trained or validated on "
                      f"({e['matches']}); scored the other {e['kept']}")
    for name, why in result["refused"].items():
        print_warning(f"{name}: not scored: {why}")
    if result["absent"]:
        print_warning(f"not in {result['data']}, so not scored: " + "; ".join(
            f"{name} ({why})" for name, why in result["absent"].items()))
    if result["people_without_model"]:
        print_warning(f"people in the data without a model in this run: "
                      f"{', '.join(result['people_without_model'])}")
    for note in result["warnings"]:
        print_warning(note)


def models(
    role: Annotated[Optional[str], Opt(help="teacher | student.")] = None,
    n_channels: Annotated[int, Opt("--n-channels", help="Input channels for the counts.")] = 8,
    window: Annotated[int, Opt(help="Input window length (samples) for the counts.")] = 52,
    fs: Annotated[float, Opt(help="Sampling rate, Hz.")] = 200.0,
    classes: Annotated[int, Opt(help="Output classes.")] = 7,
    tiny: Annotated[bool, Opt(help="Include the *_tiny CI variants.")] = False,
) -> None:
    """List registered models with role, parameters and MACs for one input window."""
    from edgekd import model_catalog

    if role not in (None, "teacher", "student"):
        raise typer.BadParameter(f"teacher or student, not {role!r}", param_hint="--role")
    shape = {"chans": n_channels, "times": window, "fs": fs, "classes": classes}
    catalog, why = model_catalog.load(shape)
    if catalog is None:  # another input, or a stale catalog: build and count (imports torch)
        if shape == model_catalog.DEFAULT_INPUT:
            print_warning(f"{why}; counting afresh")
        catalog = _count_models(shape, role, tiny)
    table = Table("model", "role", "parameters", "MACs", "description",
                  title=f"input {n_channels} ch x {window} samples @ {fs:g} Hz, {classes} classes")
    for row in catalog["models"]:
        if (role and row["role"] != role) or (row["name"].endswith("_tiny") and not tiny):
            continue
        table.add_row(row["name"], row["role"], f"{row['parameters']:,}", f"{row['macs']:,}",
                      row["description"])
    console.print(table)
    console.print(f"[dim]{catalog['mac_convention']}[/]")


def _count_models(shape: dict, role: str | None, tiny: bool) -> dict:
    from edgekd import model_catalog
    from edgekd.cli.console import progress
    from edgekd.models import list_models
    from edgekd.profiling import MAC_CONVENTION

    names = [e.name for e in list_models(role) if tiny or not e.name.endswith("_tiny")]
    with progress("counting parameters and MACs", len(names)) as advance:
        rows = model_catalog.build(shape, names, on_model=advance)
    return {"models": rows, "mac_convention": MAC_CONVENTION}
