"""Cross-fitted soft targets on the Myo people (after ``benchmarks/distill_myo.py``).

``benchmarks/kd_diagnostics.py`` shows the fine-tuned teacher is right on every window the
student trains on, so its soft targets there are nearly the labels. Here three 8-electrode MKCNN
teacher folds are trained per person from scratch, fold r holding out training repetition r
(test repetition 3 stays out of all of them). The 4-electrode student is then distilled
(Hinton, T = 4, alpha = 0.5) with

* cross-fitted targets: each window taught by the fold that never saw its repetition, vs
* the same three folds as an ensemble (each window mostly taught by folds that trained on it),

each compared with the same 4-electrode student without KD (paired, Wilcoxon, n = 22).

    python -m benchmarks.distill_crossfit   # writes benchmarks/results/distill_crossfit.{json,md}
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.distill_myo import run
from benchmarks.machine import machine_info
from edgekd.distill.compare import compare_runs, to_markdown

HERE = Path(__file__).parent
TEACHER_EPOCHS = 12


def main() -> None:
    work = HERE / "runs" / "distill_myo"
    data = json.loads((HERE / "results" / "distill_myo.json").read_text())["settings"]["data"]
    folds = [run(work / f"xfit-teacher-fold{r}", **{"data.path": data, "model": "mkcnn",
                                                    "optim.epochs": TEACHER_EPOCHS,
                                                    "split.test": [3, r]})
             for r in (0, 1, 2)]
    student = {"data.path": data, "model": "cnn", "optim.epochs": 30,
               "data.channels": [0, 2, 4, 6], "kd.teachers": [str(f) for f in folds],
               "kd.temperature": 4.0, "kd.alpha": 0.5}
    crossfit = run(work / "xfit-student4-crossfit", **student, **{"kd.cross_fit": True})
    ensemble = run(work / "xfit-student4-ensemble", **student)
    result = compare_runs([work / "student4-nokd", crossfit, ensemble])
    folds_test = {f.name: json.loads((f / "metrics.json").read_text())["summary"]["accuracy"]
                  for f in folds}
    (HERE / "results/distill_crossfit.json").write_text(json.dumps(
        {"comparison": result, "teacher_folds_test_accuracy": folds_test,
         "teacher_epochs": TEACHER_EPOCHS, "machine": machine_info(),
         "command": "python -m benchmarks.distill_crossfit"}, indent=2, default=str) + "\n")
    fold_line = "; ".join(f"{name} {s['mean']:.4f}" for name, s in folds_test.items())
    (HERE / "results/distill_crossfit.md").write_text(
        "4-electrode CNN student (channels 0, 2, 4, 6); teachers: three 8-electrode MKCNN folds "
        f"per person, from scratch, {TEACHER_EPOCHS} epochs, fold r holding out repetition r "
        f"(test accuracy on repetition 4: {fold_line}). Runs: no KD, cross-fitted KD, the same "
        f"folds as an ensemble.\n\n{to_markdown(result)}")
    print(to_markdown(result))


if __name__ == "__main__":
    main()
