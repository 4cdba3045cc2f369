"""Latency, size and accuracy per format for the Myo student and teacher (issue 6's table).

Runs `edgekd bench` on one person's split of the per-person runs made by
``benchmarks/train_myo.py`` (student: cnn; teacher: mkcnn), one thread, pinned to one core,
repeated 5 times (medians reported: single runs on a shared machine vary by up to 2x).

    python -m benchmarks.bench_myo     # writes benchmarks/results/bench_myo.{json,md,*.png}
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
from pathlib import Path

import numpy as np

from edgekd.bench.report import accuracy_vs_macs_png, latency_png, markdown
from edgekd.bench.run import BenchOptions, bench

HERE = Path(__file__).parent


def median_over_repeats(results: list[dict]) -> dict:
    """The first result with every row's latency and throughput replaced by the median over the
    repeats, and the p50 range kept beside it: on a shared machine one run's p50 can move by
    2x (two runs of this script gave 161 and 305 µs for the same torch row)."""
    merged = copy.deepcopy(results[0])
    for e, entry in enumerate(merged["entries"]):
        for r, row in enumerate(entry["rows"]):
            runs = [res["entries"][e]["rows"][r] for res in results]
            for key in ("latency_batch1", "latency_batchN"):
                for stat in ("p50_us", "p95_us", "p99_us", "mean_us", "windows_per_s"):
                    row[key][stat] = float(np.median([run[key][stat] for run in runs]))
            row["p50_us_per_repeat"] = [run["latency_batch1"]["p50_us"] for run in runs]
    merged["repeats"] = len(results)
    return merged


def headline_of(result: dict, split: str) -> dict:
    student, teacher = ({r["format"]: r for r in e["rows"]} for e in result["entries"])
    return {
        "split": split, "repeats": result["repeats"],
        "student_int8_p50_us": student["onnx-int8"]["latency_batch1"]["p50_us"],
        "student_torch_fp32_p50_us": student["torch"]["latency_batch1"]["p50_us"],
        "speedup_int8_vs_torch_eager": student["torch"]["latency_batch1"]["p50_us"]
        / student["onnx-int8"]["latency_batch1"]["p50_us"],
        "speedup_per_repeat": [t / i for t, i in zip(student["torch"]["p50_us_per_repeat"],
                                                     student["onnx-int8"]["p50_us_per_repeat"])],
        "teacher_torch_fp32_p50_us": teacher["torch"]["latency_batch1"]["p50_us"],
        "teacher_int8_p50_us": teacher["onnx-int8"]["latency_batch1"]["p50_us"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--student", type=Path, default=HERE / "runs/train_myo-cnn")
    ap.add_argument("--teacher", type=Path, default=HERE / "runs/train_myo-mkcnn")
    ap.add_argument("--split", default="Female0")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    work = HERE / "runs" / "bench_myo"
    shutil.rmtree(work, ignore_errors=True)
    results = []
    for i in range(args.repeats):
        results.append(bench(BenchOptions([args.student, args.teacher], split=args.split,
                                          cores=1, threads=1, runs=1000, warmup=100,
                                          work=work / str(i))))
        print(f"repeat {i + 1}/{args.repeats} done", flush=True)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    # the latency distributions of one repeat (the raw samples stay out of the JSON)
    latency_png({"entries": results[-1]["entries"][:1]}, out / "bench_myo_latency.png")
    result = median_over_repeats(results)
    headline = headline_of(result, args.split)
    for e in result["entries"]:
        e["input"] = str(Path(e["input"]).resolve().relative_to(HERE.parent.resolve()))
        for r in e["rows"]:
            r.pop("latency_us", None)
            if "artifact" in r:
                r["artifact"] = str(Path(r["artifact"]).resolve().relative_to(
                    HERE.parent.resolve()))
    accuracy_vs_macs_png(result, out / "bench_myo_accuracy_vs_macs.png")
    result["headline"] = headline
    result["command"] = "python -m benchmarks.bench_myo"
    (out / "bench_myo.json").write_text(json.dumps(result, indent=2) + "\n")
    speedups = headline["speedup_per_repeat"]
    (out / "bench_myo.md").write_text(
        markdown(result) + f"\nLatencies are medians over {args.repeats} repeats of the whole "
        f"benchmark. INT8 student p50 {headline['student_int8_p50_us']:.0f} µs vs PyTorch eager "
        f"fp32 {headline['student_torch_fp32_p50_us']:.0f} µs: "
        f"{headline['speedup_int8_vs_torch_eager']:.1f}× faster (per repeat "
        f"{min(speedups):.1f}–{max(speedups):.1f}×); teacher (PyTorch eager fp32) "
        f"{headline['teacher_torch_fp32_p50_us']:.0f} µs.\n")
    print(json.dumps(headline, indent=2))


if __name__ == "__main__":
    main()
