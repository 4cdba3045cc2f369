"""What the KD literature suggests, tried on the Myo people (issue 4, second part): after
``benchmarks/distill_myo.py`` (which trained the teachers and the no-KD baseline), distill the
same student with other temperatures, alpha, DKD, logit-standardised KD and a feature hint, and
compare each with the same no-KD baseline (paired, Wilcoxon). The 4-electrode student, whose
8-electrode teacher is clearly stronger, gets its own variants, each against a 4-electrode
no-KD baseline trained the same way (with augmentation where the variant has it).

    python -m benchmarks.distill_sweep   # writes benchmarks/results/distill_sweep.{json,md}

Finished variants resume instantly (their run directories are reused).
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.distill_myo import run
from benchmarks.machine import machine_info
from edgekd.distill.compare import compare_runs

HERE = Path(__file__).parent
VARIANTS = {
    "hinton-T2-a0.5": {"kd.temperature": 2.0, "kd.alpha": 0.5},
    "hinton-T8-a0.9": {"kd.temperature": 8.0, "kd.alpha": 0.9},
    "dkd-T4": {"kd.loss": "dkd", "kd.temperature": 4.0, "kd.alpha": 0.5},
    "lskd-T2": {"kd.loss": "lskd", "kd.temperature": 2.0, "kd.alpha": 0.5},
    "hinton+hint": {"kd.temperature": 4.0, "kd.alpha": 0.5, "kd.feature_student": "features.1",
                    "kd.feature_teacher": "trunk.1", "kd.feature_weight": 0.5},
    # deep mutual learning (Zhang et al. 2018): two CNNs trained together, no pre-trained teacher
    "online-dml-cnn": {"kd.mode": "online", "kd.teacher_model": "cnn", "kd.teachers": [],
                       "kd.temperature": 1.0, "kd.alpha": 0.5},
}


FOUR = {"data.channels": [0, 2, 4, 6]}
AUG = {"augment.amplitude": 0.15, "augment.noise": 0.05}
# name -> (baseline run, overrides); a baseline named here is trained by this sweep first
VARIANTS_4CH = {
    "4ch-nokd-aug": (None, {**FOUR, **AUG, "kd.alpha": 0.0}),
    "4ch-hinton-aug": ("sweep-4ch-nokd-aug", {**FOUR, **AUG, "kd.temperature": 4.0,
                                              "kd.alpha": 0.5}),
    "4ch-hinton-T2-a0.9": ("student4-nokd", {**FOUR, "kd.temperature": 2.0, "kd.alpha": 0.9}),
    # the teacher is ~100 % right on training windows and its T=4 targets nearly one-hot
    # (benchmarks/kd_diagnostics.py): a much higher temperature exposes more of its ranking
    "4ch-hinton-T16-a0.9": ("student4-nokd", {**FOUR, "kd.temperature": 16.0, "kd.alpha": 0.9}),
}


def main() -> None:
    work = HERE / "runs" / "distill_myo"
    base = json.loads((HERE / "results" / "distill_myo.json").read_text())
    data = base["settings"]["data"]
    teacher = work / "teacher-finetuned"
    plan = {name: ("student-nokd", over) for name, over in VARIANTS.items()}
    plan.update(VARIANTS_4CH)
    rows = {}
    for name, (baseline, over) in plan.items():
        out = run(work / f"sweep-{name}", **{"data.path": data, "model": "cnn",
                                             "optim.epochs": 30, "kd.teachers": [str(teacher)],
                                             **over})
        if baseline is None:
            continue
        result = compare_runs([work / baseline, out])
        rows[name] = {"settings": over, "baseline": baseline, "mean": result["mean"][1],
                      "baseline_mean": result["mean"][0], **result["versus_baseline"][0]}
        print(name, json.dumps(rows[name]), flush=True)
    (HERE / "results/distill_sweep.json").write_text(json.dumps(
        {"variants": rows, "machine": machine_info(),
         "command": "python -m benchmarks.distill_sweep"}, indent=2) + "\n")
    lines = ["| variant | baseline (no KD) | mean accuracy | vs baseline | win/tie/loss | "
             "Wilcoxon p (n) |", "|---|---|---|---|---|---|"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['baseline']} | {r['mean']:.4f} | "
                     f"{r['mean_diff'] * 100:+.2f} pp | "
                     f"{r['wins']}/{r['ties']}/{r['losses']} | {r['wilcoxon_p']:.3g} ({r['n']}) |")
    (HERE / "results/distill_sweep.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
