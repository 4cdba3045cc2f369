"""Latency, size and accuracy per format for the Myo student and teacher (issue 6's table).

Runs `edgekd bench` on one person's split of the per-person runs made by
``benchmarks/train_myo.py`` (student: cnn; teacher: mkcnn), one thread, pinned to one core.

    python -m benchmarks.bench_myo     # writes benchmarks/results/bench_myo.{json,md,*.png}
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from edgekd.bench.report import accuracy_vs_macs_png, latency_png, markdown
from edgekd.bench.run import BenchOptions, bench

HERE = Path(__file__).parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--student", type=Path, default=HERE / "runs/train_myo-cnn")
    ap.add_argument("--teacher", type=Path, default=HERE / "runs/train_myo-mkcnn")
    ap.add_argument("--split", default="Female0")
    args = ap.parse_args()
    work = HERE / "runs" / "bench_myo"
    shutil.rmtree(work, ignore_errors=True)
    result = bench(BenchOptions([args.student, args.teacher], split=args.split, cores=1,
                                threads=1, runs=1000, warmup=100, work=work))
    student, teacher = ({r["format"]: r for r in e["rows"]} for e in result["entries"])
    headline = {
        "split": args.split,
        "student_int8_p50_us": student["onnx-int8"]["latency_batch1"]["p50_us"],
        "student_torch_fp32_p50_us": student["torch"]["latency_batch1"]["p50_us"],
        "speedup_int8_vs_torch_eager": student["torch"]["latency_batch1"]["p50_us"]
        / student["onnx-int8"]["latency_batch1"]["p50_us"],
        "teacher_torch_fp32_p50_us": teacher["torch"]["latency_batch1"]["p50_us"],
        "teacher_int8_p50_us": teacher["onnx-int8"]["latency_batch1"]["p50_us"],
    }
    for e in result["entries"]:
        e["input"] = str(Path(e["input"]).resolve().relative_to(HERE.parent.resolve()))
        for r in e["rows"]:
            r.pop("latency_us", None)  # raw samples stay out of the committed JSON
            if "artifact" in r:
                r["artifact"] = str(Path(r["artifact"]).resolve().relative_to(
                    HERE.parent.resolve()))
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    latency_png(bench(BenchOptions([args.student], formats=("torch", "onnx", "onnx-int8",
                                                                 "onnx-fp16"), split=args.split,
                                   cores=1, runs=1000, warmup=100, work=work / "png")),
                out / "bench_myo_latency.png")
    accuracy_vs_macs_png(result, out / "bench_myo_accuracy_vs_macs.png")
    result["headline"] = headline
    result["command"] = "python -m benchmarks.bench_myo"
    (out / "bench_myo.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "bench_myo.md").write_text(
        markdown(result) + f"\nINT8 student p50 {headline['student_int8_p50_us']:.0f} µs vs "
        f"PyTorch eager fp32 {headline['student_torch_fp32_p50_us']:.0f} µs: "
        f"{headline['speedup_int8_vs_torch_eager']:.1f}× faster; teacher (PyTorch eager fp32) "
        f"{headline['teacher_torch_fp32_p50_us']:.0f} µs.\n")
    print(json.dumps(headline, indent=2))


if __name__ == "__main__":
    main()
