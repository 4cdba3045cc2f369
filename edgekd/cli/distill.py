"""``edgekd distill`` and ``edgekd compare``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from edgekd.cli import train_options as O
from edgekd.cli.console import console
from edgekd.cli.train import run_training

Opt = typer.Option


def distill(
    data: O.Data = None,
    teacher: Annotated[Optional[list[Path]], Opt(help="Trained teacher run dir; repeat for several teachers (their softened outputs are averaged). Per-person teachers are matched to each person.")] = None,
    student: Annotated[Optional[str], Opt(help="Student model name (see `edgekd models --role student`).")] = None,
    out: O.Out = Path("runs/distill"), config: O.Config = None, resume: O.Resume = False,
    alpha: Annotated[Optional[float], Opt(help="Weight of the KD term, 0..1 (0 = the paired no-KD baseline).")] = None,
    temperature: Annotated[Optional[float], Opt(help="Softmax temperature.")] = None,
    loss: Annotated[Optional[str], Opt(help="KD loss: hinton | dkd | lskd.")] = None,
    no_kd: Annotated[bool, Opt("--no-kd", help="Same as --alpha 0: train the same student the same way without KD.")] = False,
    mode: Annotated[Optional[str], Opt(help="offline (frozen teacher) | online (mutual learning).")] = None,
    teacher_model: Annotated[Optional[str], Opt(help="Online: the teacher model trained with the student.")] = None,
    teacher_lr: Annotated[Optional[float], Opt(help="Online: the teacher's learning rate.")] = None,
    teacher_modality: Annotated[Optional[str], Opt(help="Cross-modal: the modality the teacher reads (e.g. hd-emg).")] = None,
    student_channels: O.Channels = None,
    feature_student: Annotated[Optional[str], Opt(help="FitNets hint: student module path (e.g. features.2).")] = None,
    feature_teacher: Annotated[Optional[str], Opt(help="FitNets hint: teacher module path.")] = None,
    feature_weight: Annotated[Optional[float], Opt(help="FitNets hint weight.")] = None,
    cross_fit: Annotated[Optional[bool], Opt("--cross-fit/--no-cross-fit", help="The --teacher runs are folds, each trained with one more training repetition/session held out (--test 3,0; --test 3,1; ...): every training window gets its soft target from the fold that never saw it.")] = None,
    scheme: O.Scheme = None, test: O.Test = None, pooled: O.Pooled = None, k: O.K = None,
    window: O.Window = None, hop: O.Hop = None, notch: O.Notch = None, people: O.People = None,
    epochs: O.Epochs = None, batch_size: O.BatchSize = None, lr: O.Lr = None,
    optimizer: O.Optimizer = None, schedule: O.Schedule = None,
    weight_decay: O.WeightDecay = None, patience: O.Patience = None,
    augment_amplitude: O.AugAmplitude = None, augment_noise: O.AugNoise = None,
    augment_rotation: O.AugRotation = None, seed: O.Seed = None, device: O.Device = None,
    amp: O.Amp = None, compile: O.Compile = None, modality: O.Modality = None,
    reader: O.Reader = None,
) -> None:
    """Distill teachers into a compact student (offline, cross-modal, online, multi-teacher).
    The output is a train run directory plus the teachers' identity and the KD settings."""
    overrides = O.common_overrides(
        data, scheme, test, pooled, k, window, hop, student_channels, people, epochs, batch_size,
        lr, optimizer, schedule, weight_decay, patience, augment_amplitude, augment_noise,
        augment_rotation, seed, device, amp, compile, modality, reader, notch)
    overrides.update({
        "model": student, "kd.teachers": [str(t) for t in teacher] if teacher else None,
        "kd.alpha": 0.0 if no_kd else alpha, "kd.temperature": temperature, "kd.loss": loss,
        "kd.mode": mode, "kd.teacher_model": teacher_model, "kd.teacher_lr": teacher_lr,
        "kd.teacher_modality": teacher_modality, "kd.feature_student": feature_student,
        "kd.feature_teacher": feature_teacher, "kd.feature_weight": feature_weight,
        "kd.cross_fit": cross_fit})
    if not resume and not teacher and not no_kd and mode != "online" and config is None:
        # --no-kd needs no teacher: it is the paired baseline (same student, init, splits, seeds)
        raise typer.BadParameter("give --teacher RUN_DIR (or --mode online --teacher-model "
                                 "NAME, or --no-kd for the baseline)")
    run_training(config, overrides, out, resume)


def compare(
    runs: Annotated[list[Path], typer.Argument(help="Run directories; the first is the baseline.")],
    metric: Annotated[str, Opt(help="accuracy | balanced_accuracy | macro_f1 | kappa | active_error | instability (LibEMG's control metrics: lower is better).")] = "accuracy",
    as_json: Annotated[bool, Opt("--json", help="Print JSON instead of markdown.")] = False,
    png: Annotated[Optional[Path], Opt(help="Paired dot plot (default: compare.png in the current directory).")] = None,
) -> None:
    """Paired per-split comparison with win/tie/loss and a Wilcoxon signed-rank p-value."""
    from edgekd.distill.compare import compare_runs, paired_plot, to_markdown

    result = compare_runs(runs, metric)
    # never into a run folder by default: runs are inputs here, and a teacher's run is shared
    path = paired_plot(result, png or Path("compare.png"))
    if as_json:
        print(json.dumps({**result, "png": str(path)}, indent=2))
    else:
        print(to_markdown(result))
        console.print(f"paired plot: {path}")
