"""Flags shared by ``edgekd train`` and ``edgekd distill``, and their mapping onto config keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

Opt = typer.Option

Data = Annotated[Optional[Path], Opt("--data", help="Recordings (any format edgekd reads).")]
Format = Annotated[Optional[str], Opt("--format", "-f", help="Reader: npz, myo-dat, csv, ninapro, "
                                      "edf (default: auto-detect). CSV needs --fs etc.: run "
                                      "`edgekd data import` first.")]
Out = Annotated[Path, Opt(help="Run directory to create (or resume).")]
Config = Annotated[Optional[Path], Opt(help="YAML config; flags override it.")]
Resume = Annotated[bool, Opt(help="Continue the run in --out where it stopped.")]
Split = Annotated[Optional[str], Opt(help="repetition | session | person (LOPO) | kfold.")]
Test = Annotated[Optional[str], Opt(help="Held-out groups, comma-separated (default: last, or "
                                          "every group not in --train-on).")]
TrainOn = Annotated[Optional[str], Opt(
    "--train-on", help="With --split session|repetition: train on these groups only, "
                       "comma-separated (validation is carved from them); test on the others. "
                       "E.g. --split session --train-on training0.")]
Pooled = Annotated[Optional[bool], Opt("--pooled/--per-person",
                                       help="One model across people, or one per person.")]
K = Annotated[Optional[int], Opt(help="Folds for --split kfold.")]
Window = Annotated[Optional[int], Opt(help="Window length, samples.")]
Hop = Annotated[Optional[int], Opt(help="Hop between training windows, samples.")]
Modality = Annotated[Optional[str], Opt(help="Modality to train on (default: emg, else the "
                                                "most common one), e.g. hd-emg.")]
Channels = Annotated[Optional[str], Opt(help="Channel indices to keep, e.g. 0,2,4,6.")]
People = Annotated[Optional[str], Opt(help="Only these people, comma-separated.")]
Epochs = Annotated[Optional[int], Opt(help="Maximum epochs.")]
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


def common_overrides(data=None, split=None, test=None, pooled=None, k=None, window=None,
                     hop=None, channels=None, people=None, epochs=None, batch_size=None, lr=None,
                     optimizer=None, schedule=None, weight_decay=None, patience=None,
                     augment_amplitude=None, augment_noise=None, augment_rotation=None,
                     seed=None, device=None, amp=None, compile=None, modality=None,
                     format=None) -> dict:
    """Dotted config keys for the flags given (``None`` = not given)."""
    return {
        "data.path": str(data) if data else None, "split.scheme": split,
        "split.test": csv_list(test), "split.per_person": None if pooled is None else not pooled,
        "split.k": k, "data.window": window, "data.hop": hop,
        "data.channels": csv_list(channels, int), "data.people": csv_list(people),
        "optim.epochs": epochs, "optim.batch_size": batch_size, "optim.lr": lr,
        "optim.optimizer": optimizer, "optim.schedule": schedule,
        "optim.weight_decay": weight_decay, "optim.patience": patience,
        "augment.amplitude": augment_amplitude, "augment.noise": augment_noise,
        "augment.rotation": augment_rotation, "seed": seed, "device": device, "amp": amp,
        "compile": compile, "data.modality": modality, "data.format": format,
    }
