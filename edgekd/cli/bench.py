"""``edgekd bench``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from edgekd.cli.console import console, err_console

Opt = typer.Option


def bench(
    inputs: Annotated[list[Path], typer.Argument(help="Run directories and/or exported artifacts.")],
    formats: Annotated[str, Opt(help="For run directories: torch,onnx,onnx-int8,onnx-fp16[,tensorrt].")] = "torch,onnx,onnx-int8,onnx-fp16",
    data: Annotated[Optional[Path], Opt(help="Recordings: for artifacts (all windows), or if a run's data moved.")] = None,
    split: Annotated[Optional[str], Opt(help="Which split of a run (default: the first).")] = None,
    batch: Annotated[int, Opt(help="Batch size N for the throughput measurement.")] = 64,
    threads: Annotated[int, Opt(help="Intra-op threads for torch and onnxruntime.")] = 1,
    cores: Annotated[Optional[int], Opt(help="Pin the process to this many cores (a small edge CPU).")] = None,
    warmup: Annotated[int, Opt(help="Warm-up calls before timing.")] = 50,
    runs: Annotated[int, Opt(help="Timed batch-1 calls.")] = 500,
    floor: Annotated[Optional[float], Opt(help="Exit 1 when any accuracy is below this, or any format failed.")] = None,
    out: Annotated[Path, Opt(help="Folder for bench.json, bench.md, the PNGs and exported artifacts.")] = Path("bench"),
    json_out: Annotated[Optional[Path], Opt("--results-json", help="Also write the results JSON here (it is always in OUT/bench.json).")] = None,
    device: Annotated[str, Opt(help="cpu, or cuda: torch on the GPU and onnxruntime's CUDA provider (onnxruntime-gpu); latency includes the host<->device copies.")] = "cpu",
    self_check: Annotated[bool, Opt("--self-check/--no-self-check", help="Replay each artifact's reference windows at load; a refused artifact is measured but marked failed.")] = True,
) -> None:
    """Latency, MACs, size and accuracy per format, with an ultralytics-style table."""
    from edgekd.atomic import write_json_atomic, write_text_atomic
    from edgekd.bench.report import accuracy_vs_macs_png, latency_png, markdown
    from edgekd.bench.run import BenchOptions
    from edgekd.bench.run import bench as run_bench
    from edgekd.profiling import MAC_CONVENTION

    fmts = tuple(f.strip() for f in formats.split(",") if f.strip())
    opts = BenchOptions(inputs, fmts, data, split, batch, threads, cores, warmup, runs, floor,
                        out / "artifacts", device=device, self_check=self_check)
    total = sum(len(fmts) if Path(p).is_dir() else 1 for p in inputs)
    from edgekd.cli.console import progress
    with progress("benchmarking", total) as advance:
        result = run_bench(opts, on_row=lambda e, r: advance())
    result["mac_convention"] = MAC_CONVENTION
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "bench.json", result)
    if json_out:
        write_json_atomic(json_out, result)
    write_text_atomic(out / "bench.md", markdown(result))
    figures = [p for p in (accuracy_vs_macs_png(result, out / "accuracy_vs_macs.png"),
                           latency_png(result, out / "latency.png")) if p]
    console.print(markdown(result))
    console.print(f"wrote {out / 'bench.json'}, {out / 'bench.md'}, "
                  + ", ".join(str(f) for f in figures))
    if result["floor_failures"]:
        for line in result["floor_failures"]:
            err_console.print(f"[red]below floor:[/] {line}", soft_wrap=True)
        raise typer.Exit(1)
