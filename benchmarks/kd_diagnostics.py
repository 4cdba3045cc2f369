"""Why does Hinton KD not carry the 8-electrode teacher's advantage over to the 4-electrode
student? A check of the soft targets the student actually trains on: the fine-tuned teacher's
accuracy and confidence on each person's *training* windows (what KD sees) vs their test windows,
and how much probability the temperature-softened targets put on the wrong classes ("dark
knowledge"). Run after ``benchmarks/distill_myo.py``.

    python -m benchmarks.kd_diagnostics   # writes benchmarks/results/kd_diagnostics.{json,md}
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from benchmarks.machine import machine_info
from edgekd.train.config import load_yaml, resolve
from edgekd.train.loop import predict_logits
from edgekd.train.run import build_splits, load_training_data
from edgekd.train.runs import load_model, split_models

HERE = Path(__file__).parent
TEMPERATURES = (1.0, 4.0, 16.0)


def soft_target_stats(logits: torch.Tensor, y: torch.Tensor, t: float) -> dict:
    p = torch.softmax(logits / t, dim=1)
    target = p.gather(1, y[:, None]).squeeze(1)
    return {"mean_max_prob": p.max(1).values.mean().item(),
            "mean_non_target_mass": (1 - target).mean().item()}


def per_person(teacher: Path) -> dict:
    cfg = resolve(base=load_yaml(teacher / "config.yaml"))
    _, full = load_training_data(cfg)
    models = split_models(teacher)
    rows = {}
    for prepared in build_splits(cfg, full):
        model, _ = load_model(models[prepared.split.name])
        row = {}
        for part in ("train", "test"):
            ws = getattr(prepared, part)
            x, y = torch.from_numpy(ws.x), torch.from_numpy(ws.y).long()
            logits = predict_logits(model, x)
            row[part] = {"accuracy": (logits.argmax(1) == y).float().mean().item(),
                         **{f"T={t:g}": soft_target_stats(logits, y, t) for t in TEMPERATURES}}
        rows[prepared.split.name] = row
        print(prepared.split.name, json.dumps(row), flush=True)
    return rows


def out_of_fold(folds: list[Path]) -> dict:
    """What ``--cross-fit`` hands the student: fold r's outputs on training repetition r, which
    fold r never saw (``benchmarks/distill_crossfit.py`` trains the folds)."""
    per_person: dict[str, list] = {}
    for rep, fold in enumerate(folds):
        cfg = resolve(base=load_yaml(fold / "config.yaml"))
        _, full = load_training_data(cfg)
        models = split_models(fold)
        for prepared in build_splits(cfg, full):
            ws = prepared.test
            keep = ws.repetition == rep
            model, _ = load_model(models[prepared.split.name])
            logits = predict_logits(model, torch.from_numpy(ws.x[keep]))
            per_person.setdefault(prepared.split.name, []).append(
                (logits, torch.from_numpy(ws.y[keep]).long()))
    rows = {}
    for person, parts in per_person.items():
        logits, y = torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])
        rows[person] = {"out-of-fold": {
            "accuracy": (logits.argmax(1) == y).float().mean().item(),
            **{f"T={t:g}": soft_target_stats(logits, y, t) for t in TEMPERATURES}}}
    return rows


def mean_over_people(rows: dict, part: str, *keys: str) -> float:
    values = []
    for row in rows.values():
        v = row[part]
        for k in keys:
            v = v[k]
        values.append(v)
    return float(np.mean(values))


def markdown(rows: dict, oof: dict | None = None) -> str:
    lines = ["| teacher on | accuracy | " + " | ".join(
        f"max prob (T={t:g}) | wrong-class mass (T={t:g})" for t in TEMPERATURES) + " |",
        "|---|---|" + "---|---|" * len(TEMPERATURES)]
    for part in ("train", "test"):
        cells = _cells(rows, part)
        lines.append(f"| {part} windows | " + " | ".join(cells) + " |")
    if oof:
        lines.append("| training windows, out-of-fold (`--cross-fit` folds) | " + " | ".join(
            _cells(oof, "out-of-fold")) + " |")
    return "\n".join(lines) + "\n"


def _cells(rows: dict, part: str) -> list[str]:
    cells = [f"{mean_over_people(rows, part, 'accuracy') * 100:.2f} %"]
    for t in TEMPERATURES:
        key = f"T={t:g}"
        cells += [f"{mean_over_people(rows, part, key, 'mean_max_prob'):.3f}",
                  f"{mean_over_people(rows, part, key, 'mean_non_target_mass'):.3f}"]
    return cells


def main() -> None:
    work = HERE / "runs" / "distill_myo"
    teacher = work / "teacher-finetuned"
    rows = per_person(teacher)
    folds = [work / f"xfit-teacher-fold{r}" for r in (0, 1, 2)]
    oof = out_of_fold(folds) if all((f / "metrics.json").is_file() for f in folds) else None
    (HERE / "results/kd_diagnostics.json").write_text(json.dumps(
        {"teacher": str(teacher), "people": rows, "out_of_fold": oof,
         "folds": [str(f) for f in folds] if oof else None, "machine": machine_info(),
         "command": "python -m benchmarks.kd_diagnostics"}, indent=2) + "\n")
    text = markdown(rows, oof)
    (HERE / "results/kd_diagnostics.md").write_text(
        f"Fine-tuned MKCNN teacher, 8 electrodes, mean over {len(rows)} people; the last row is "
        "the three 8-electrode MKCNN folds of the cross-fit run, each on the training "
        "repetition it held out.\n\n" + text)
    print(text)


if __name__ == "__main__":
    main()
