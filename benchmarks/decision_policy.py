"""Which ``--threshold`` / ``--vote`` defaults ``edgekd stream`` should have, measured (issue 19).

For every person of the per-person student run of ``benchmarks/train_myo.py``, the fp32 ONNX
artifact streams that person's held-out repetition (the run's test part, as one continuous
signal) through the live path's own code (``edgekd.live_model`` → ``StreamingPredictor``: causal
filters, every window of the hop grid, transitions included). Each (threshold, vote) setting of
``firmware_bridge.decision.DecisionPolicy`` is applied to the same probabilities, and the
control metrics of ``edgekd.control_metrics`` are averaged over people.

The default is the setting with the best accuracy when rejections are read as rest (what a
user of a prosthesis gets: a rejected window does nothing) among those that add at most one hop
of median onset latency (from the first sample of a gesture to its first correct decision) to
the fastest setting: users feel controller delay (Farrell & Weir 2007 put the optimum near
100-125 ms), and a vote over K decisions delays every change of gesture. The table shows the
rest (active error, instability, availability, latency) so a user who cares more about wrong
movements than delay can choose otherwise.

    python -m benchmarks.decision_policy --run benchmarks/runs/train_myo-cnn
    # writes benchmarks/results/decision_policy.json and decision_policy.md
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from benchmarks.machine import machine_info

HERE = Path(__file__).parent
THRESHOLDS = [0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
VOTES = [1, 3, 5, 9]
KEYS = ["accuracy_accepted", "accuracy_rejections_as_rest", "rejection_rate",
        "rejection_rate_gesture", "availability", "active_error", "instability",
        "onset_latency_ms_p50", "onsets_missed"]


def held_out_segments(rec, test_reps):
    """(signals, labels) of each contiguous stretch of the test repetitions."""
    idx = np.flatnonzero(np.isin(rec.repetition, test_reps))
    cuts = np.flatnonzero(np.diff(idx) > 1) + 1
    return [(rec.signals[s], rec.labels[s]) for s in np.split(idx, cuts) if len(s)]


def person_probs(artifact: Path, rec, test_reps):
    """Per held-out stretch: (labels, window ends, probabilities [k, classes]) from the live
    path's streaming predictor (a fresh stream per stretch)."""
    from edgekd.live_model import load_stream_model
    model = load_stream_model(artifact, threads=1)
    out = [(labels, *model.new_stream().push(signals))
           for signals, labels in held_out_segments(rec, test_reps)]
    return model, out


def score(model, streams, threshold: float, vote: int) -> dict:
    from edgekd.control_metrics import rest_class, stream_metrics
    from firmware_bridge.decision import DecisionPolicy
    rows = []
    for labels, ends, probs in streams:
        policy = DecisionPolicy(threshold, vote)
        decided = [policy.decide(int(e), p).label for e, p in zip(ends, probs)]
        decided = np.array([-1 if d is None else d for d in decided])
        rows.append(stream_metrics(labels, ends, decided, model.window, model.hop, model.fs,
                                   rest_class(model.label_names)))
    return {k: float(np.mean([r[k] for r in rows if r[k] is not None])) for k in KEYS}


def export_people(run: Path, out: Path) -> dict[str, Path]:
    from edgekd.train.runs import split_models
    from export.pipeline import ExportRequest, export_run
    artifacts = {}
    for split in sorted(split_models(run)):
        path = out / f"{split}.onnx"
        if not path.is_file():
            export_run(ExportRequest(run, "onnx", out=path, split=split, force=True))
        artifacts[split] = path
    return artifacts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--run", type=Path, default=HERE / "runs" / "train_myo-cnn")
    ap.add_argument("--out", type=Path, default=HERE / "runs" / "decision_policy")
    ap.add_argument("--hop-ms", type=float, default=25.0,
                    help="latency allowed over the fastest setting (default: one hop, 5 "
                         "samples at 200 Hz)")
    args = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    import yaml
    from edgekd.data.readers import read_dataset
    cfg = yaml.safe_load((args.run / "config.yaml").read_text())
    test_reps = cfg["split"]["test"]
    dataset = read_dataset(cfg["data"]["path"])
    recs = {r.person: r for r in dataset.of_modality(dataset.primary_modality)}
    per_person = {}
    for person, artifact in export_people(args.run, args.out).items():
        model, streams = person_probs(artifact, recs[person], test_reps)
        per_person[person] = {f"t={t:g},k={k}": score(model, streams, t, k)
                              for t in THRESHOLDS for k in VOTES}
        print(person, json.dumps({s: round(v["accuracy_rejections_as_rest"], 4)
                                  for s, v in per_person[person].items() if s.endswith("k=1")}),
              flush=True)
    write(args, per_person, test_reps)


def write(args, per_person: dict, test_reps) -> None:
    settings = next(iter(per_person.values())).keys()
    mean = {s: {k: float(np.mean([p[s][k] for p in per_person.values()])) for k in KEYS}
            for s in settings}
    hop_ms = args.hop_ms
    fastest = min(m["onset_latency_ms_p50"] for m in mean.values())
    allowed = [s for s in mean if mean[s]["onset_latency_ms_p50"] <= fastest + hop_ms]
    best = max(allowed, key=lambda s: (round(mean[s]["accuracy_rejections_as_rest"], 4),
                                       -mean[s]["onset_latency_ms_p50"]))
    most_accurate = max(mean, key=lambda s: mean[s]["accuracy_rejections_as_rest"])
    t, k = (float(best.split(",")[0][2:]), int(best.split(",")[1][2:]))
    paired = {key: paired_test(per_person, best, "t=0,k=1", key)
              for key in ("accuracy_rejections_as_rest", "instability", "onset_latency_ms_p50")}
    result = {"run": str(args.run), "people": len(per_person), "held_out_repetitions": test_reps,
              "criterion": (f"max accuracy with rejections read as rest among settings whose "
                            f"median onset latency is within one hop ({hop_ms:g} ms) of the "
                            f"fastest ({fastest:.0f} ms)"),
              "chosen": {"threshold": t, "vote": k, **mean[best]},
              "chosen_vs_no_threshold_no_vote": paired,
              "most_accurate_regardless_of_latency": {"setting": most_accurate,
                                                      **mean[most_accurate]},
              "mean_over_people": mean,
              "per_person": per_person, "machine": machine_info(),
              "load_avg_1_5_15": list(os.getloadavg()),
              "command": "python -m benchmarks.decision_policy " + " ".join(sys.argv[1:])}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results/decision_policy.json").write_text(json.dumps(result, indent=2) + "\n")
    (HERE / "results/decision_policy.md").write_text(markdown(result))


def paired_test(per_person: dict, setting: str, baseline: str, key: str) -> dict:
    """Paired over people: mean difference, wins/losses and Wilcoxon signed-rank p."""
    from scipy.stats import wilcoxon
    diff = np.array([p[setting][key] - p[baseline][key] for p in per_person.values()])
    nonzero = diff[diff != 0]
    return {"mean_diff": float(diff.mean()), "higher": int((diff > 0).sum()),
            "lower": int((diff < 0).sum()), "n": len(diff),
            "wilcoxon_p": float(wilcoxon(nonzero).pvalue) if len(nonzero) else 1.0}


def markdown(r: dict) -> str:
    head = ("| threshold | vote | accuracy (accepted) | accuracy (rejections as rest) | "
            "rejected | rejected gestures | availability | active error | instability | "
            "onset → first correct (ms, p50) | onsets missed |\n|" + "---|" * 11 + "\n")
    rows = ""
    for s, m in r["mean_over_people"].items():
        t, k = s.split(",")
        if k[2:] in ("1", "5") or t[2:] in ("0", "0.9"):
            rows += (f"| {t[2:]} | {k[2:]} | {m['accuracy_accepted']:.4f} | "
                     f"{m['accuracy_rejections_as_rest']:.4f} | {m['rejection_rate']:.3f} | "
                     f"{m['rejection_rate_gesture']:.3f} | {m['availability']:.3f} | "
                     f"{m['active_error']:.4f} | {m['instability']:.4f} | "
                     f"{m['onset_latency_ms_p50']:.0f} | {m['onsets_missed']:.2f} |\n")
    c, a = r["chosen"], r["most_accurate_regardless_of_latency"]
    return (f"Chosen: --threshold {c['threshold']:g} --vote {c['vote']} ({r['criterion']}); "
            f"means over {r['people']} people, held-out repetition(s) "
            f"{[x + 1 for x in r['held_out_repetitions']]} streamed through the live path. "
            f"Most accurate regardless of latency: {a['setting']} "
            f"({a['accuracy_rejections_as_rest']:.4f} vs {c['accuracy_rejections_as_rest']:.4f}, "
            f"onset latency {a['onset_latency_ms_p50']:.0f} vs "
            f"{c['onset_latency_ms_p50']:.0f} ms).\n\n" + _paired_line(r) + head + rows)


def _paired_line(r: dict) -> str:
    c = r["chosen"]
    if (c["threshold"], c["vote"]) == (0.0, 1):
        return ""
    parts = [f"{key} {v['mean_diff']:+.4g} (higher for {v['higher']}, lower for {v['lower']} "
             f"of {v['n']} people, Wilcoxon p = {v['wilcoxon_p']:.2g})"
             for key, v in r["chosen_vs_no_threshold_no_vote"].items()]
    return "Chosen vs --threshold 0 --vote 1, paired over people: " + "; ".join(parts) + ".\n\n"


if __name__ == "__main__":
    main()
