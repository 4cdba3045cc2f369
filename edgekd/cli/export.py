"""``edgekd export``."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated, Callable, Iterator, Optional

import typer
from rich.table import Table

from edgekd.cli.console import console

Opt = typer.Option


def export(
    run_dir: Annotated[Optional[Path], typer.Argument(help="A trained (or distilled) run directory.")] = None,
    format: Annotated[str, Opt("--format", help="onnx | onnx-int8 | onnx-fp16 | tensorrt | c (see --list).")] = "onnx",
    out: Annotated[Optional[Path], Opt(help="Artifact path (default: RUN_DIR/export/<split><suffix>).")] = None,
    split: Annotated[Optional[str], Opt(help="Which split's model, for runs with several (e.g. a person).")] = None,
    data: Annotated[Optional[Path], Opt(help="The run's recordings, if they moved since training.")] = None,
    calib_windows: Annotated[Optional[int], Opt(help="INT8: calibration windows from the training split (default 512).")] = None,
    calib_method: Annotated[Optional[str], Opt(help="INT8 static: minmax | entropy | percentile.")] = None,
    precision: Annotated[Optional[str], Opt(help="tensorrt: fp16 | int8.")] = None,
    symmetric: Annotated[Optional[bool], Opt("--symmetric", help="onnx-int8: symmetric int8 activations (TensorRT-style).")] = None,
    sample_bits: Annotated[Optional[int], Opt(help="c: bits of the ADC samples the device pushes (default 16; samples saturate to it).")] = None,
    sample_scale: Annotated[Optional[float], Opt(help="c: physical units per ADC count, as the training data are in physical units (default 1).")] = None,
    float_filters: Annotated[Optional[bool], Opt("--float-filters", help="c: float32 filters, for a target with an FPU (default: fixed point).")] = None,
    min_agreement: Annotated[Optional[float], Opt(help="Parity: minimum top-1 agreement with the torch checkpoint.")] = None,
    force: Annotated[bool, Opt(help="Write the artifact even when parity fails.")] = False,
    list_formats: Annotated[bool, Opt("--list", help="Print the format table and exit.")] = False,
) -> None:
    """Export a student to a self-describing artifact and check parity with its checkpoint."""
    if list_formats:
        print_formats()
        return
    if run_dir is None:
        raise typer.BadParameter("RUN_DIR is required (or --list)")
    from export.pipeline import ExportRequest, export_run

    req = ExportRequest(run_dir, format, out, split, data, calib_windows, calib_method,
                        precision, symmetric, min_agreement, force, sample_bits=sample_bits,
                        sample_scale=sample_scale, float_filters=float_filters)
    if format == "c":
        from edgekd.cli.export_c import export_c_with_progress
        export_c_with_progress(req)
        return
    with export_progress() as on_step:
        report = export_run(req, on_step=on_step)
    print_report(report)


@contextlib.contextmanager
def export_progress() -> Iterator[Callable[[int, int, str], None]]:
    """A progress bar on stderr whose text is the export step running now."""
    from rich.progress import (BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn,
                               TimeElapsedColumn)

    from edgekd.cli.console import live_progress
    columns = [SpinnerColumn(), TextColumn("[bold]export[/] {task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn()]
    with live_progress(*columns) as bar:   # plain lines when stderr is not a terminal
        task = bar.add_task("export", total=None)

        def on_step(i: int, n: int, description: str) -> None:
            bar.update(task, completed=i - 1, total=n, description=description)
        yield on_step


def print_formats() -> None:
    from export.formats import FORMATS
    table = Table("format", "suffix", "CPU", "GPU", "here", "options")
    for name, fmt in FORMATS.items():
        avail = "yes" if fmt.available() else ("no: needs " + ", ".join(fmt.missing())
                                                if fmt.missing() else "no: needs a GPU")
        table.add_row(name, fmt.suffix, "✓" if fmt.cpu else "-", "✓" if fmt.gpu else "-", avail,
                      ", ".join(sorted(fmt.options)) or "-")
    console.print(table)
    for name, fmt in FORMATS.items():
        console.print(f"  [bold]{name}[/]: {fmt.description}")


def print_report(r: dict) -> None:
    table = Table("parity", "value", title=f"{r['format']} vs the torch checkpoint, on "
                  f"{r['n_windows']} held-out windows of split {r['split']}")
    sc = r.get("self_check", {})
    size = f"{r['size_bytes'] / 1024:.1f} KiB"
    if "model_bytes" in r:
        size += f" (model {r['model_bytes'] / 1024:.1f} KiB: {r['size_ratio_vs_fp32']:.2f}x " \
                f"smaller than fp32 ONNX; self-check {sc.get('bytes', 0) / 1024:.1f} KiB)"
    rows = [("size", size),
            ("max |Δ logit|", f"{r['max_abs_logit_diff']:.3g}"),
            ("top-1 agreement", f"{r['top1_agreement']:.4f} (needs >= {r['min_agreement']})"),
            ("accuracy torch → artifact", f"{r['accuracy_torch']:.4f} → "
                                          f"{r['accuracy_artifact']:.4f} "
                                          f"({r['accuracy_delta'] * 100:+.2f} pp)"),
            ("self-check here", _self_check_line(sc)),
            ("parity", "[green]pass" if r["passed"] else "[red]FAIL")]
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)
    quant = r["quantization"]
    if quant.get("ops"):
        console.print(f"int8 recipe {quant['recipe']}: int8 ops {quant['ops']['int8']}, "
                      f"float ops {quant['ops']['float'] or 'none'}")
    for note in quant.get("notes", []):
        console.print(f"[yellow]note:[/] {note}")
    console.print(f"artifact: {r['artifact'] if r['written'] else '(not written)'}")


def _self_check_line(sc: dict) -> str:
    if sc.get("agreement") is None:
        return sc.get("status", "-")
    mark = "[green]passed" if sc["status"] == "passed" else "[red]FAILED"
    return (f"{mark}[/]: {sc['n_windows']} reference windows, agreement {sc['agreement']:.3f}, "
            f"relative logit error {sc['rel_error']:.4f} (<= {sc['max_rel_error']:.4f}), "
            f"{sc['ms']:.1f} ms")
