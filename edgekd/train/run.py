"""``edgekd train`` as a sequence of named steps: prepare the run directory, load data, build
leakage-free splits, train one model per split (resumable), evaluate on the test part, write
metrics and figures."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from edgekd import __version__
from edgekd.atomic import write_json_atomic, write_text_atomic
from edgekd.data.channels import select_channels
from edgekd.data.prepare import PreparedSplit, prepare_splits
from edgekd.data.readers import read_dataset
from edgekd.data.recording import Dataset
from edgekd.errors import EdgekdError
from edgekd.models import create_model
from edgekd.plots import confusion_png, curves_png
from edgekd.signal import WindowSpec
from edgekd.train.checkpoint import save_checkpoint
from edgekd.train.config import TrainConfig, dump_yaml, load_yaml, resolve
from edgekd.train.distributed import DistContext, device_for, init_from_env
from edgekd.train.loop import EpochStats, fit, pick_device, predict_logits, stable_seed
from edgekd.control_metrics import libemg_metrics, rest_class
from edgekd.provenance import provenance
from edgekd.train.metrics import classification_metrics, mean_sd
from edgekd.train.provenance import RunClock
from edgekd.train.runs import MODEL_FILE, load_model, model_for
from edgekd.train.seen import record_identity
from edgekd.train.task import ClassificationTask

log = logging.getLogger("edgekd.train")


@dataclass
class Reporter:
    """Progress hooks the CLI fills in; the library itself only logs."""

    on_split: Callable[[str, int, int], None] = lambda name, i, n: None
    on_epoch: Callable[[str, EpochStats], None] = lambda name, stats: None
    on_result: Callable[[dict], None] = lambda result: None


# A task factory turns (model, split, device) into the training task: plain classification,
# or a distillation task (edgekd.distill) when the config has a kd section.
TaskFactory = Callable[[torch.nn.Module, PreparedSplit, torch.device], torch.nn.Module]


def default_task(model, prepared, device) -> torch.nn.Module:
    return ClassificationTask(model)


def open_run(out: Path, cfg: TrainConfig | None, resume: bool) -> TrainConfig:
    """Create ``out`` for a new run, or reload the config of the run being resumed."""
    saved = out / "config.yaml"
    if resume:
        if not saved.is_file():
            raise EdgekdError(f"{out}: nothing to resume (no config.yaml)")
        return resolve(base=load_yaml(saved))
    if saved.exists():
        raise EdgekdError(f"{out} already holds a run; pass --resume to continue it or choose "
                          "another --out")
    assert cfg is not None
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(saved, dump_yaml(cfg))
    return cfg


def load_training_data(cfg: TrainConfig) -> tuple[Dataset, Dataset]:
    """(the student's view: channels selected; the full dataset, for teachers)."""
    full = read_dataset(cfg.data.path, cfg.data.format)
    if cfg.data.people:
        full = full.select(people=cfg.data.people)
        if not full.recordings:
            raise EdgekdError(f"none of the people {cfg.data.people} in {cfg.data.path}")
    dataset = full
    if cfg.data.channels is not None:
        dataset = select_channels(full, cfg.data.channels,
                                  cfg.data.modality or full.primary_modality)
    return dataset, full


def build_splits(cfg: TrainConfig, dataset: Dataset) -> list[PreparedSplit]:
    return prepare_splits(dataset, WindowSpec(cfg.data.window, cfg.data.hop), cfg.data.filters,
                          cfg.split, cfg.data.modality)


def train_run(cfg: TrainConfig | None, out: str | Path, resume: bool = False,
              reporter: Reporter | None = None) -> dict:
    """Train every split of ``cfg`` into run directory ``out``; returns the metrics dict."""
    out, reporter = Path(out), reporter or Reporter()
    ctx = init_from_env()
    if ctx.is_main:
        cfg = open_run(out, cfg, resume)
    ctx.barrier()
    if not ctx.is_main:
        cfg = resolve(base=load_yaml(out / "config.yaml"))
    handler = _log_to(out / ("train.log" if ctx.is_main else f"train.rank{ctx.rank}.log"))
    try:
        clock = RunClock(out, resume, write=ctx.is_main)  # wall time over resumes, threads
        reporter = clock.wrap(reporter)
        dataset, full = load_training_data(cfg)
        splits = build_splits(cfg, dataset)
        if ctx.is_main:  # what each split's model sees, by content, for honest evaluation
            record_identity(out, cfg, full, splits, resume)
        task_factory, extra = default_task, None
        if cfg.kd.active:
            from edgekd.distill.setup import distill_task_factory, teacher_identity
            task_factory, extra = distill_task_factory(cfg, full), teacher_identity(cfg)
        device = device_for(ctx, pick_device(cfg.device))
        log.info("edgekd %s: %d splits of %s on %s (rank %d of %d)", __version__, len(splits),
                 cfg.data.path, device, ctx.rank, ctx.world)
        results = []
        for i, prepared in enumerate(splits):
            reporter.on_split(prepared.split.name, i, len(splits))
            result = train_split(cfg, prepared, dataset.label_names, out, device, resume,
                                 reporter, task_factory, extra, ctx)
            reporter.on_result(result)
            results.append(result)
        if not ctx.is_main:
            return {}
        return write_metrics(out, cfg, results, dataset.label_names, clock.total(), device,
                             {**(extra or {}), **clock.record(),
                              "provenance": provenance(full, cfg.data.path)}, ctx.world)
    finally:
        logging.getLogger("edgekd").removeHandler(handler)
        handler.close()


def _log_to(path: Path) -> logging.Handler:
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("edgekd")
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    return handler


def split_dir(out: Path, name: str) -> Path:
    return out / "splits" / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _tensors(part, device, y=True):
    x = torch.from_numpy(part.x).to(device)
    return (x, torch.from_numpy(part.y).to(device)) if y else x


def new_model(cfg: TrainConfig, prepared: PreparedSplit, n_classes: int, device):
    """The split's model, seeded by (seed, split) so a run with and without KD starts from the
    same weights; optionally initialised from another run and with a frozen trunk."""
    torch.manual_seed(stable_seed(cfg.seed, "init", prepared.split.name))
    model = create_model(cfg.model, n_chans=prepared.spec.n_chans, n_times=prepared.spec.window.window,
                         n_outputs=n_classes, sfreq=prepared.spec.fs, **cfg.model_args)
    if cfg.init_from:
        source, _ = load_model(model_for(cfg.init_from, prepared.split.name, prepared.split.person))
        model.load_state_dict(source.state_dict())
        log.info("%s: initialised from %s", prepared.split.name, cfg.init_from)
    if cfg.freeze_trunk:
        for name, p in model.named_parameters():
            p.requires_grad = name.startswith("head.")
    return model.to(device)


def train_split(cfg: TrainConfig, prepared: PreparedSplit, label_names: list[str], out: Path,
                device, resume: bool, reporter: Reporter, task_factory: TaskFactory,
                extra: dict | None, ctx: DistContext = DistContext()) -> dict:
    folder = split_dir(out, prepared.split.name)
    done = folder / "result.json"
    if resume and done.is_file():
        return json.loads(done.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    name = prepared.split.name
    if len(prepared.val) == 0 or len(prepared.train) == 0:
        raise EdgekdError(f"split {name}: empty training or validation part")
    model = new_model(cfg, prepared, len(label_names), device)
    task = task_factory(model, prepared, device).to(device)
    fitted = fit(task, _tensors(prepared.train, device), _tensors(prepared.val, device), cfg, name,
                 folder / "state.pt", resume, lambda s: reporter.on_epoch(name, s), ctx)
    model.load_state_dict(fitted.best_state)
    logits = predict_logits(model, _tensors(prepared.test, device, y=False), amp=cfg.amp)
    predicted = logits.argmax(1).cpu().numpy()
    metrics = classification_metrics(prepared.test.y, predicted, len(label_names))
    metrics.update(libemg_metrics(prepared.test.y, predicted, rest_class(label_names)))
    result = {"name": name, "person": prepared.split.person, "test": metrics,
              "best_epoch": fitted.best_epoch, "epochs_run": len(fitted.history),
              "n_windows": {"train": len(prepared.train), "val": len(prepared.val),
                            "test": len(prepared.test)},
              "history": fitted.history}
    if ctx.is_main:
        _save_split(folder, model, prepared, label_names, cfg, metrics, extra, result)
    ctx.barrier()
    log.info("%s: test accuracy %.4f (best epoch %d)", name, metrics["accuracy"], fitted.best_epoch)
    return result


def _save_split(folder: Path, model, prepared: PreparedSplit, label_names: list[str],
                cfg: TrainConfig, metrics: dict, extra: dict | None, result: dict) -> None:
    save_checkpoint(folder / MODEL_FILE, kind="model", model_config=model.get_config(),
                    state_dict={k: v.cpu() for k, v in model.state_dict().items()},
                    preprocess=prepared.spec.to_dict(), label_names=label_names,
                    train_config=cfg.to_dict(), split=result["name"], edgekd_version=__version__,
                    extra={"test_metrics": metrics, **(extra or {})})
    write_json_atomic(folder / "result.json", result)  # marks the split done (for --resume)
    (folder / "state.pt").unlink(missing_ok=True)


def _kd_label(cfg: TrainConfig) -> str:
    """How a run was trained, for figure titles: a KD run and its no-KD baseline share the
    model name, so the title must tell them apart."""
    if cfg.kd.mode == "online":
        return f"online KD with {cfg.kd.teacher_model}, alpha {cfg.kd.alpha:g}"
    if cfg.kd.active and cfg.kd.alpha > 0:
        return f"KD alpha {cfg.kd.alpha:g}, T {cfg.kd.temperature:g}"
    return "no KD"


def write_metrics(out: Path, cfg: TrainConfig, results: list[dict], label_names: list[str],
                  wall_s: float, device, extra: dict | None, world: int = 1) -> dict:
    per_split = {r["name"]: {"person": r["person"], **{k: v for k, v in r["test"].items()},
                             "best_epoch": r["best_epoch"], "n_windows": r["n_windows"]}
                 for r in results}
    total_cm = np.sum([r["test"]["confusion"] for r in results], axis=0)
    metrics = {"model": cfg.model, "label_names": label_names, "splits": per_split,
               "summary": mean_sd([r["test"] for r in results]), "n_splits": len(results),
               "confusion_total": total_cm.tolist(), "wall_s": round(wall_s, 2),
               "device": str(device), "processes": world, "edgekd_version": __version__,
               **(extra or {})}
    write_json_atomic(out / "metrics.json", metrics)
    run = f"{out.name} ({cfg.model}, {_kd_label(cfg)})"
    confusion_png(total_cm, label_names, out / "confusion.png",
                  f"{run}\ntest windows of all {len(results)} splits")
    curves_png({r["name"]: r["history"] for r in results}, out / "curves.png", title=run)
    return metrics
