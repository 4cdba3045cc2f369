"""Which INT8 recipe holds for every student in the zoo, on this CPU and on any other (issue 13).

Trains every registered student (not the *_tiny ones) per person on the real Myo recordings
(repetitions 0-2 train, 3 tests; the people below), exports each checkpoint to fp32 ONNX and
quantizes it with each recipe, then measures on the held-out windows:

* top-1 agreement with the torch checkpoint **here** (onnxruntime's int8 kernels of this CPU);
* top-1 agreement under the graph's **reference semantics** (onnxruntime with graph
  optimisation off: Q/DQ run as dequantize → float op → quantize), which is what int8 kernels
  that cannot saturate compute (x86 with VNNI, ARM with dot product) — the number a recipe
  gets on such machines;
* accuracy change vs torch (pp), relative logit error, and batch-1 latency through edgekd's
  runtime (probabilities out), the recipes timed interleaved in one process.

Recipes: u8s8-w7 (uint8 activations, 7-bit int8 weights: edgekd's default), u8s8-w8 (8-bit
weights), s8s8-w8 (symmetric int8 activations; ORT's documented first choice), s8s8-w7, u8u8-w8
(uint8 weights: the docs' other remedy for saturation). Weights are per channel for static QDQ
graphs; recurrent graphs use dynamic quantization (per tensor).

    python -m benchmarks.int8_recipes            # writes benchmarks/results/int8_recipes.{json,md}
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import torch

from benchmarks.machine import machine_info
from benchmarks.train_myo import DEFAULT_DATA, data_path
from edgekd.bench.interleaved import load_average, time_interleaved
from edgekd.models import list_models
from edgekd.train.config import resolve
from edgekd.train.run import train_run
from edgekd.train.runs import split_models
from export.isa import int8_isa

HERE = Path(__file__).parent
PEOPLE = "Female0,Female3,Female6,Female9,Male0,Male3,Male6,Male9"
RECIPES = {  # name: quantize_int8 keyword arguments
    "u8s8-w7": {},
    "u8s8-w8": {"full_range_weights": True},
    "s8s8-w8": {"symmetric": True, "full_range_weights": True},
    "s8s8-w7": {"symmetric": True},
    "u8u8-w8": {"unsigned_weights": True, "full_range_weights": True},
}
DEFAULT_RECIPE = "u8s8-w7"


def train(model: str, data: Path, people: list[str], epochs: int, work: Path) -> Path:
    out = work / f"int8_recipes-{model}"
    cfg = resolve(overrides={"data.path": str(data), "model": model, "split.test": [3],
                             "optim.epochs": epochs, "device": "cpu", "data.people": people})
    train_run(cfg, out, resume=(out / "config.yaml").exists())
    return out


def measure_split(run: Path, split: str) -> dict:
    """Every recipe on one person's checkpoint."""
    from export.onnx_export import add_probabilities, attach_metadata, export_onnx
    from export.pipeline import (_calibration_windows, _load_split, graph_semantics_logits,
                                 torch_logits)
    from export.quantize import quantize_int8
    from export.selfcheck import rel_error

    ckpt = split_models(run)[split]
    model, ck, prepared = _load_split(ckpt, split, None)
    x, y = prepared.test.x, prepared.test.y
    ref = torch_logits(model, x)
    rows, predictors = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        fp32 = export_onnx(model, x.shape[1], x.shape[2], tmp / "fp32.onnx")
        calib = _calibration_windows(prepared, 512)
        for name, kwargs in RECIPES.items():
            path = tmp / f"{name}.onnx"
            quant = quantize_int8(fp32, path, calib, "x", **kwargs)
            add_probabilities(path)
            attach_metadata(path, _metadata_text(ck, ckpt, quant))
            predictor = _load(path, tmp)
            here = predictor.logits(x)
            # a dynamic graph's integer ops (MatMulInteger) run this CPU's kernels even with
            # graph optimisation off: it has no saturation-free reference here
            graph = graph_semantics_logits(path, x) if quant["recipe"] != "dynamic" else None
            rows[name] = {"recipe": quant["recipe"],
                          "agreement_here": _agree(here, ref),
                          "agreement_graph": None if graph is None else _agree(graph, ref),
                          "accuracy_delta_pp": 100 * (_acc(here, y) - _acc(ref, y)),
                          "rel_error_here": rel_error(here, ref),
                          "rel_error_graph": None if graph is None else rel_error(graph, ref)}
            predictors[name] = predictor
        one = np.ascontiguousarray(x[:1])
        timed = time_interleaved({n: (lambda p=p: p.predict_windows(one))
                                  for n, p in predictors.items()}, blocks=10, block_calls=100)
    for name in rows:
        rows[name]["p50_us"] = float(np.median(timed["samples"][name]))
    return {"accuracy_torch": _acc(ref, y), "n_test": int(len(y)), "recipes": rows}


def _agree(a: np.ndarray, b: np.ndarray) -> float:
    return float((a.argmax(1) == b.argmax(1)).mean())


def _acc(ref: np.ndarray, y: np.ndarray) -> float:
    return float((ref.argmax(1) == y).mean())


def _metadata_text(ck: dict, ckpt: Path, quant: dict) -> str:
    from export import metadata as md
    from export.formats import FORMATS
    from export.pipeline import _metadata
    return md.encode(_metadata(FORMATS.get("onnx-int8"), ck, ckpt, quant))


def _load(path: Path, tmp: Path):
    from export.runtime import load
    return load(path, cache_dir=tmp / "cache", self_check=False)


def summarize(per_person: dict) -> dict:
    """Per recipe: mean and worst person of each measure."""
    out = {}
    for name in RECIPES:
        rows = [p["recipes"][name] for p in per_person.values()]
        out[name] = {"recipe": rows[0]["recipe"]}
        for k in ("agreement_here", "agreement_graph", "accuracy_delta_pp", "rel_error_here",
                  "rel_error_graph", "p50_us"):
            v = [r[k] for r in rows if r[k] is not None]
            worst = min if ("agreement" in k or "delta" in k) else max
            out[name][k] = {"mean": float(np.mean(v)), "worst": float(worst(v))} if v else None
    return out


def to_markdown(result: dict) -> str:
    isa = result["host_isa"]
    lines = [f"Per person ({len(result['people'])} people), test = repetition 4; this CPU: "
             f"{result['machine']['cpu']}, int8 flags {', '.join(isa['int8_flags']) or 'none'}"
             f" (x86 VNNI: {isa['x86_vnni']}). *here*: this CPU's int8 kernels; *any CPU*: the "
             "graph's reference semantics (what kernels that cannot saturate compute). Mean "
             "(worst person). Recurrent students are quantized dynamically (their LSTM/GRU "
             "cells in int8 or float, see the export notes); their integer ops have no "
             "saturation-free reference here (n/a).", "",
             "| student | recipe | agreement here | agreement, any CPU | accuracy Δ pp | "
             "rel. logit error here | p50 µs |", "|---|---|---|---|---|---|---|"]
    for model, m in result["models"].items():
        for name, s in m["summary"].items():
            tag = f"**{name}** (default)" if name == DEFAULT_RECIPE else name
            g = s["agreement_graph"]
            graph = f"{g['mean']:.4f} ({g['worst']:.4f})" if g else "n/a (dynamic)"
            lines.append(
                f"| {model} | {tag} | {s['agreement_here']['mean']:.4f} "
                f"({s['agreement_here']['worst']:.4f}) | {graph} | "
                f"{s['accuracy_delta_pp']['mean']:+.2f} ({s['accuracy_delta_pp']['worst']:+.2f})"
                f" | {s['rel_error_here']['mean']:.4f} | {s['p50_us']['mean']:.0f} |")
    d = result["default_check"]
    lines += ["", f"Default recipe {DEFAULT_RECIPE}: every student's mean agreement >= 0.99 "
              f"here: {'yes' if d['all_students_mean_ge_0_99'] else 'NO'} (lowest "
              f"{d['worst_mean_agreement_here']:.4f}); every person of every student >= 0.99: "
              f"{'yes' if d['all_students_ge_0_99'] else 'no'} (worst person "
              f"{d['worst_agreement_here']:.4f}, {d['worst_agreement_model']}; on any CPU "
              f"{d['worst_agreement_graph']:.4f}). Load average during the timing "
              f"{result['load_average']}: latencies are indicative only."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--people", default=PEOPLE)
    ap.add_argument("--models", default=",".join(sorted(
        e.name for e in list_models("student") if not e.name.endswith("_tiny"))))
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--work", type=Path, default=HERE / "runs")
    ap.add_argument("--render-only", action="store_true",
                    help="rewrite the markdown (and the default check) from the committed JSON")
    args = ap.parse_args()
    if args.render_only:
        result = json.loads((HERE / "results/int8_recipes.json").read_text())
        result["default_check"] = default_check(result)
        (HERE / "results/int8_recipes.json").write_text(json.dumps(result, indent=2) + "\n")
        (HERE / "results/int8_recipes.md").write_text(to_markdown(result))
        return
    torch.set_num_threads(1)
    data, data_name = data_path(args.data, args.work)
    people = args.people.split(",")
    result = {"data": data_name, "people": people, "epochs": args.epochs,
              "recipes": {k: v for k, v in RECIPES.items()}, "host_isa": int8_isa(),
              "machine": machine_info(), "models": {}}
    for model in args.models.split(","):
        run = train(model, data, people, args.epochs, args.work)
        per_person = {split: measure_split(run, split) for split in sorted(split_models(run))}
        result["models"][model] = {"run": str(run),
                                   "per_person": per_person, "summary": summarize(per_person)}
        print(model, json.dumps({n: round(s["agreement_here"]["worst"], 4) for n, s in
                                 result["models"][model]["summary"].items()}), flush=True)
    result["default_check"] = default_check(result)
    result["load_average"] = load_average()
    result["command"] = "python -m benchmarks.int8_recipes"
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results/int8_recipes.json").write_text(json.dumps(result, indent=2) + "\n")
    (HERE / "results/int8_recipes.md").write_text(to_markdown(result))
    print(json.dumps(result["default_check"], indent=2))


def default_check(result: dict) -> dict:
    worst = {m: r["summary"][DEFAULT_RECIPE] for m, r in result["models"].items()}
    model = min(worst, key=lambda m: worst[m]["agreement_here"]["worst"])
    return {"recipe": DEFAULT_RECIPE,
            "worst_mean_agreement_here": min(w["agreement_here"]["mean"] for w in worst.values()),
            "worst_agreement_here": worst[model]["agreement_here"]["worst"],
            "worst_agreement_model": model,
            "worst_agreement_graph": min(w["agreement_graph"]["worst"] for w in worst.values()
                                         if w["agreement_graph"]),
            "all_students_mean_ge_0_99": all(w["agreement_here"]["mean"] >= 0.99
                                             for w in worst.values()),
            "all_students_ge_0_99": all(w["agreement_here"]["worst"] >= 0.99
                                        for w in worst.values())}


if __name__ == "__main__":
    main()
