"""Does distillation help on real data? (issue 4's acceptance run)

1. teacher pre-trained across all 22 people (pooled; repetition 3 of everyone held out),
2. fine-tuned per person (--init-from),
3. a compact CNN student distilled per person from its own fine-tuned teacher (Hinton KD),
   vs the same student with --alpha 0 (same init, splits, seeds: a paired comparison),
4. cross-modal: a 4-electrode student (channels 0,2,4,6) distilled from the 8-electrode teacher
   vs the same 4-electrode student without KD.
Every comparison is per person, with win/tie/loss and a Wilcoxon signed-rank p-value.

    python -m benchmarks.distill_myo            # writes benchmarks/results/distill_myo.{json,md}
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks.machine import machine_info
from benchmarks.train_myo import DEFAULT_DATA, data_path
from edgekd.distill.compare import compare_runs, paired_plot, to_markdown
from edgekd.train.config import resolve
from edgekd.train.run import train_run

HERE = Path(__file__).parent


def run(out: Path, **overrides) -> Path:
    cfg = resolve(overrides={"device": "cpu", "split.test": [3], **overrides})
    start = time.perf_counter()
    train_run(cfg, out, resume=(out / "config.yaml").exists())
    print(f"{out.name}: {time.perf_counter() - start:.0f} s", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--teacher", default="mkcnn")
    ap.add_argument("--student", default="cnn")
    ap.add_argument("--teacher-epochs", type=int, default=12)
    ap.add_argument("--student-epochs", type=int, default=30)
    ap.add_argument("--alpha", type=float, default=0.5)
    ap.add_argument("--temperature", type=float, default=4.0)
    ap.add_argument("--work", type=Path, default=HERE / "runs" / "distill_myo")
    args = ap.parse_args()
    data, data_name = data_path(args.data, args.work)
    w, d = args.work, str(data)
    pre = run(w / "teacher-pretrained", **{"data.path": d, "model": args.teacher,
                                           "split.per_person": False,
                                           "optim.epochs": args.teacher_epochs})
    teacher = run(w / "teacher-finetuned", **{"data.path": d, "model": args.teacher,
                                              "init_from": str(pre),
                                              "optim.epochs": args.teacher_epochs,
                                              "optim.lr": 1e-3})
    common = {"data.path": d, "model": args.student, "optim.epochs": args.student_epochs,
              "kd.teachers": [str(teacher)], "kd.temperature": args.temperature}
    no_kd = run(w / "student-nokd", **{**common, "kd.alpha": 0.0})
    kd = run(w / "student-kd", **{**common, "kd.alpha": args.alpha})
    four = {"data.channels": [0, 2, 4, 6]}
    no_kd4 = run(w / "student4-nokd", **{**common, **four, "kd.alpha": 0.0})
    kd4 = run(w / "student4-kd", **{**common, **four, "kd.alpha": args.alpha})
    same = compare_runs([no_kd, kd, teacher])
    cross = compare_runs([no_kd4, kd4, teacher])
    paired_plot(same, HERE / "results" / "distill_myo.png")
    paired_plot(cross, HERE / "results" / "distill_myo_4ch.png")
    result = {"data": data_name, "settings": vars(args) | {"data": d, "work": str(w)},
              "same_modality": same, "cross_channel_8_to_4": cross,
              "machine": machine_info()}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results/distill_myo.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    (HERE / "results/distill_myo.md").write_text(
        f"Data: {data_name}. Teacher {args.teacher} pre-trained across people then fine-tuned per "
        f"person; student {args.student}; Hinton KD alpha={args.alpha}, T={args.temperature}; "
        "test = repetition 4 of each person.\n\n### 8-channel student (runs: no KD, KD, "
        f"teacher)\n\n{to_markdown(same)}\n### 4-channel student distilled from the 8-channel "
        f"teacher (runs: no KD, KD, teacher)\n\n{to_markdown(cross)}")
    print(to_markdown(same))
    print(to_markdown(cross))


if __name__ == "__main__":
    main()
