"""INT8 vs fp32 for the CNN student of every person (issue 5's acceptance run).

Needs the per-person student run of ``benchmarks/train_myo.py`` (``--run``). For each person's
split, exports ``onnx`` and ``onnx-int8`` (edgekd's default recipe: static QDQ, per-channel
7-bit weights, 512 calibration windows from that person's training split) and measures accuracy
and top-1 agreement with the checkpoint on the held-out repetition, and the self-check each
artifact carries, replayed here.

    python -m benchmarks.export_myo --run benchmarks/runs/train_myo-cnn
    # writes benchmarks/results/export_myo.json and export_myo.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from benchmarks.machine import machine_info
from export.isa import int8_isa
from edgekd.train.runs import split_models
from export.pipeline import ExportRequest, export_run

HERE = Path(__file__).parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--run", type=Path, default=HERE / "runs" / "train_myo-cnn")
    ap.add_argument("--out", type=Path, default=HERE / "runs" / "export_myo")
    args = ap.parse_args()
    rows = {}
    for split in sorted(split_models(args.run)):
        row = {}
        for fmt, suffix in (("onnx", ".onnx"), ("onnx-int8", ".int8.onnx")):
            r = export_run(ExportRequest(args.run, fmt, out=args.out / f"{split}{suffix}",
                                         split=split, force=True))
            row[fmt] = {k: r[k] for k in ("accuracy_artifact", "accuracy_torch", "top1_agreement",
                                          "size_bytes", "model_bytes", "max_abs_logit_diff",
                                          "passed")}
            sc = r["self_check"]
            row[fmt]["self_check"] = {k: sc[k] for k in ("status", "agreement", "rel_error",
                                                          "max_rel_error", "graph_rel_error")}
            row[fmt]["recipe"] = {k: r["quantization"].get(k) for k in
                                  ("recipe", "weight_bits", "symmetric_activations")}
        rows[split] = row
        print(split, json.dumps({f: round(v["accuracy_artifact"], 4) for f, v in row.items()}),
              flush=True)
    acc = {f: np.array([r[f]["accuracy_artifact"] for r in rows.values()]) for f in ("onnx", "onnx-int8")}
    size = {f: float(np.mean([r[f]["model_bytes"] for r in rows.values()])) for f in ("onnx", "onnx-int8")}
    agree = np.array([r["onnx-int8"]["top1_agreement"] for r in rows.values()])
    summary = {"people": len(rows), "fp32_accuracy_mean": float(acc["onnx"].mean()),
               "int8_accuracy_mean": float(acc["onnx-int8"].mean()),
               "int8_minus_fp32_pp": float((acc["onnx-int8"] - acc["onnx"]).mean() * 100),
               "worst_person_drop_pp": float((acc["onnx-int8"] - acc["onnx"]).min() * 100),
               "fp32_bytes": size["onnx"], "int8_bytes": size["onnx-int8"],
               "size_ratio": size["onnx"] / size["onnx-int8"],
               "int8_top1_agreement_mean": float(agree.mean()),
               "int8_top1_agreement_worst": float(agree.min()),
               "self_checks_passed": sum(r[f]["self_check"]["status"] == "passed"
                                         for r in rows.values() for f in ("onnx", "onnx-int8")),
               "artifacts": 2 * len(rows), "int8_recipe": next(iter(rows.values()))["onnx-int8"]
               ["recipe"], "self_check_bytes": float(np.mean(
                   [r["onnx-int8"]["size_bytes"] - r["onnx-int8"]["model_bytes"]
                    for r in rows.values()]))}
    result = {"run": str(args.run), "summary": summary, "per_person": rows,
              "machine": machine_info(), "host_isa": int8_isa(),
              "command": f"python -m benchmarks.export_myo --run {args.run}"}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results/export_myo.json").write_text(json.dumps(result, indent=2) + "\n")
    s = summary
    (HERE / "results/export_myo.md").write_text(
        f"| format | mean accuracy ({s['people']} people, rep 4) | mean model size |\n"
        "|---|---|---|\n"
        f"| ONNX fp32 | {s['fp32_accuracy_mean']:.4f} | {s['fp32_bytes'] / 1024:.1f} KiB |\n"
        f"| ONNX INT8 (static QDQ, 7-bit weights) | {s['int8_accuracy_mean']:.4f} | "
        f"{s['int8_bytes'] / 1024:.1f} KiB |\n\n"
        f"INT8 − fp32: {s['int8_minus_fp32_pp']:+.2f} pp (worst person "
        f"{s['worst_person_drop_pp']:+.2f} pp); {s['size_ratio']:.2f}× smaller; top-1 agreement "
        f"with the checkpoint {s['int8_top1_agreement_mean']:.4f} (worst person "
        f"{s['int8_top1_agreement_worst']:.4f}) on {result['machine']['cpu']} (int8 flags: "
        f"{', '.join(result['host_isa']['int8_flags']) or 'none'}). Self-checks replayed at "
        f"load: {s['self_checks_passed']}/{s['artifacts']} passed; each artifact carries "
        f"{s['self_check_bytes'] / 1024:.1f} KiB of reference windows beside the model.\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
