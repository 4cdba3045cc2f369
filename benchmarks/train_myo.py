"""Per-person training on the Myo armband recordings (issue 3's acceptance run).

Repetitions 0–2 train (validation carved from their tails), repetition 3 tests; CPU; one model
per person. Falls back to the synthetic armband when the real recordings are absent.

    python -m benchmarks.train_myo --models cnn,mkcnn
    # writes benchmarks/results/train_myo.json and train_myo.md
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks.machine import machine_info
from edgekd.data import native
from edgekd.data.synth import SynthConfig, synthesize
from edgekd.train.config import resolve
from edgekd.train.run import train_run

HERE = Path(__file__).parent
DEFAULT_DATA = HERE.parent.parent / "shared/data/myo-armband-7g/PreTrainingDataset"


def data_path(requested: Path, work: Path) -> tuple[Path, str]:
    if requested.exists():
        return requested, "myo-armband-7g (real)"
    synth = work / "synth"
    if not synth.exists():
        native.write_dataset(synthesize(SynthConfig(people=10, sessions=1)), synth)
    return synth, "synthetic armband (real data absent)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--models", default="cnn,mkcnn")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--work", type=Path, default=HERE / "runs")
    ap.add_argument("--name", default="train_myo")
    args = ap.parse_args()
    data, data_name = data_path(args.data, args.work)
    results = {"data": data_name, "protocol": "per person; train reps 0-2 (val = purged tail "
               "20% of each segment), test rep 3; window 52, hop 5; filters: 20 Hz high-pass + "
               "50 Hz notch; CPU", "machine": machine_info(), "models": {}}
    for name in args.models.split(","):
        out = args.work / f"{args.name}-{name}"
        cfg = resolve(overrides={"data.path": str(data), "model": name, "split.test": [3],
                                 "optim.epochs": args.epochs, "device": "cpu"})
        start = time.perf_counter()
        metrics = train_run(cfg, out, resume=(out / "config.yaml").exists())
        results["models"][name] = {
            "role": "student" if name in ("cnn", "lstm", "gru", "cnn_lstm", "tcn") else "teacher",
            "summary": metrics["summary"], "wall_s": round(time.perf_counter() - start, 1),
            "per_person_accuracy": {k: round(v["accuracy"], 4) for k, v in metrics["splits"].items()},
            "command": f"python -m benchmarks.train_myo --models {name} --epochs {args.epochs}"}
        print(name, json.dumps(metrics["summary"]["accuracy"]), flush=True)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"{args.name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (HERE / "results" / f"{args.name}.md").write_text(to_markdown(results))


def to_markdown(results: dict) -> str:
    lines = [f"Data: {results['data']}. {results['protocol']}. Machine: "
             f"{results['machine']['cpu']}, {results['machine']['cores']} cores.", "",
             "| model | role | mean accuracy | sd | macro-F1 | wall time (s) |", "|---|---|---|---|---|---|"]
    for name, r in results["models"].items():
        s = r["summary"]
        lines.append(f"| {name} | {r['role']} | {s['accuracy']['mean']:.4f} | "
                     f"{s['accuracy']['sd']:.4f} | {s['macro_f1']['mean']:.4f} | {r['wall_s']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
