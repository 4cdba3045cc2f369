"""Flags shared by ``edgekd train`` and ``edgekd distill``, and their mapping onto config keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

Opt = typer.Option

Data = Annotated[Optional[Path], Opt("--data", help="Recordings (any format edgekd reads).")]
Reader = Annotated[Optional[str], Opt("--reader", help="Reader: npz, myo-dat, csv, ninapro, edf "
                                      "(default: auto-detect). CSV needs --fs etc.: run "
                                      "`edgekd data import` first.")]
Out = Annotated[Path, Opt(help="Run directory to create (or resume).")]
Config = Annotated[Optional[Path], Opt(help="YAML config; flags override it.")]
Resume = Annotated[bool, Opt(help="Continue the run in --out where it stopped.")]
Scheme = Annotated[Optional[str], Opt("--scheme", help="How to split the data: repetition | "
                                     "session | person (LOPO) | kfold (default: repetition).")]
Test = Annotated[Optional[str], Opt(help="Held-out groups, comma-separated (default: last, or "
                                          "every group not in --train-on).")]
TrainOn = Annotated[Optional[str], Opt(
    "--train-on", help="With --scheme session|repetition: train on these groups only, "
                       "comma-separated (validation is carved from them); test on the others. "
                       "E.g. --scheme session --train-on training0.")]
Pooled = Annotated[Optional[bool], Opt("--pooled/--per-person",
                                       help="One model across people, or one per person.")]
K = Annotated[Optional[int], Opt(help="Folds for --scheme kfold (default: 4).")]
Window = Annotated[Optional[int], Opt(help="Window length, samples (default: 52).")]
Hop = Annotated[Optional[int], Opt(help="Hop between training windows, samples (default: 5).")]
Notch = Annotated[Optional[str], Opt(help="Mains notch filter: 50 | 60 (Hz, with harmonics) | none "
                                           "(default: 50). The 20 Hz high-pass stays.")]
Modality = Annotated[Optional[str], Opt(help="Modality to train on (default: emg, else the "
                                                "most common one), e.g. hd-emg.")]
Channels = Annotated[Optional[str], Opt(help="Channel indices to keep, e.g. 0,2,4,6.")]
People = Annotated[Optional[str], Opt(help="Only these people, comma-separated.")]
Epochs = Annotated[Optional[int], Opt(help="Maximum epochs (default: 30).")]
BatchSize = Annotated[Optional[int], Opt(help="Batch size.")]
Lr = Annotated[Optional[float], Opt(help="Learning rate.")]
Optimizer = Annotated[Optional[str], Opt(help="adamw | adam | sgd.")]
Schedule = Annotated[Optional[str], Opt(help="cosine | onecycle | step | none.")]
WeightDecay = Annotated[Optional[float], Opt(help="Weight decay.")]
Patience = Annotated[Optional[int], Opt(
    help="Early-stopping patience on validation accuracy (0: off).")]
AugAmplitude = Annotated[Optional[float], Opt(help="± relative per-channel gain jitter.")]
AugNoise = Annotated[Optional[float], Opt(help="Additive noise (normalised units).")]
AugRotation = Annotated[Optional[int], Opt(help="± channels of electrode rotation.")]
Seed = Annotated[Optional[int], Opt(help="Random seed.")]
Device = Annotated[Optional[str], Opt(help="auto | cpu | cuda.")]
Amp = Annotated[Optional[bool], Opt("--amp/--no-amp", help="bf16 mixed precision on CUDA.")]
Compile = Annotated[Optional[bool], Opt("--compile/--no-compile", help="torch.compile the model.")]


def csv_list(text: str | None, cast=str) -> list | None:
    return [cast(t.strip()) for t in text.split(",") if t.strip()] if text else None


def notch_hz(text: str | None) -> float | str | None:
    """``--notch``: a frequency in Hz, or ``"none"`` (no notch), or None (not given)."""
    if text is None or text.strip().lower() in ("none", "off", "0"):
        return None if text is None else "none"
    try:
        return float(text)
    except ValueError:
        raise typer.BadParameter(f"50, 60 or none, not {text!r}", param_hint="--notch") from None


def common_overrides(data=None, scheme=None, test=None, pooled=None, k=None, window=None,
                     hop=None, channels=None, people=None, epochs=None, batch_size=None, lr=None,
                     optimizer=None, schedule=None, weight_decay=None, patience=None,
                     augment_amplitude=None, augment_noise=None, augment_rotation=None,
                     seed=None, device=None, amp=None, compile=None, modality=None,
                     reader=None, notch=None) -> dict:
    """Dotted config keys for the flags given (``None`` = not given)."""
    return {
        "data.path": str(data) if data else None, "split.scheme": scheme,
        "split.test": csv_list(test), "split.per_person": None if pooled is None else not pooled,
        "split.k": k, "data.window": window, "data.hop": hop,
        "data.channels": csv_list(channels, int), "data.people": csv_list(people),
        "optim.epochs": epochs, "optim.batch_size": batch_size, "optim.lr": lr,
        "optim.optimizer": optimizer, "optim.schedule": schedule,
        "optim.weight_decay": weight_decay, "optim.patience": patience,
        "augment.amplitude": augment_amplitude, "augment.noise": augment_noise,
        "augment.rotation": augment_rotation, "seed": seed, "device": device, "amp": amp,
        "compile": compile, "data.modality": modality, "data.format": reader,
        "data.filters.notch_hz": notch_hz(notch),
    }
