"""Build a DistillTask for one split: find each teacher (per person when the teacher run is
per person), build its aligned inputs, and cache its logits when that is exact."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch

from edgekd.data.prepare import PreparedSplit
from edgekd.data.recording import Dataset
from edgekd.distill.cross_fit import cross_fit_logits
from edgekd.distill.task import DistillTask, TeacherView
from edgekd.distill.teacher_inputs import teacher_windows
from edgekd.models import create_model
from edgekd.signal import ChannelNormalizer, PreprocessSpec
from edgekd.train.config import TrainConfig
from edgekd.train.loop import predict_logits
from edgekd.train.runs import checkpoint_spec, load_model, model_for

log = logging.getLogger("edgekd.distill")


def distill_task_factory(cfg: TrainConfig, dataset: Dataset):
    """A ``TaskFactory`` for ``train_run``; ``dataset`` is the full dataset (all modalities and
    channels) so teachers can read what the student does not."""
    kd = cfg.kd
    student_modality = cfg.data.modality or dataset.primary_modality

    def factory(student, prepared: PreparedSplit, device) -> DistillTask:
        if kd.alpha == 0 and not kd.feature_student:
            # the paired no-KD baseline: same student, init, splits and seeds; no teacher needed
            return DistillTask(student, [], [], kd)
        modality = kd.teacher_modality or student_modality
        if kd.mode == "online":
            return _online(cfg, student, prepared, dataset, modality, device)
        teachers, views, cache = [], [], []
        for run in kd.teachers:
            teacher, view, logits = _offline_teacher(cfg, run, prepared, dataset, modality,
                                                     student_modality, device)
            teachers.append(teacher)
            views.append(view)
            cache.append(logits)
        if kd.cross_fit:   # one soft target per window, from the fold that did not train on it
            cached = cross_fit_logits(cfg, prepared, kd.teachers, cache)
            teachers, views = teachers[:1], views[:1]
        else:
            cached = torch.stack(cache) if all(c is not None for c in cache) else None
        task = DistillTask(student, teachers, views, kd, cached)
        task.ensure_adapter(torch.from_numpy(prepared.train.x[:2]).to(device),
                            torch.arange(2, device=device))
        return task

    return factory


def _offline_teacher(cfg, run, prepared, dataset, modality, student_modality, device):
    path = model_for(run, prepared.split.name, prepared.split.person)
    teacher, ck = load_model(path, device)
    spec = checkpoint_spec(ck)
    channels = ck["train_config"]["data"]["channels"]
    log.info("%s: teacher %s (%s, %s)", prepared.split.name, path, ck["model_config"]["name"],
             modality)
    same_input = (modality == student_modality and channels == cfg.data.channels
                  and spec.window == prepared.spec.window and spec.filters == prepared.spec.filters)
    if same_input and cfg.augment.enabled:
        # the teacher must see this batch's augmented input: map student normalisation to its own
        s, t = prepared.spec.normalizer, spec.normalizer
        scale = torch.from_numpy(s.std / t.std)[:, None].to(device)
        shift = torch.from_numpy((s.mean - t.mean) / t.std)[:, None].to(device)
        return teacher, TeacherView(scale=scale, shift=shift), None
    inputs = torch.from_numpy(teacher_windows(dataset, prepared.train, spec, modality,
                                              channels)).to(device)
    logits = predict_logits(teacher, inputs)  # once per training window (no augmentation seen)
    return teacher, TeacherView(inputs=inputs), logits


def _online(cfg, student, prepared, dataset, modality, device) -> DistillTask:
    spec = PreprocessSpec(prepared.spec.fs, len(dataset.channels(modality)), prepared.spec.window,
                          prepared.spec.filters)
    raw = teacher_windows(dataset, prepared.train, spec, modality, None)
    spec.normalizer = ChannelNormalizer.fit(raw)  # teacher-modality stats, training part only
    inputs = torch.from_numpy(spec.normalizer.transform(raw)).to(device)
    teacher = create_model(cfg.kd.teacher_model, n_chans=spec.n_chans, n_times=spec.window.window,
                           n_outputs=student.n_outputs, sfreq=spec.fs).to(device)
    return DistillTask(student, [teacher], [TeacherView(inputs=inputs)], cfg.kd)


def teacher_identity(cfg: TrainConfig) -> dict:
    """What the run directory records about its teachers."""
    teachers = []
    for run in cfg.kd.teachers:
        metrics = Path(run) / "metrics.json"
        summary = json.loads(metrics.read_text())["summary"] if metrics.is_file() else None
        teachers.append({"run": str(run), "summary": summary})
    return {"kd": {**cfg.to_dict()["kd"], "teachers": teachers}}


__all__ = ["distill_task_factory", "teacher_identity"]
