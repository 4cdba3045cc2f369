"""``edgekd demo`` as library code: the whole toolkit, end to end, on synthetic armband data.
Each stage is a function; the CLI prints between them. ``quick`` is the CI-sized version."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from edgekd.data.synth import SynthConfig
from edgekd.train.config import resolve


@dataclass(frozen=True)
class DemoPlan:
    people: int
    sessions: int
    teacher: str
    teacher_epochs: int
    student: str
    student_epochs: int
    stream_seconds: float
    stream_speed: float
    bench_runs: int

    @classmethod
    def make(cls, quick: bool) -> "DemoPlan":
        if quick:
            return cls(2, 1, "multistream", 6, "cnn", 8, 6.0, 4.0, 100)
        return cls(4, 1, "mkcnn", 12, "cnn", 20, 12.0, 1.0, 500)


def synth_config(plan: DemoPlan) -> SynthConfig:
    return SynthConfig(people=plan.people, sessions=plan.sessions, paired_channels=16, seed=0)


def prepare_out(out: Path) -> None:
    """The demo owns ``out``: a previous demo there is replaced, anything else is refused."""
    from edgekd.errors import EdgekdError
    if out.exists() and any(out.iterdir()) and not (out / ".edgekd-demo").exists():
        raise EdgekdError(f"{out} exists and was not made by edgekd demo; choose another --out")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    (out / ".edgekd-demo").write_text("made by edgekd demo\n")


def train_config(data: Path, model: str, epochs: int, **extra):
    return resolve(overrides={"data.path": str(data), "model": model, "data.hop": 10,
                              "optim.epochs": epochs, "optim.patience": 0, **extra})


def stream_demo(artifact: Path, data: Path, person: str, seconds: float, speed: float,
                on_tick=None, sinks=()) -> dict:
    """Emulate the armband on a pty with ``person``'s recording and stream into the artifact."""
    from edgekd.data.readers import read_dataset
    from edgekd.live_model import load_stream_model
    from firmware_bridge.emulator import Emulator
    from firmware_bridge.protocols import PROTOCOLS
    from firmware_bridge.runner import StreamOptions, run_stream

    rec = next(r for r in read_dataset(data).of_modality("emg") if r.person == person)
    emu = Emulator(rec.signals, rec.fs, PROTOCOLS.get("edgekd-v2"), rec.labels, speed=speed)
    gt = artifact.parent / "stream_ground_truth"
    emu.write_ground_truth(gt)
    model = load_stream_model(artifact)
    path, thread = emu.serve_pty()
    try:
        opts = StreamOptions(port=path, duration=seconds, reconnect=False, ground_truth=gt,
                             sinks=list(sinks))
        report = run_stream(opts, model, on_tick=on_tick)
    finally:
        emu.stop()
        thread.join(timeout=2)
    report["pty"] = path
    return report


__all__ = ["DemoPlan", "prepare_out", "stream_demo", "synth_config", "train_config"]
